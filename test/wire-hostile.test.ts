import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readDocument } from '../src/schemas/wire/index.js';

const dir = fileURLToPath(new URL('./fixtures/hostile/', import.meta.url));

interface Row {
  readonly file: string;
  readonly contentType: string | undefined;
  readonly expected: string;
}

// The README table is the single list of cases: | `file` | content type | expected | what |
function readTable(): Row[] {
  const rows: Row[] = [];
  for (const line of readFileSync(`${dir}README.md`, 'utf8').split('\n')) {
    const m = /^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (m === null) continue;
    const ct = (m[2] ?? '').trim();
    rows.push({ file: m[1] ?? '', contentType: ct === '-' ? undefined : ct, expected: (m[3] ?? '').trim() });
  }
  return rows;
}

const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
const arrayProtoBefore = Object.getOwnPropertyNames(Array.prototype).sort();

const rows = readTable();

t.test('the README lists exactly the files in the corpus', async (t) => {
  const files = readdirSync(dir).filter((f) => f !== 'README.md').sort();
  t.same(rows.map((r) => r.file).sort(), files);
  t.ok(rows.length >= 40, `${rows.length} cases`);
});

t.test('every hostile payload yields its stable code, without throwing or hanging', async (t) => {
  for (const row of rows) {
    const bytes = new Uint8Array(readFileSync(dir + row.file));
    const started = performance.now();
    let result: ReturnType<typeof readDocument> | undefined;
    t.doesNotThrow(() => {
      result = readDocument(bytes, { contentType: row.contentType, maxBytes: 2 * 1024 * 1024, maxDepth: 32 });
    }, row.file);
    const ms = performance.now() - started;
    // Generous for slow CI machines; the slowest case (1.2 MB of numeric references) takes ~150 ms.
    t.ok(ms < 2000, `${row.file} finished in ${ms.toFixed(1)} ms`);
    if (result === undefined) continue;
    if (row.expected === 'OK') {
      t.ok(result.ok, `${row.file} accepted${result.ok ? '' : `, got ${result.finding.code}`}`);
    } else {
      t.equal(result.ok ? 'OK' : result.finding.code, row.expected, row.file);
      if (!result.ok) {
        t.equal(result.finding.severity, 'error');
        t.ok(result.finding.message.zh.length > 0 && result.finding.message.en.length > 0);
        t.notMatch(result.finding.message.en, /\{\w+\}/, `${row.file}: every placeholder filled`);
      }
    }
  }
});

t.test('accepted corpus payloads decode to the expected values', async (t) => {
  const read = (file: string, contentType?: string) =>
    readDocument(new Uint8Array(readFileSync(dir + file)), { contentType, maxBytes: 2 * 1024 * 1024, maxDepth: 32 });
  const gbk = read('xml-gbk-valid.xml');
  t.match(gbk, { ok: true, format: 'xml', encoding: 'gbk', xmlRoot: 'r', value: '中文' });
  const gb18030 = read('xml-gb18030-four-byte.xml', 'application/xml; charset=GBK');
  t.match(gb18030, { ok: true, encoding: 'gb18030', value: '𠀀㐀中', declared: { header: 'gbk', prolog: 'gb18030' } });
  const flood = read('xml-numeric-ref-flood.xml');
  t.ok(flood.ok && flood.value === 'A'.repeat(200000), '200,000 × A');
  const bom = read('json-bom-empty-object.json');
  t.match(bom, { ok: true, format: 'json', declared: { bom: true } });
  t.same(bom.ok && bom.value, {});
  const zero = read('json-negative-zero.json');
  t.ok(zero.ok && Array.isArray(zero.value) && Object.is(zero.value[0], -0), '-0 kept');
});

t.test('findings carry the details that make them actionable', async (t) => {
  const read = (file: string, contentType?: string) => {
    const r = readDocument(new Uint8Array(readFileSync(dir + file)), { contentType, maxBytes: 2 * 1024 * 1024, maxDepth: 32 });
    if (r.ok) throw new Error(`${file} was accepted`);
    return r.finding;
  };
  t.match(read('json-invalid-utf8.json'), { offset: 7, found: 'FA' });
  t.match(read('json-utf8-surrogate.json'), { offset: 2, found: 'ED A0' });
  t.match(read('json-utf8-overlong.json'), { offset: 2, found: 'C0' });
  t.match(read('xml-gbk-invalid.xml'), { offset: 40, found: 'D6 20' });
  t.match(read('xml-utf8-declared-gbk.xml'), { offset: 42, found: 'A5 3C' });
  t.match(read('xml-unbalanced.xml'), { line: 1, column: 7, found: '</r>', expected: '</a>' });
  t.match(read('xml-billion-laughs.xml'), { line: 2, column: 1 });
  t.match(read('json-duplicate-key-nested.json'), { path: '/case/steps/0', message: { en: /duplicate key "seq"/ } });
  t.match(read('json-id-number.json'), { path: '/idCard', found: '110101199003077777' });
  t.match(read('xml-charset-mismatch.xml', 'text/xml; charset=utf-8'), {
    message: { en: 'conflicting charset declarations: the Content-Type charset says utf-8, the XML declaration says gbk' },
  });
});

t.test('no prototype was polluted by the run', async (t) => {
  const probe: Record<string, unknown> = {};
  t.equal(probe['polluted'], undefined);
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);
  t.same(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore);
  t.same(Object.getOwnPropertyNames(Array.prototype).sort(), arrayProtoBefore);
  t.equal(typeof Object.prototype.toString, 'function');
  t.equal(typeof Object.prototype.hasOwnProperty, 'function');
});
