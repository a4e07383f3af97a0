import t from 'tap';
import canonicalize from 'canonicalize';
import { canonicalJson, contentDigest } from '../src/schemas/canonical.js';
import { PUBLISHED_EXAMPLES } from '../src/schemas/spec/examples.js';

t.test('agrees with the canonicalize package (RFC 8785) on every published example', async (t) => {
  for (const ex of PUBLISHED_EXAMPLES) t.equal(canonicalJson(ex.document), canonicalize(ex.document), ex.name);
});

t.test('RFC 8785 details: key order by UTF-16 code units, numbers, escapes, undefined', async (t) => {
  const cases: unknown[] = [
    { b: 1, a: 2, A: 3, '€': 4, '\u0080': 5, '\ud83d\ude00': 6, 'ﬀ': 7 },
    [1e21, 1e-7, 0.1, -0, 100, 1.5e300, 123456789012345680000],
    { s: 'tab\there "quote" \\ \u0001 \u2028 中文 𠀀' },
    { nested: [{ z: [], y: {} }, null, true, false] },
    { skipped: undefined, kept: null },
    [undefined, 1],
  ];
  cases.forEach((c, i) => t.equal(canonicalJson(c), canonicalize(c), `case ${i}`));
  t.equal(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }), '{"a":[2,{"c":4,"d":3}],"b":1}');
  t.throws(() => canonicalJson({ n: Infinity }), TypeError);
});

t.test('the same content gives the same digest whatever the key order', async (t) => {
  t.equal(contentDigest({ a: 1, b: [1, 2] }), contentDigest({ b: [1, 2], a: 1 }));
  t.not(contentDigest({ a: 1 }), contentDigest({ a: 2 }));
  t.match(contentDigest({ a: 1 }, 'sm3'), /^[0-9a-f]{64}$/);
});
