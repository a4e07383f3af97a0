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

t.test('every path (in order, reordered copy, the general writer) agrees with the package', async (t) => {
  // A deterministic generator of JSON-like values, with the shapes each path must hand on:
  // integer-like keys, __proto__ as a plain key, toJSON, undefined and functions, nesting.
  let seed = 42;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const KEYS = ['a', 'b', 'Z', 'caseNo', 'é', '中', '10', '9', '0', '', 'a\u0000', '\ud83d\ude00'];
  const value = (depth: number): unknown => {
    switch (rand(depth > 3 ? 5 : 8)) {
      case 0: return rand(2) === 0 ? 'text "q" \\ \u2028' : '受理';
      case 1: return [0, -0, 1.5, 1e21, -7, 0.1][rand(6)];
      case 2: return rand(2) === 0;
      case 3: return null;
      case 4: return rand(3) === 0 ? undefined : 'x';
      case 5: return Array.from({ length: rand(4) }, () => value(depth + 1));
      case 6: return rand(6) === 0 ? new Date(Date.UTC(2026, 10, 24)) : Object.fromEntries(Array.from({ length: rand(6) }, () => [KEYS[rand(KEYS.length)]!, value(depth + 1)]));
      default: {
        const o: Record<string, unknown> = {};
        for (const k of [...KEYS].sort().slice(0, rand(KEYS.length))) if (rand(2) === 0) o[k] = value(depth + 1);
        return o;
      }
    }
  };
  let checked = 0;
  for (let i = 0; i < 3000; i++) {
    const v = value(0);
    if (v === undefined) continue;
    t.equal(canonicalJson(v), canonicalize(v), `value ${i}`, { diagnostic: false });
    checked++;
  }
  const proto = JSON.parse('{"b":1,"__proto__":{"x":1},"a":2}') as unknown;
  t.equal(canonicalJson(proto), canonicalize(proto), '__proto__ stays a plain key');
  t.equal(canonicalJson({ b: 1, a: () => 1 }), '{"b":1}', 'a function property is left out, as by JSON.stringify');
  t.equal(canonicalJson([() => 1, undefined]), '[null,null]');
  t.throws(() => canonicalJson({ a: 1n }), TypeError);
  t.throws(() => canonicalJson({ b: { a: NaN } }), TypeError);
  t.ok(checked > 2000);
});

t.test('remembered key orders never leak from one object shape into another', async (t) => {
  const check = (value: unknown, name: string) => t.equal(canonicalJson(value), canonicalize(value), name);
  // The same first key and length, different keys: each must be sorted on its own.
  check({ m: 1, b: 2, a: 3 }, 'first shape');
  check({ m: 1, c: 2, a: 3 }, 'same first key and length, another key');
  check({ m: 1, b: 2, a: 3 }, 'first shape again, from the cache');
  check({ m: 1, a: 3, b: 2 }, 'same keys in another insertion order');
  check({ m: 1, b: 2 }, 'a prefix of a remembered shape');
  // Past the bounds: more first keys than are kept (the cache is cleared), more keys than are kept.
  for (let i = 0; i < 600; i++) {
    const o: Record<string, number> = {};
    o[`k${i}`] = i;
    o['z'] = 0;
    o['a'] = 1;
    check(o, `shape ${i}`);
  }
  const wide: Record<string, number> = {};
  for (let i = 99; i >= 0; i--) wide[`w${String(i).padStart(3, '0')}`] = i;
  check(wide, 'an object with 100 keys, twice');
  check(wide, 'an object with 100 keys, twice');
});
