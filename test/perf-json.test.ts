/**
 * parseJsonStrict's fast pass reads the UTF-8 bytes when it has them (scanUtf8), for speed only.
 * It may only ever vouch for what the fast pass over the text accepts, with the same key count, so
 * with and without the bytes every result — value or finding — must be the same.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { parseJsonStrict, scanUtf8, type JsonResult } from '../src/schemas/wire/json.js';
import { random } from './helpers/random.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });


const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[rnd() % xs.length] as T;

/** Undefined when both ways agree; otherwise both results. */
function difference(bytes: Uint8Array, maxDepth: number): string | undefined {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined; // decodeText refuses it before parsing
  }
  // `trimmed` can only come with the bytes; it is checked on its own below.
  const { trimmed: _trimmed, ...withBytes } = parseJsonStrict(text, { maxDepth, utf8: bytes }) as JsonResult & { trimmed?: true };
  const textOnly: JsonResult = parseJsonStrict(text, { maxDepth });
  const a = JSON.stringify(withBytes);
  const b = JSON.stringify(textOnly);
  return a === b ? undefined : `with bytes: ${a}\ntext only:  ${b}\non ${JSON.stringify(text.slice(0, 300))}`;
}

const KEYS = ['a', 'b', 'caseNo', '中文', 'k-1', '', ' ', '__proto__', 'constructor', 'prototype', '__proto_', 'constructors', '\\u005f_proto__', 'a\\"b', 'a\\nb', '\\u4e2d'];
const STRINGS = [
  'x', '', ' x ', '中文', '\u3000张三\u3000', '𠀀', 'a\\nb', '\\"', '\\\\', '\\/', '\\u4e2d', '\\u0000', '\\uD800', '\\u00', '\\x', 'tab\there', 'nul\u0000raw', '\u2028',
  '2026-03-02T09:15:00+08:00', '330106199001011234',
];
const NUMBERS = [
  '0', '-0', '1', '-1', '1.5', '0.25', '10', '123456789012345', '1234567890123456', '9007199254740991', '9007199254740992', '-9007199254740991',
  '12345678901234567890', '1e3', '1E400', '-1.0e-5', '1e-400', '01', '1.', '.5', '-', '+1', '0x10',
];

function value(rnd: () => number, depth: number): string {
  const r = rnd() % (depth > 4 ? 6 : 10);
  if (r <= 1) return `"${pick(rnd, STRINGS)}"`;
  if (r === 2) return pick(rnd, NUMBERS);
  if (r === 3) return pick(rnd, ['true', 'false', 'null', 'tru', 'nul']);
  if (r <= 6) {
    const count = rnd() % 5;
    const members: string[] = [];
    for (let k = 0; k < count; k++) members.push(`${pick(rnd, ['', ' ', '\n  '])}"${pick(rnd, KEYS)}"${pick(rnd, [':', ' : ', ':\t'])}${value(rnd, depth + 1)}`);
    return `{${members.join(',')}${pick(rnd, ['', ' ', '\n'])}}`;
  }
  const count = rnd() % 4;
  const items: string[] = [];
  for (let k = 0; k < count; k++) items.push(value(rnd, depth + 1));
  return `[${items.join(pick(rnd, [',', ', ', ',\n']))}]`;
}

t.test('the same result with and without the bytes on the hostile corpus and the fixtures', async (t) => {
  const dirs = [new URL('./fixtures/hostile/', import.meta.url), new URL('./fixtures/wire/', import.meta.url), new URL('../docs/spec/examples/', import.meta.url)];
  let compared = 0;
  for (const dir of dirs) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      let bytes = new Uint8Array(readFileSync(new URL(file, dir)));
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
      t.equal(difference(bytes, 32), undefined, file);
      compared++;
    }
  }
  t.ok(compared >= 20, `${compared} files`);
});

t.test('the bytes are what a valid record is scanned on', async (t) => {
  const bytes = new Uint8Array(readFileSync(new URL('./fixtures/wire/case-record.json', import.meta.url)));
  const keys = scanUtf8(bytes, 32);
  t.ok(keys > 0, `the byte pass vouches for the case record (${keys} keys)`);
  const r = parseJsonStrict(UTF8.decode(bytes), { maxDepth: 32, utf8: bytes });
  t.ok(r.ok);
  t.equal(scanUtf8(new TextEncoder().encode('{"a":1,"a":2}'), 32), 2, 'duplicates are counted, for countKeys to find');
  t.match(parseJsonStrict('{"a":1,"a":2}', { maxDepth: 32, utf8: new TextEncoder().encode('{"a":1,"a":2}') }), { ok: false, finding: { code: 'GOVGATE_JSON_DUPLICATE_KEY' } });
  for (const hostile of ['{"__proto__":1}', '{"a":"\\u0000"}', '[[[1]]]', '{"a":1e400}', '{"a":12345678901234567890}', '{"a":1}x', '{"\\u005f_proto__":1}']) {
    t.equal(scanUtf8(new TextEncoder().encode(hostile), 2), -1, `left to the text passes: ${hostile}`);
  }
});

t.test('the same result with and without the bytes on 5,000 random documents', async (t) => {
  const rnd = random(42);
  let vouched = 0;
  let ok = 0;
  for (let k = 0; k < 5000; k++) {
    const bytes = new TextEncoder().encode(value(rnd, 0));
    const maxDepth = 1 + (rnd() % 6);
    const diff = difference(bytes, maxDepth);
    if (diff !== undefined) {
      t.fail(`document ${k}: ${diff}`);
      break;
    }
    if (scanUtf8(bytes, maxDepth) >= 0) vouched++;
    if (parseJsonStrict(UTF8.decode(bytes), { maxDepth }).ok) ok++;
  }
  t.ok(vouched > 1000 && ok > 1000, `${vouched} vouched for by the byte pass, ${ok} accepted`);
});

t.test('the same result with and without the bytes after random byte edits', async (t) => {
  const rnd = random(43);
  const record = new Uint8Array(readFileSync(new URL('./fixtures/wire/case-record.json', import.meta.url)));
  const inserts = ['"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\n', '0', '9', '-', '.', 'e', 'u', 'n', 't', 'f', '中', '\u0000', '\u001f', '_'].map((s) => new TextEncoder().encode(s));
  let accepted = 0;
  for (let k = 0; k < 4000; k++) {
    const base = k % 2 === 0 ? record : new TextEncoder().encode(value(rnd, 0));
    let bytes = Array.from(base);
    const edits = 1 + (rnd() % 3);
    for (let e = 0; e < edits; e++) {
      const at = rnd() % (bytes.length + 1);
      const op = rnd() % 3;
      const ins = Array.from(pick(rnd, inserts));
      if (op === 0) bytes.splice(at, 1);
      else if (op === 1) bytes.splice(at, 0, ...ins);
      else bytes.splice(at, 1, ...ins);
    }
    const u8 = Uint8Array.from(bytes);
    bytes = [];
    const diff = difference(u8, 32);
    if (diff !== undefined) {
      t.fail(`edit ${k}: ${diff}`);
      break;
    }
    try {
      if (parseJsonStrict(UTF8.decode(u8), { maxDepth: 32 }).ok) accepted++;
    } catch {
      // invalid UTF-8: never reaches the parser
    }
  }
  t.ok(accepted > 200, `${accepted} accepted after edits`);
});

t.test('the byte pass is quicker than the text pass on a case record', async (t) => {
  const bytes = new Uint8Array(readFileSync(new URL('./fixtures/wire/case-record.json', import.meta.url)));
  const text = UTF8.decode(bytes);
  const withBytes: number[] = [];
  const textOnly: number[] = [];
  const time = (fn: () => unknown, into: number[]): void => {
    const n = 10000;
    const started = performance.now();
    for (let i = 0; i < n; i++) fn();
    into.push(((performance.now() - started) * 1000) / n);
  };
  // Interleaved, so that load from other processes falls on both alike.
  for (let r = 0; r < 7; r++) {
    time(() => parseJsonStrict(text, { maxDepth: 32, utf8: bytes }), withBytes);
    time(() => parseJsonStrict(text, { maxDepth: 32 }), textOnly);
  }
  const median = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1] as number;
  t.comment(`parseJsonStrict on ${bytes.length} B: ${median(withBytes).toFixed(2)} µs with the bytes, ${median(textOnly).toFixed(2)} µs on the text alone`);
  // Only a gross regression fails: timings on a shared machine are not a test's business.
  t.ok(median(withBytes) < median(textOnly) * 1.5, 'not slower with the bytes');
});

/** Every string value, anywhere in the tree. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const e of v) strings(e, out);
  else if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) strings((v as Record<string, unknown>)[k], out);
  return out;
}

t.test('`trimmed` is only claimed when no string value needs trimming', async (t) => {
  const enc = new TextEncoder();
  const read = (text: string): JsonResult => parseJsonStrict(text, { maxDepth: 32, utf8: enc.encode(text) });
  // Every BMP character String.prototype.trim removes, at either end, raw and escaped.
  let whitespace = 0;
  for (let cp = 0; cp <= 0xffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCharCode(cp);
    if (ch.trim() !== '') continue;
    whitespace++;
    const esc = `\\u${cp.toString(16).padStart(4, '0')}`;
    const raw = JSON.stringify(ch).slice(1, -1); // controls come out escaped
    for (const body of [`${raw}x`, `x${raw}`, `${esc}x`, `x${esc}`, raw, esc]) {
      const r = read(`{"a":["y","${body}"]}`);
      if (r.ok && r.trimmed === true) t.fail(`claimed trimmed with U+${cp.toString(16)} in ${JSON.stringify(body)}`);
    }
  }
  t.ok(whitespace >= 25, `${whitespace} whitespace characters tried`);
  t.equal((read('{"a":"中文","b":["x y","3"],"c":1,"d":"a\\nb"}') as { trimmed?: true }).trimmed, true, 'claimed when true');
  t.equal((read('{"a":"。"}') as { trimmed?: true }).trimmed, true, 'an ideographic full stop (E3 80 82) is not U+3000 (E3 80 80)');
  const bytes = new Uint8Array(readFileSync(new URL('./fixtures/wire/case-record.json', import.meta.url)));
  const fixture = parseJsonStrict(UTF8.decode(bytes), { maxDepth: 32, utf8: bytes });
  t.ok(fixture.ok && fixture.trimmed === true, 'claimed for the case record');

  const rnd = random(44);
  let claimed = 0;
  for (let k = 0; k < 5000; k++) {
    const text = value(rnd, 0);
    const r = read(text);
    if (!r.ok || r.trimmed !== true) continue;
    claimed++;
    const bad = strings(r.value).find((s) => s.trim() !== s);
    if (bad !== undefined) {
      t.fail(`claimed trimmed, but ${JSON.stringify(bad)} is not: ${text}`);
      break;
    }
  }
  t.ok(claimed > 300, `${claimed} random documents claimed trimmed, all correctly`);
});
