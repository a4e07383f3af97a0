import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import t from 'tap';
import { readDocument, type ReadResult } from '../src/schemas/wire/index.js';
import { random } from './helpers/random.js';

const limits = { maxBytes: 1024 * 1024, maxDepth: 32 };
const read = (bytes: Uint8Array | string, contentType?: string): ReadResult =>
  readDocument(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, { contentType, ...limits });
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/wire/${name}`, import.meta.url)));


t.test('JSON in, value out', async (t) => {
  const r = read(fixture('case-record.json'), 'application/json; charset=utf-8');
  t.match(r, { ok: true, format: 'json', encoding: 'utf-8', declared: { header: 'utf-8' } });
  t.notOk(r.ok && 'xmlRoot' in r, 'no xmlRoot for JSON');
  if (r.ok) t.same(r.value, JSON.parse(readFileSync(new URL('./fixtures/wire/case-record.json', import.meta.url), 'utf8')));
});

t.test('XML in, root name and content out', async (t) => {
  const r = read(fixture('case-record.xml'), 'application/xml');
  t.match(r, { ok: true, format: 'xml', encoding: 'utf-8', xmlRoot: 'case', declared: { prolog: 'utf-8' } });
  if (r.ok) t.equal((r.value as Record<string, unknown>)['applicantName'], '杭州市西湖区张三小吃店');
  // The same record as GB18030 bytes, labelled GBK in both places (T14): decoded, same content.
  const text = readFileSync(new URL('./fixtures/wire/case-record.xml', import.meta.url), 'utf8').replace('UTF-8', 'GBK');
  const gb = read(new Uint8Array(iconv.encode(text.replace('张三', '张𠀀'), 'gb18030')), 'text/xml; charset=GBK');
  t.match(gb, { ok: true, encoding: 'gbk', xmlRoot: 'case' });
  if (gb.ok) t.equal((gb.value as Record<string, unknown>)['projectName'], '关于杭州西湖区张𠀀小吃店的食品经营许可');
  t.match(read('<record><caseNo>A</caseNo></record>'), { ok: true, xmlRoot: 'record', value: { caseNo: 'A' } });
  t.match(read('<record/>'), { ok: true, xmlRoot: 'record', value: '' });
});

t.test('each stage reports through the same result', async (t) => {
  const codes: Array<[string | Uint8Array, string | undefined, string]> = [
    ['', undefined, 'GOVGATE_PAYLOAD_EMPTY'],
    ['{"a":1,"a":2}', undefined, 'GOVGATE_JSON_DUPLICATE_KEY'],
    ['<r><a></r>', undefined, 'GOVGATE_XML_SYNTAX'],
    ['{"a":1}', 'text/plain', 'GOVGATE_CONTENT_TYPE_UNSUPPORTED'],
    [new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d]), undefined, 'GOVGATE_ENCODING_INVALID'],
    ['['.repeat(33), undefined, 'GOVGATE_DEPTH_EXCEEDED'],
    ['<a>'.repeat(33), undefined, 'GOVGATE_DEPTH_EXCEEDED'],
  ];
  for (const [body, ct, expected] of codes) {
    const r = read(body, ct);
    t.equal(r.ok ? 'OK' : r.finding.code, expected, `${expected}`);
  }
  t.match(readDocument(new Uint8Array(11), { maxBytes: 10, maxDepth: 32 }), { ok: false, finding: { code: 'GOVGATE_PAYLOAD_TOO_LARGE', found: 11 } });
});

t.test('random bytes never make it throw', async (t) => {
  const rnd = random(99);
  const starts = ['{', '[', '<', '<?xml version="1.0" encoding="GBK"?><r>', '"', ' ', ''];
  const types = [undefined, 'application/json', 'application/xml; charset=gbk', 'text/xml; charset=gb18030', 'text/plain', 'application/json; charset=utf-8'];
  for (let k = 0; k < 3000; k++) {
    const head = new TextEncoder().encode(starts[rnd() % starts.length]);
    const body = new Uint8Array(rnd() % 40);
    for (let i = 0; i < body.length; i++) body[i] = rnd() % 4 === 0 ? (rnd() % 94) + 0x21 : rnd() % 256;
    const bytes = new Uint8Array(head.length + body.length);
    bytes.set(head);
    bytes.set(body, head.length);
    try {
      const r = readDocument(bytes, { contentType: types[rnd() % types.length], maxBytes: 1024, maxDepth: 8 });
      if (!r.ok && r.finding.message.en.includes('{')) {
        if (/\{\w+\}/.test(r.finding.message.en)) t.fail(`unfilled placeholder: ${r.finding.message.en}`);
      }
    } catch (err) {
      t.fail(`threw on ${Buffer.from(bytes).toString('hex')}: ${String(err)}`);
    }
  }
  t.pass('3000 random payloads');
});

t.test('performance of the whole wire layer', async (t) => {
  const json = fixture('case-record.json');
  const xml = fixture('case-record.xml');
  const rate = (fn: () => unknown, n: number): number => {
    for (let i = 0; i < n; i++) fn();
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) {
      const started = performance.now();
      for (let i = 0; i < n; i++) fn();
      runs.push(n / ((performance.now() - started) / 1000));
    }
    runs.sort((a, b) => a - b);
    return Math.round(runs[2] as number);
  };
  const jsonRate = rate(() => readDocument(json, { contentType: 'application/json', ...limits }), 20000);
  const xmlRate = rate(() => readDocument(xml, { contentType: 'application/xml', ...limits }), 1000);
  t.comment(`readDocument records/s: JSON ${jsonRate} (${json.length} B), XML ${xmlRate} (${xml.length} B)`);
  t.ok(xmlRate > 0 && jsonRate > 0, 'both paths run (figures: npm run bench:validate, docs/performance.md)');
});
