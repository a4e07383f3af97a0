import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import t from 'tap';
import {
  decodeText,
  findInvalidGb18030,
  findInvalidUtf8,
  lineColumn,
  parseContentType,
  type DecodeResult,
} from '../src/schemas/wire/decode.js';
import { random } from './helpers/random.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Array<string | number[] | Uint8Array>): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p)));
  return new Uint8Array(Buffer.concat(chunks));
};
const decode = (bytes: Uint8Array, contentType?: string, maxBytes = 1 << 20): DecodeResult =>
  decodeText(bytes, { contentType, maxBytes });
const code = (r: DecodeResult): string => (r.ok ? 'OK' : r.finding.code);


t.test('Content-Type parsing is case-, space- and tab-tolerant', async (t) => {
  const cases: Array<[string, string | undefined, string | undefined]> = [
    ['application/json', 'application/json', undefined],
    ['application/json\t', 'application/json', undefined],
    [' application/json', 'application/json', undefined],
    ['Application/JSON ;', 'application/json', undefined],
    ['application/json;', 'application/json', undefined],
    ['application/xml; charset=gbk ', 'application/xml', 'gbk'],
    ['text/xml;charset=GB2312', 'text/xml', 'gb2312'],
    ['application/json; charset="UTF-8"', 'application/json', 'utf-8'],
    ['application/xml; CHARSET = gbk', 'application/xml', 'gbk'],
    ['application/xml;\tcharset=\t"gb18030"\t', 'application/xml', 'gb18030'],
    ['application/soap+xml; action="urn:a;b"; charset=utf-8', 'application/soap+xml', 'utf-8'],
    ['application/json; foo; charset=utf-8', 'application/json', 'utf-8'],
    ['application/json; charset="ut\\f-8"', 'application/json', 'utf-8'],
  ];
  for (const [header, mediaType, charset] of cases) {
    const ct = parseContentType(header);
    t.equal(ct?.mediaType, mediaType, JSON.stringify(header));
    t.equal(ct?.charset, charset, `${JSON.stringify(header)} charset`);
  }
  for (const bad of ['json', '/json', 'application/', 'application/js on x', '']) {
    t.equal(parseContentType(bad), undefined, JSON.stringify(bad));
  }
  t.same(parseContentType('application/json; charset=utf-8; charset=gbk')?.conflictingCharset, ['utf-8', 'gbk']);
});

t.test('T17: every Content-Type variant still reaches the strict parsers or is refused', async (t) => {
  const body = enc('{"a":1}');
  for (const ct of ['application/json\t', ' application/json', 'Application/JSON ;', 'application/json;', 'application/problem+json']) {
    t.match(decode(body, ct), { ok: true, format: 'json' }, JSON.stringify(ct));
  }
  t.match(decode(enc('<r/>'), 'application/xml; charset=gbk '), { ok: true, format: 'xml', encoding: 'gbk' });
  t.match(decode(enc('<r/>'), 'application/atom+xml'), { ok: true, format: 'xml' });
  for (const ct of ['text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'json', 'text/json']) {
    t.equal(code(decode(body, ct)), 'GOVGATE_CONTENT_TYPE_UNSUPPORTED', JSON.stringify(ct));
  }
  t.equal(code(decode(body, 'application/json; charset=utf-8; charset=gbk')), 'GOVGATE_ENCODING_MISMATCH');
  t.equal(code(decode(body, '   ')), 'OK', 'a blank header counts as absent');
});

t.test('format comes from the first character and must agree with the Content-Type', async (t) => {
  t.match(decode(enc('  \n{"a":1}')), { ok: true, format: 'json', encoding: 'utf-8' });
  t.match(decode(enc('[1]')), { ok: true, format: 'json' });
  t.match(decode(enc('\t<r/>')), { ok: true, format: 'xml' });
  // A bare JSON scalar is JSON only when the header says so.
  t.match(decode(enc('"abc"'), 'application/json'), { ok: true, format: 'json', text: '"abc"' });
  t.match(decode(enc('42'), 'application/json'), { ok: true, format: 'json' });
  t.equal(code(decode(enc('"abc"'))), 'GOVGATE_FORMAT_UNKNOWN');
  t.equal(code(decode(enc('<r/>'), 'application/json')), 'GOVGATE_CONTENT_TYPE_MISMATCH');
  t.equal(code(decode(enc('{"a":1}'), 'text/xml')), 'GOVGATE_CONTENT_TYPE_MISMATCH');
  t.equal(code(decode(enc('"x"'), 'application/xml')), 'GOVGATE_CONTENT_TYPE_MISMATCH');
  const unknown = decode(enc('hello'));
  t.match(unknown, { ok: false, finding: { code: 'GOVGATE_FORMAT_UNKNOWN', found: '"hello"' } });
});

t.test('size and emptiness', async (t) => {
  t.match(decode(enc('{"a":1}'), undefined, 6), { ok: false, finding: { code: 'GOVGATE_PAYLOAD_TOO_LARGE', found: 7 } });
  t.equal(code(decode(enc('{"a":1}'), undefined, 7)), 'OK', 'exactly maxBytes is allowed');
  t.equal(code(decode(new Uint8Array(0))), 'GOVGATE_PAYLOAD_EMPTY');
  t.equal(code(decode(enc(' \r\n\t'))), 'GOVGATE_PAYLOAD_EMPTY');
  t.equal(code(decode(cat([0xef, 0xbb, 0xbf]))), 'GOVGATE_PAYLOAD_EMPTY', 'a BOM alone is empty');
  t.equal(code(decode(cat([0xef, 0xbb, 0xbf], '  '))), 'GOVGATE_PAYLOAD_EMPTY');
  // The size check comes first: a huge empty body is too large, not empty.
  t.equal(code(decode(new Uint8Array(100), undefined, 10)), 'GOVGATE_PAYLOAD_TOO_LARGE');
});

t.test('charset resolution', async (t) => {
  const zh = [0xd6, 0xd0, 0xce, 0xc4]; // 中文 in GBK
  const xmlGbk = (label: string) => cat(`<?xml version="1.0" encoding="${label}"?><r>`, zh, '</r>');
  t.match(decode(xmlGbk('GBK')), { ok: true, encoding: 'gbk', declared: { prolog: 'gbk' }, text: '<?xml version="1.0" encoding="GBK"?><r>中文</r>' });
  t.match(decode(xmlGbk('gb2312')), { ok: true, encoding: 'gbk' });
  t.match(decode(xmlGbk('GB18030')), { ok: true, encoding: 'gb18030' });
  t.match(decode(cat("<?xml version='1.0' encoding = 'cp936' ?><r>", zh, '</r>')), { ok: true, encoding: 'gbk' });
  // Header and prolog in the same family: the wider one wins, either way round.
  t.match(decode(xmlGbk('GB18030'), 'text/xml; charset=GBK'), { ok: true, encoding: 'gb18030', declared: { header: 'gbk', prolog: 'gb18030' } });
  t.match(decode(xmlGbk('gbk'), 'text/xml; charset=gb18030'), { ok: true, encoding: 'gb18030' });
  t.match(decode(xmlGbk('gb2312'), 'text/xml; charset=gbk'), { ok: true, encoding: 'gbk' });
  // Different families conflict.
  t.match(decode(xmlGbk('GBK'), 'text/xml; charset=utf-8'), {
    ok: false,
    finding: { code: 'GOVGATE_ENCODING_MISMATCH', expected: 'utf-8', found: 'gbk' },
  });
  t.equal(code(decode(cat([0xef, 0xbb, 0xbf], '{}'), 'application/json; charset=gbk')), 'GOVGATE_ENCODING_MISMATCH');
  t.equal(code(decode(cat([0xef, 0xbb, 0xbf], '<?xml version="1.0" encoding="GBK"?><r/>'))), 'GOVGATE_ENCODING_MISMATCH');
  t.match(decode(cat([0xef, 0xbb, 0xbf], '<?xml version="1.0" encoding="utf-8"?><r/>')), { ok: true, declared: { bom: true, prolog: 'utf-8' } });
  // JSON is UTF-8 unless the header says otherwise.
  t.match(decode(cat('{"a":"', zh, '"}'), 'application/json; charset=GBK'), { ok: true, encoding: 'gbk', text: '{"a":"中文"}' });
  t.equal(code(decode(cat('{"a":"', zh, '"}'))), 'GOVGATE_ENCODING_INVALID');
  // No declaration at all: UTF-8, and no `declared` member.
  const plain = decode(enc('<r>中文</r>'));
  t.match(plain, { ok: true, encoding: 'utf-8' });
  t.notOk(plain.ok && 'declared' in plain, 'nothing declared');
  // Unsupported charsets, wherever they are declared.
  t.match(decode(enc('{}'), 'application/json; charset=iso-8859-1'), { ok: false, finding: { code: 'GOVGATE_ENCODING_UNSUPPORTED', found: 'iso-8859-1' } });
  t.equal(code(decode(enc('<?xml version="1.0" encoding="UTF-16"?><r/>'))), 'GOVGATE_ENCODING_UNSUPPORTED');
  t.equal(code(decode(cat([0xfe, 0xff, 0x00, 0x3c]))), 'GOVGATE_ENCODING_UNSUPPORTED', 'UTF-16BE BOM');
  t.equal(code(decode(cat([0x3c, 0x00, 0x72, 0x00]))), 'GOVGATE_ENCODING_UNSUPPORTED', 'UTF-16LE without BOM');
  // The BOM is stripped from the text.
  t.match(decode(cat([0xef, 0xbb, 0xbf], '{"a":1}')), { ok: true, text: '{"a":1}' });
});

t.test('UTF-8 is decoded fatally, with the offset of the first bad sequence', async (t) => {
  const cases: Array<[number[], number, string]> = [
    [[0x22, 0xe6, 0x97, 0xa5, 0xd1, 0x88, 0xfa, 0x22], 6, 'FA'],
    [[0x22, 0xed, 0xa0, 0x80, 0x22], 1, 'ED A0'], // surrogate
    [[0x22, 0xc0, 0xaf, 0x22], 1, 'C0'], // overlong
    [[0x22, 0xe0, 0x80, 0x80, 0x22], 1, 'E0 80'], // overlong three-byte
    [[0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1, 'F4 90'], // above U+10FFFF
    [[0x22, 0xf5, 0x22], 1, 'F5'],
    [[0x22, 0x80, 0x22], 1, '80'], // lone continuation byte
    [[0x22, 0x61, 0xe4, 0xb8], 2, 'E4 B8'], // truncated at the end
    [[0x22, 0xe4, 0x22, 0x22], 1, 'E4 22'],
  ];
  for (const [bytes, offset, found] of cases) {
    const r = decode(new Uint8Array(bytes), 'application/json');
    t.match(r, { ok: false, finding: { code: 'GOVGATE_ENCODING_INVALID', offset, found } }, found);
    t.match(r, { finding: { message: { en: `the payload is not valid UTF-8: an invalid byte sequence ${found} at byte offset ${offset}` } } });
  }
  // With a BOM the offset still counts from the first byte of the payload.
  t.match(decode(cat([0xef, 0xbb, 0xbf], '["', [0xff], '"]')), { ok: false, finding: { offset: 5, found: 'FF' } });
  // U+FFFD sent as real bytes is a character like any other.
  t.match(decode(enc('["\uFFFD"]')), { ok: true, text: '["\uFFFD"]' });
});

t.test('findInvalidUtf8 agrees with the fatal decoder on random bytes', async (t) => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const rnd = random(12345);
  const interesting = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x9f, 0xa0, 0x8f, 0x90];
  let invalid = 0;
  for (let k = 0; k < 3000; k++) {
    const len = rnd() % 12;
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = rnd() % 3 === 0 ? (interesting[rnd() % interesting.length] as number) : rnd() % 256;
    let threw = false;
    try {
      decoder.decode(bytes);
    } catch {
      threw = true;
    }
    const bad = findInvalidUtf8(bytes);
    if (threw !== (bad !== undefined)) {
      t.fail(`disagreement on ${Buffer.from(bytes).toString('hex')}`);
      continue;
    }
    if (bad === undefined) continue;
    invalid++;
    // Everything before the reported offset is valid; the reported bytes are not.
    t.doesNotThrow(() => decoder.decode(bytes.subarray(0, bad.offset)));
    t.throws(() => decoder.decode(bytes.subarray(0, bad.end)));
  }
  t.ok(invalid > 500, `${invalid} invalid samples checked`);
});

t.test('the GB family is decoded with the GB18030 decoder, fatally', async (t) => {
  const xml = (body: number[], label = 'GBK') => cat(`<?xml version="1.0" encoding="${label}"?><r>`, body, '</r>');
  const prefix = '<?xml version="1.0" encoding="GBK"?><r>'.length;
  const prefix18030 = prefix + 4;
  t.match(decode(xml([0xd6, 0x20, 0xff])), { ok: false, finding: { code: 'GOVGATE_ENCODING_INVALID', offset: prefix, found: 'D6 20', encoding: undefined } });
  t.match(decode(xml([0xd6, 0x20, 0xff])), { finding: { message: { en: /not valid GBK/ } } });
  t.match(decode(xml([0x41, 0xff])), { ok: false, finding: { offset: prefix + 1, found: 'FF' } }, 'Node\'s own gbk decoder turns FF into U+F8F5');
  t.match(decode(xml([0x81, 0x30, 0x81, 0x20], 'GB18030')), { ok: false, finding: { offset: prefix18030, found: '81 30 81 20' } });
  // Well-formed four-byte sequences outside the assigned ranges are found by asking the decoder.
  t.match(decode(xml([0xd6, 0xd0, 0x84, 0x31, 0xa5, 0x30], 'GB18030')), { ok: false, finding: { offset: prefix18030 + 2, found: '84 31 A5 30' } });
  t.match(decode(xml([0xfe, 0x39, 0xfe, 0x39], 'GB18030')), { ok: false, finding: { offset: prefix18030, found: 'FE 39 FE 39' } });
  t.match(decode(xml([0xe3, 0x32, 0x9a, 0x35], 'GB18030')), { ok: true, text: /<r>\u{10FFFF}<\/r>/u }, 'U+10FFFF is the last one');
  // GB18030-only characters in a payload labelled GBK are accepted (WHATWG: the gbk decoder is gb18030's).
  t.match(decode(xml([0x95, 0x32, 0x82, 0x36])), { ok: true, encoding: 'gbk', text: /<r>𠀀<\/r>/u });
  t.match(decode(xml([0x80])), { ok: true, text: /<r>€<\/r>/ }, '0x80 is the euro sign in GBK');
  // Round trip of a realistic record through iconv-lite's GB18030 encoder.
  const record = readFileSync(new URL('./fixtures/wire/case-record.xml', import.meta.url), 'utf8');
  const gbBytes = new Uint8Array(iconv.encode(record.replace('encoding="UTF-8"', 'encoding="GB18030"'), 'gb18030'));
  t.match(decode(gbBytes), { ok: true, encoding: 'gb18030', text: record.replace('encoding="UTF-8"', 'encoding="GB18030"') });
});

t.test('findInvalidGb18030 agrees with the fatal decoder on random bytes', async (t) => {
  const decoder = new TextDecoder('gb18030', { fatal: true });
  const rnd = random(987);
  let invalid = 0;
  for (let k = 0; k < 3000; k++) {
    const len = rnd() % 12;
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const r = rnd() % 4;
      // Bias towards lead bytes and the digit range that starts four-byte sequences.
      bytes[i] = r === 0 ? 0x81 + (rnd() % 126) : r === 1 ? 0x30 + (rnd() % 10) : r === 2 ? 0x40 + (rnd() % 0xbf) : rnd() % 256;
    }
    let threw = false;
    try {
      decoder.decode(bytes);
    } catch {
      threw = true;
    }
    const bad = findInvalidGb18030(bytes);
    if (threw !== (bad !== undefined)) {
      t.fail(`disagreement on ${Buffer.from(bytes).toString('hex')}`);
      continue;
    }
    if (bad === undefined) continue;
    invalid++;
    t.doesNotThrow(() => decoder.decode(bytes.subarray(0, bad.offset)));
    t.throws(() => decoder.decode(bytes.subarray(0, bad.end)));
  }
  t.ok(invalid > 500, `${invalid} invalid samples checked`);
});

t.test('lineColumn counts CRLF and CR as one break and astral characters as one column', async (t) => {
  t.same(lineColumn('abc', 0), { line: 1, column: 1 });
  t.same(lineColumn('abc', 2), { line: 1, column: 3 });
  t.same(lineColumn('a\r\nb', 3), { line: 2, column: 1 });
  t.same(lineColumn('a\rb\nc', 4), { line: 3, column: 1 });
  t.same(lineColumn('𠀀x', 2), { line: 1, column: 2 });
  t.same(lineColumn('中文x', 2), { line: 1, column: 3 });
});

t.test('decoding does not dominate', async (t) => {
  const bytes = new Uint8Array(readFileSync(new URL('./fixtures/wire/case-record.json', import.meta.url)));
  for (let i = 0; i < 2000; i++) decode(bytes, 'application/json');
  const n = 20000;
  const started = performance.now();
  for (let i = 0; i < n; i++) decode(bytes, 'application/json');
  const us = ((performance.now() - started) * 1000) / n;
  t.comment(`decodeText, ${bytes.length} B UTF-8 JSON with Content-Type: ${us.toFixed(2)} µs`);
  t.comment(`${us.toFixed(2)} µs per decode`);
});
