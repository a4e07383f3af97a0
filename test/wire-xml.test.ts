import { readFileSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import t from 'tap';
import { checkXml, parseXmlSafe, type XmlResult } from '../src/schemas/wire/xml.js';
import { random } from './helpers/random.js';

const parse = (text: string, maxDepth = 32): XmlResult => parseXmlSafe(text, { maxDepth });
const code = (r: XmlResult): string => (r.ok ? 'OK' : r.finding.code);
const record = readFileSync(new URL('./fixtures/wire/case-record.xml', import.meta.url), 'utf8');


t.test('a case record parses to a tree of strings', async (t) => {
  const r = parse(record);
  if (!r.ok) throw new Error(r.finding.message.en);
  t.equal(r.root, 'case');
  const v = r.value as Record<string, unknown>;
  t.equal(v['caseNo'], '330106-2026-0000123456');
  t.equal(v['applicantIdType'], '049', 'leading zeros kept');
  t.equal(v['contactIdNo'], '110101199003077777', 'an 18-digit number stays a string');
  t.equal(v['address'], '浙江省杭州市西湖区文三路 478 号 1 楼', 'inner spaces kept');
  const steps = v['steps'] as Record<string, unknown>;
  t.ok(Array.isArray(steps['step']) && (steps['step'] as unknown[]).length === 4, 'repeated elements become an array');
  t.same((steps['step'] as Array<Record<string, unknown>>)[0], {
    seq: '1', stepName: '受理', stepType: '1', stepResult: '1', handlerName: '李四', endTime: '2026-03-15T09:30:00+08:00', opinion: '材料齐全，予以受理。',
  });
  for (const value of Object.values(v)) t.ok(typeof value === 'string' || typeof value === 'object');
});

t.test('output shape decisions', async (t) => {
  const shape = (xml: string): unknown => {
    const r = parse(xml);
    if (!r.ok) throw new Error(`${xml}: ${r.finding.message.en}`);
    return r.value;
  };
  t.same(shape('<r><a>0012</a><b>1e3</b><c> true </c><d>-0</d><e>0x1F</e></r>'), { a: '0012', b: '1e3', c: 'true', d: '-0', e: '0x1F' }, 'values are never typed');
  t.same(shape('<r><a>  x  y  </a><b>\n  </b><c/><d></d></r>'), { a: 'x  y', b: '', c: '', d: '' }, 'trimmed at the ends, inner whitespace kept, empty is ""');
  t.same(shape('<r><a>x</a></r>'), { a: 'x' }, 'a single element is not an array');
  t.same(shape('<r><a>x</a><b/><a>y</a></r>'), { a: ['x', 'y'], b: '' }, 'repeated elements become an array in document order');
  t.same(shape('<r id="7" kind=\'a b\'><a n="1">x</a><b n="2"/></r>'), { '@_id': '7', '@_kind': 'a b', a: { '#text': 'x', '@_n': '1' }, b: { '@_n': '2' } }, 'attributes under @_');
  t.same(shape('<r xmlns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ns:a xsi:nil="true"/></r>'), {
    '@_xmlns': 'urn:x', '@_xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'ns:a': { '@_xsi:nil': 'true' },
  }, 'namespace prefixes kept as written');
  t.same(shape('<r><a>&#20013;&#25991;</a><b>&#x4E2D;&#x6587;</b><c k="&#20013;"/></r>'), { a: '中文', b: '中文', c: { '@_k': '中' } }, 'T13: numeric references');
  t.same(shape('<r>&lt;&gt;&amp;&apos;&quot;</r>'), '<>&\'"', 'the five XML entities');
  t.same(shape('<r>&amp;lt;&amp;#20013;</r>'), '&lt;&#20013;', 'no double decoding');
  t.same(shape('<r>&#x1F600;&#128512;</r>'), '😀😀');
  t.same(shape('<r><![CDATA[ <not a tag> & ]]></r>'), ' <not a tag> & ', 'CDATA is text, not trimmed');
  t.same(shape('<r>12<!-- note -->34</r>'), '1234', 'comments are dropped');
  t.same(shape('<r>a\r\nb\rc</r>'), 'a\nb\nc', 'line ends normalised');
  t.same(shape('<姓名 类别="个人">张三</姓名>'), { '#text': '张三', '@_类别': '个人' }, 'Chinese names');
  t.same(shape('<r><toString>1</toString><hasOwnProperty>2</hasOwnProperty><valueOf/></r>'), { toString: '1', hasOwnProperty: '2', valueOf: '' }, 'names kept as written');
  t.same(shape('<?xml version="1.0" encoding="GBK" standalone="yes"?>\n<!-- c -->\n<r>x</r>\n<!-- d -->\n'), 'x');
  t.same(shape("<?xml version='1.0'?><r/>"), '');
  t.same(shape('\uFEFF<r>x</r>'), 'x', 'a leading BOM character is ignored');
  t.same(shape('<r>\u3000张三\u3000</r>'), '张三', 'trim includes U+3000 (String.prototype.trim)');
});

t.test('T12: 1,000 code-table values with leading zeros survive exactly', async (t) => {
  const codes = Array.from({ length: 1000 }, (_, i) => String(i * 7).padStart(6, '0') + (i % 3 === 0 ? 'e3' : ''));
  const xml = `<codes>${codes.map((c) => `<code>${c}</code>`).join('')}</codes>`;
  const r = parse(xml);
  t.ok(r.ok);
  if (r.ok) t.same((r.value as Record<string, unknown>)['code'], codes);
});

t.test('malformed XML is rejected with line and column', async (t) => {
  const cases: Array<[string, string, number, number]> = [
    ['<r><a></r>', 'GOVGATE_XML_SYNTAX', 1, 7],
    ['<r>\n  <a>\n</r>', 'GOVGATE_XML_SYNTAX', 3, 1],
    ['<r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r/><s/>', 'GOVGATE_XML_SYNTAX', 1, 5],
    ['<r/>x', 'GOVGATE_XML_SYNTAX', 1, 5],
    ['x<r/>', 'GOVGATE_XML_SYNTAX', 1, 1],
    ['</r>', 'GOVGATE_XML_SYNTAX', 1, 1],
    ['', 'GOVGATE_XML_SYNTAX', 1, 1],
    ['<?xml version="1.0"?>', 'GOVGATE_XML_SYNTAX', 1, 22],
    [' <?xml version="1.0"?><r/>', 'GOVGATE_XML_SYNTAX', 1, 2],
    ['<?xml version="1.1"?><r/>', 'GOVGATE_XML_SYNTAX', 1, 1],
    ['<?xml encoding="utf-8"?><r/>', 'GOVGATE_XML_SYNTAX', 1, 1],
    ['<r a="1" a="2"/>', 'GOVGATE_XML_SYNTAX', 1, 10],
    ['<r a=1/>', 'GOVGATE_XML_SYNTAX', 1, 6],
    ['<r a="<"/>', 'GOVGATE_XML_SYNTAX', 1, 7],
    ['<r a="x"b="y"/>', 'GOVGATE_XML_SYNTAX', 1, 9],
    ['<r a/>', 'GOVGATE_XML_SYNTAX', 1, 5],
    ['<1r/>', 'GOVGATE_XML_SYNTAX', 1, 2],
    ['<r></ r>', 'GOVGATE_XML_SYNTAX', 1, 6],
    ['<r>a & b</r>', 'GOVGATE_XML_SYNTAX', 1, 6],
    ['<r>&nbsp;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&foo;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#9999999;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#xD800;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#xFFFE;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#1;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#x;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#12</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>&#X41;</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>a]]>b</r>', 'GOVGATE_XML_SYNTAX', 1, 5],
    ['<r>\u0001</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>\uFFFF</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r>\uD800x</r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r><!-- a -- b --></r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r><!-- a </r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r><![CDATA[ x </r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<![CDATA[x]]><r/>', 'GOVGATE_XML_SYNTAX', 1, 1],
    ['<r><!ELEMENT r ANY></r>', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r a="x', 'GOVGATE_XML_SYNTAX', 1, 4],
    ['<r', 'GOVGATE_XML_SYNTAX', 1, 3],
  ];
  for (const [xml, expected, line, column] of cases) {
    const r = parse(xml);
    t.match(r, { ok: false, finding: { code: expected, line, column } }, JSON.stringify(xml));
    if (!r.ok) t.notMatch(r.finding.message.en, /\{\w+\}/, 'placeholders filled');
  }
  t.match(parse('<r><a></r>'), {
    finding: { expected: '</a>', found: '</r>', message: { en: 'malformed XML at line 1, column 7: expected the end tag </a>, found </r>', zh: 'XML 格式错误（第 1 行第 7 列）：结束标签应为 </a>，实际为 </r>' } },
  });
});

t.test('DOCTYPE and ENTITY are refused anywhere, in any case', async (t) => {
  for (const xml of [
    '<!DOCTYPE r><r/>',
    '<?xml version="1.0"?>\n<!doctype r [<!entity a "b">]><r>&a;</r>',
    '<r><!-- <!ENTITY x "y"> --></r>',
    '<r><![CDATA[<!DocType>]]></r>',
    '<r>&lt;!DOCTYPE is fine as text</r><!DOCTYPE r>',
  ]) {
    t.equal(code(parse(xml)), 'GOVGATE_XML_DOCTYPE_FORBIDDEN', JSON.stringify(xml));
  }
  t.match(parse('<?xml version="1.0"?>\n  <!DOCTYPE r>'), { ok: false, finding: { line: 2, column: 3 } });
  t.equal(code(parse('<r>&lt;!DOCTYPE is fine as text</r>')), 'OK', 'escaped text is not a declaration');
});

t.test('processing instructions other than the declaration are refused', async (t) => {
  t.match(parse('<?xml-stylesheet href="a"?><r/>'), { ok: false, finding: { code: 'GOVGATE_XML_UNEXPECTED_CONTENT', path: '' } });
  t.match(parse('<r><a><?php echo 1 ?></a></r>'), { ok: false, finding: { code: 'GOVGATE_XML_UNEXPECTED_CONTENT', path: '/r/a' } });
  t.match(parse('<r/><?pi?>'), { ok: false, finding: { code: 'GOVGATE_XML_UNEXPECTED_CONTENT' } });
  t.match(parse('<r><?xml version="1.0"?></r>'), { ok: false, finding: { code: 'GOVGATE_XML_SYNTAX' } });
});

t.test('prototype-polluting names are forbidden as elements and attributes', async (t) => {
  const cases: Array<[string, string, string]> = [
    ['<__proto__><polluted>1</polluted></__proto__>', '', '__proto__'],
    ['<r><constructor><prototype>1</prototype></constructor></r>', '/r', 'constructor'],
    ['<r><a><prototype/></a></r>', '/r/a', 'prototype'],
    ['<r __proto__="x"/>', '/r', '__proto__'],
    ['<r><a constructor="x"/></r>', '/r/a', 'constructor'],
    ['<r><x:__proto__/></r>', '/r', 'x:__proto__'],
    ['<r><a y:prototype="1"/></r>', '/r/a', 'y:prototype'],
  ];
  for (const [xml, path, key] of cases) {
    t.match(parse(xml), { ok: false, finding: { code: 'GOVGATE_FORBIDDEN_KEY', path, message: { en: new RegExp(`"${key}"`) } } }, xml);
  }
  t.equal(code(parse('<r><__proto__x/><Constructor/><prototypes/><a:b/></r>')), 'OK', 'similar names are fine');
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('mixed content is refused; whitespace between elements is not content', async (t) => {
  for (const xml of ['<r>text<a/></r>', '<r><a/>text</r>', '<r><a/><![CDATA[x]]></r>', '<r><![CDATA[ ]]><a/></r>', '<r>&#32;<a/></r>', '<r><a>1</a>\u3000<b/></r>']) {
    t.match(parse(xml), { ok: false, finding: { code: 'GOVGATE_XML_UNEXPECTED_CONTENT', path: '/r' } }, JSON.stringify(xml));
  }
  t.match(parse('<record><caseNo>A1<x/></caseNo></record>'), {
    ok: false,
    finding: { path: '/record/caseNo', message: { en: 'unexpected content in the XML element /record/caseNo: the element mixes text with child elements' } },
  });
  t.equal(code(parse('<r>\n  <a/>\n\t<b>x</b>\r\n  <!-- c -->\n</r>')), 'OK');
  t.equal(code(parse('<r><![CDATA[]]><a/></r>')), 'OK', 'an empty CDATA section is nothing');
});

t.test('NUL is a finding of its own', async (t) => {
  t.match(parse('<r><a>x\u0000</a></r>'), { ok: false, finding: { code: 'GOVGATE_NUL_CHARACTER', path: '/r/a', line: 1, column: 8 } });
  t.match(parse('<r><a>&#0;</a></r>'), { ok: false, finding: { code: 'GOVGATE_NUL_CHARACTER', path: '/r/a' } });
  t.match(parse('<r><a>&#x0000;</a></r>'), { ok: false, finding: { code: 'GOVGATE_NUL_CHARACTER' } });
  t.match(parse('<r a="&#0;"/>'), { ok: false, finding: { code: 'GOVGATE_NUL_CHARACTER', path: '/r' } });
});

t.test('nesting is limited', async (t) => {
  t.equal(code(parse('<a><b><c/></b></a>', 3)), 'OK');
  t.match(parse('<a><b><c><d/></c></b></a>', 3), { ok: false, finding: { code: 'GOVGATE_DEPTH_EXCEEDED', path: '/a/b/c/d', line: 1, column: 10 } });
  const started = performance.now();
  t.equal(code(parse('<a>'.repeat(100000))), 'GOVGATE_DEPTH_EXCEEDED');
  t.equal(code(parse(`${'<a>'.repeat(10000)}${'</a>'.repeat(10000)}`)), 'GOVGATE_DEPTH_EXCEEDED');
  t.comment(`${(performance.now() - started).toFixed(1)} ms for the deep inputs`);
  t.equal(code(parse(`${'<a>'.repeat(500)}x${'</a>'.repeat(500)}`, 500)), 'OK', 'a large limit is honoured');
});

t.test('whatever checkXml accepts, fast-xml-parser\'s validator accepts too (mutation fuzz)', async (t) => {
  const rnd = random(2024);
  const alphabet = ['<', '>', '/', '&', ';', '"', "'", '=', ' ', '\n', 'a', '!', '-', '?', '[', ']', '#', 'x', '1', '中', '\u0000'];
  let accepted = 0;
  let rejected = 0;
  const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false });
  for (let k = 0; k < 2000; k++) {
    const chars = [...record];
    const edits = 1 + (rnd() % 3);
    for (let e = 0; e < edits; e++) {
      const at = rnd() % (chars.length + 1);
      const op = rnd() % 3;
      const ch = alphabet[rnd() % alphabet.length] as string;
      if (op === 0) chars.splice(at, 1);
      else if (op === 1) chars.splice(at, 0, ch);
      else chars.splice(at, 1, ch);
    }
    const xml = chars.join('');
    let r: XmlResult | undefined;
    try {
      r = parse(xml);
    } catch (err) {
      t.fail(`threw on ${JSON.stringify(xml)}: ${String(err)}`);
      continue;
    }
    if (r.ok) {
      accepted++;
      if (XMLValidator.validate(xml) !== true) t.fail(`accepted what XMLValidator rejects: ${JSON.stringify(xml)}`);
      t.doesNotThrow(() => parser.parse(xml, true));
    } else {
      rejected++;
    }
  }
  t.ok(accepted > 100 && rejected > 100, `${accepted} accepted, ${rejected} rejected`);
});

t.test('checkXml alone returns the root name', async (t) => {
  t.equal(checkXml(record, 32), 'case');
  t.equal(checkXml('<a:b/>', 32), 'a:b');
});

t.test('performance on a 2.5 KB case record', async (t) => {
  const rate = (fn: () => unknown): number => {
    for (let i = 0; i < 1000; i++) fn();
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const n = 1000;
      const started = performance.now();
      for (let i = 0; i < n; i++) fn();
      runs.push(n / ((performance.now() - started) / 1000));
    }
    runs.sort((a, b) => a - b);
    return Math.round(runs[2] as number);
  };
  const fxp = new XMLParser({ ignoreAttributes: false, parseTagValue: false, parseAttributeValue: false, htmlEntities: true, ignoreDeclaration: true, ignorePiTags: true, jPath: false });
  const parseOnly = rate(() => fxp.parse(record));
  const validateOnly = rate(() => XMLValidator.validate(record));
  const checkOnly = rate(() => checkXml(record, 32));
  const safe = rate(() => parse(record));
  t.comment(`records/s: fast-xml-parser parse ${parseOnly}, XMLValidator ${validateOnly}, checkXml ${checkOnly}, parseXmlSafe ${safe} (${Buffer.byteLength(record)} B)`);
  t.ok(safe > parseOnly * 0.7, 'the safety pass costs a fraction of the parse');
});
