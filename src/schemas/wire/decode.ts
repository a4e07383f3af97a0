/**
 * Bytes → text. Decides the format (JSON or XML) and the charset, then decodes fatally: a payload
 * that is not valid in its charset is rejected with the byte offset of the first bad sequence,
 * never repaired with U+FFFD, because a silently altered name or ID number is worse than a 400.
 *
 * Charset policy:
 * - Sources are the UTF-8 BOM, the `charset` parameter of the Content-Type and, for XML, the
 *   `encoding` of the XML declaration (sniffed in ASCII before decoding). Without any of them the
 *   payload is UTF-8 (the JSON and XML default).
 * - UTF-8 and the GB family (GB2312 ⊂ GBK ⊂ GB18030) are the only supported charsets. Two sources
 *   that name different families conflict; names inside the GB family are compatible and the
 *   widest one wins.
 * - The GB family is decoded with the GB18030 decoder. The WHATWG Encoding Standard defines the
 *   `gbk` decoder as the gb18030 decoder, and real GBK senders routinely include GB18030-only
 *   characters (rare characters in names). Node's own `TextDecoder('gbk')` is ICU's windows-936
 *   table instead: even with `fatal: true` it turns a stray 0xFF into U+F8F5 and rejects four-byte
 *   sequences (measured on Node 20.20), so it is not used. `encoding` reports the declared family
 *   member (`gbk` for GB2312/GBK labels), not the decoder.
 */
import { Buffer } from 'node:buffer';
import { finding, type Finding } from '../findings.js';

export type Charset = 'utf-8' | 'gbk' | 'gb18030';
export type WireFormat = 'json' | 'xml';

/** What the payload said about its charset, as written (lower-cased). */
export interface DeclaredCharset {
  readonly bom?: true;
  readonly header?: string;
  readonly prolog?: string;
}

export interface DecodeOptions {
  readonly contentType?: string | undefined;
  readonly maxBytes: number;
}

export type DecodeResult =
  | {
      readonly ok: true;
      readonly text: string;
      readonly encoding: Charset;
      readonly declared?: DeclaredCharset;
      readonly format: WireFormat;
    }
  | { readonly ok: false; readonly finding: Finding };

export interface ContentType {
  /** `type/subtype`, lower-cased. */
  readonly mediaType: string;
  readonly charset?: string;
  /** Two `charset` parameters with different values: ambiguous, so the caller rejects it. */
  readonly conflictingCharset?: readonly [string, string];
}

const EXPECTED_CONTENT_TYPES = 'application/json, application/xml, text/xml, application/*+json or application/*+xml';

// Where a charset was declared, for ENCODING_MISMATCH messages (Chinese, English).
const SOURCE_BOM = ['UTF-8 字节顺序标记（BOM）', 'the UTF-8 byte order mark'] as const;
const SOURCE_HEADER = ['Content-Type 的 charset 参数', 'the Content-Type charset'] as const;
const SOURCE_PROLOG = ['XML 声明', 'the XML declaration'] as const;

const fail = (f: Finding): { ok: false; finding: Finding } => ({ ok: false, finding: f });

// ── Content-Type ─────────────────────────────────────────────────────────────────────────────────

const TOKEN_RE = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * RFC 9110 media type with parameters. Lenient where leniency cannot change the meaning (case,
 * spaces and tabs around the type and the parameters, a bare trailing `;`: the fastify
 * Content-Type bypasses used exactly these), and the format is re-checked against the bytes
 * anyway; returns undefined when the type itself is malformed.
 */
export function parseContentType(header: string): ContentType | undefined {
  const n = header.length;
  let i = 0;
  const isWs = (c: number): boolean => c === 0x20 || c === 0x09;
  while (i < n && isWs(header.charCodeAt(i))) i++;
  let end = header.indexOf(';', i);
  if (end === -1) end = n;
  const mediaType = header.slice(i, end).replace(/[ \t]+$/, '').toLowerCase();
  const slash = mediaType.indexOf('/');
  if (slash <= 0 || !TOKEN_RE.test(mediaType.slice(0, slash)) || !TOKEN_RE.test(mediaType.slice(slash + 1))) {
    return undefined;
  }
  let charset: string | undefined;
  let conflict: [string, string] | undefined;
  i = end;
  while (i < n) {
    // At a ';' or at the end of the previous parameter.
    while (i < n && (isWs(header.charCodeAt(i)) || header.charCodeAt(i) === 0x3b)) i++;
    if (i >= n) break;
    const eq = header.indexOf('=', i);
    const semi = header.indexOf(';', i);
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      // A parameter without a value carries nothing we use.
      i = semi === -1 ? n : semi;
      continue;
    }
    const name = header.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < n && isWs(header.charCodeAt(i))) i++;
    let value: string;
    if (header.charCodeAt(i) === 0x22) {
      // quoted-string: backslash escapes the next character.
      let v = '';
      i++;
      while (i < n && header.charCodeAt(i) !== 0x22) {
        if (header.charCodeAt(i) === 0x5c && i + 1 < n) i++;
        v += header[i];
        i++;
      }
      i++;
      value = v;
      const next = header.indexOf(';', i);
      i = next === -1 ? n : next;
    } else {
      const next = header.indexOf(';', i);
      const stop = next === -1 ? n : next;
      value = header.slice(i, stop);
      i = stop;
    }
    value = value.trim().toLowerCase();
    if (name === 'charset') {
      if (charset === undefined) charset = value;
      else if (charset !== value && conflict === undefined) conflict = [charset, value];
    }
  }
  const out: { mediaType: string; charset?: string; conflictingCharset?: readonly [string, string] } = { mediaType };
  if (charset !== undefined) out.charset = charset;
  if (conflict !== undefined) out.conflictingCharset = conflict;
  return out;
}

/** The wire format a media type names, or undefined when it is neither JSON nor XML. */
export function formatOfMediaType(mediaType: string): WireFormat | undefined {
  if (mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'))) {
    return 'json';
  }
  if (
    mediaType === 'application/xml' ||
    mediaType === 'text/xml' ||
    (mediaType.startsWith('application/') && mediaType.endsWith('+xml'))
  ) {
    return 'xml';
  }
  return undefined;
}

// ── charset labels ───────────────────────────────────────────────────────────────────────────────

// WHATWG labels of utf-8 and gbk/gb18030, plus the Java/Windows aliases Chinese systems send.
const CHARSET_LABELS: ReadonlyMap<string, Charset> = new Map<string, Charset>([
  ['utf-8', 'utf-8'], ['utf8', 'utf-8'], ['unicode-1-1-utf-8', 'utf-8'], ['unicode11utf8', 'utf-8'],
  ['unicode20utf8', 'utf-8'], ['x-unicode20utf8', 'utf-8'],
  ['gbk', 'gbk'], ['gb2312', 'gbk'], ['gb_2312', 'gbk'], ['gb_2312-80', 'gbk'], ['chinese', 'gbk'],
  ['csgb2312', 'gbk'], ['csiso58gb231280', 'gbk'], ['iso-ir-58', 'gbk'], ['x-gbk', 'gbk'],
  ['cp936', 'gbk'], ['ms936', 'gbk'], ['windows-936', 'gbk'], ['euc-cn', 'gbk'],
  ['gb18030', 'gb18030'],
]);

export function charsetOfLabel(label: string): Charset | undefined {
  return CHARSET_LABELS.get(label.trim().toLowerCase());
}

const family = (c: Charset): 'utf-8' | 'gb' => (c === 'utf-8' ? 'utf-8' : 'gb');

// ── helpers on bytes ─────────────────────────────────────────────────────────────────────────────

const isWsByte = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** `D6 20 FF` — how findings show raw bytes. */
export function hexBytes(bytes: Uint8Array, start: number, end: number): string {
  const parts: string[] = [];
  for (let i = start; i < end && i < bytes.length; i++) {
    parts.push((bytes[i] as number).toString(16).toUpperCase().padStart(2, '0'));
  }
  return parts.join(' ');
}

/** Reads the `encoding` pseudo-attribute of an XML declaration, in ASCII, before decoding. */
export function sniffXmlEncoding(bytes: Uint8Array, start: number): string | undefined {
  // `<?xml` followed by XML whitespace; anything else is not a declaration.
  if (
    bytes[start] !== 0x3c || bytes[start + 1] !== 0x3f || bytes[start + 2] !== 0x78 ||
    bytes[start + 3] !== 0x6d || bytes[start + 4] !== 0x6c || !isWsByte(bytes[start + 5] ?? 0)
  ) {
    return undefined;
  }
  // A declaration is short; bounding the window keeps a hostile "<?xml " + 1 MB cheap.
  const end = Math.min(bytes.length, start + 512);
  let close = -1;
  for (let i = start + 5; i < end - 1; i++) {
    if (bytes[i] === 0x3f && bytes[i + 1] === 0x3e) {
      close = i;
      break;
    }
  }
  if (close === -1) return undefined;
  const decl = Buffer.from(bytes.buffer, bytes.byteOffset + start, close - start).toString('latin1');
  const m = /\sencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(decl);
  if (m === null) return undefined;
  return (m[1] ?? m[2] ?? '').trim().toLowerCase();
}

// ── decoding ─────────────────────────────────────────────────────────────────────────────────────

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const GB18030 = new TextDecoder('gb18030', { fatal: true, ignoreBOM: true });

interface BadBytes {
  readonly offset: number;
  readonly end: number;
}

/**
 * First invalid UTF-8 sequence, following the Unicode "maximal subpart" rule the WHATWG decoder
 * uses: `end` stops just after the byte that made the sequence invalid.
 */
export function findInvalidUtf8(bytes: Uint8Array): BadBytes | undefined {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) { need = 2; lo = 0xa0; }
    else if (b === 0xed) { need = 2; hi = 0x9f; } // would encode a surrogate
    else if (b >= 0xe1 && b <= 0xef) need = 2;
    else if (b === 0xf0) { need = 3; lo = 0x90; }
    else if (b === 0xf4) { need = 3; hi = 0x8f; } // beyond U+10FFFF otherwise
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else return { offset: i, end: i + 1 }; // 80–C1 (continuation or overlong lead), F5–FF
    for (let k = 1; k <= need; k++) {
      if (i + k >= n) return { offset: i, end: n };
      const c = bytes[i + k] as number;
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return { offset: i, end: i + k + 1 };
    }
    i += need + 1;
  }
  return undefined;
}

/**
 * First invalid GB18030 sequence: byte structure plus the unassigned four-byte ranges, as in the
 * WHATWG decoder. One confirming decode of the prefix follows; should ICU ever reject something
 * earlier, a bisection over whole characters finds it, so the answer always agrees with the
 * decoder (O(n log n), but only then; normally the error path costs one extra decode).
 */
export function findInvalidGb18030(bytes: Uint8Array): BadBytes | undefined {
  const n = bytes.length;
  const starts: number[] = [];
  let structural: BadBytes | undefined;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b <= 0x80) {
      // 0x80 is U+20AC in the WHATWG gb18030 decoder.
      i++;
      continue;
    }
    if (b === 0xff) {
      structural = { offset: i, end: i + 1 };
      break;
    }
    if (i + 1 >= n) {
      structural = { offset: i, end: n };
      break;
    }
    const b2 = bytes[i + 1] as number;
    if (b2 >= 0x30 && b2 <= 0x39) {
      if (i + 2 >= n) { structural = { offset: i, end: n }; break; }
      const b3 = bytes[i + 2] as number;
      if (b3 < 0x81 || b3 > 0xfe) { structural = { offset: i, end: i + 3 }; break; }
      if (i + 3 >= n) { structural = { offset: i, end: n }; break; }
      const b4 = bytes[i + 3] as number;
      if (b4 < 0x30 || b4 > 0x39) { structural = { offset: i, end: i + 4 }; break; }
      // WHATWG gb18030 decoder: four-byte pointers 39420–188999 and above 1237575 are unassigned.
      const pointer = (b - 0x81) * 12600 + (b2 - 0x30) * 1260 + (b3 - 0x81) * 10 + (b4 - 0x30);
      if ((pointer > 39419 && pointer < 189000) || pointer > 1237575) { structural = { offset: i, end: i + 4 }; break; }
      starts.push(i);
      i += 4;
    } else if ((b2 >= 0x40 && b2 <= 0x7e) || (b2 >= 0x80 && b2 <= 0xfe)) {
      starts.push(i);
      i += 2;
    } else {
      structural = { offset: i, end: i + 2 };
      break;
    }
  }
  const limit = structural?.offset ?? n;
  const decodes = (end: number): boolean => {
    try {
      GB18030.decode(bytes.subarray(0, end));
      return true;
    } catch {
      return false;
    }
  };
  if (decodes(limit)) return structural;
  // Multi-byte characters are the only ones that can be unmapped; find the first failing one.
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const start = starts[mid] as number;
    const len = (bytes[start + 1] as number) <= 0x39 ? 4 : 2;
    if (decodes(start + len)) lo = mid + 1;
    else hi = mid;
  }
  const start = starts[lo];
  if (start === undefined) return { offset: 0, end: Math.min(n, 4) };
  return { offset: start, end: start + ((bytes[start + 1] as number) <= 0x39 ? 4 : 2) };
}

function decodeFatal(
  bytes: Uint8Array,
  charset: Charset,
  baseOffset: number,
): { ok: true; text: string } | { ok: false; finding: Finding } {
  try {
    return { ok: true, text: (charset === 'utf-8' ? UTF8 : GB18030).decode(bytes) };
  } catch {
    const bad = (charset === 'utf-8' ? findInvalidUtf8 : findInvalidGb18030)(bytes) ?? { offset: 0, end: 0 };
    return fail(
      finding('error', 'GOVGATE_ENCODING_INVALID', {
        encoding: charset === 'utf-8' ? 'UTF-8' : charset.toUpperCase(),
        offset: baseOffset + bad.offset,
        found: hexBytes(bytes, bad.offset, bad.end),
      }),
    );
  }
}

// ── the entry point ──────────────────────────────────────────────────────────────────────────────

function describeStart(bytes: Uint8Array, start: number): string {
  const end = Math.min(bytes.length, start + 8);
  let printable = true;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 || b > 0x7e) printable = false;
  }
  if (printable) return JSON.stringify(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1'));
  return hexBytes(bytes, start, end);
}

export function decodeText(bytes: Uint8Array, opts: DecodeOptions): DecodeResult {
  const n = bytes.length;
  if (n > opts.maxBytes) {
    return fail(finding('error', 'GOVGATE_PAYLOAD_TOO_LARGE', { limit: opts.maxBytes, found: n }));
  }

  let start = 0;
  let bom = false;
  if (n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    bom = true;
    start = 3;
  } else if (n >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return fail(finding('error', 'GOVGATE_ENCODING_UNSUPPORTED', { found: 'UTF-16' }));
  }

  let first = start;
  while (first < n && isWsByte(bytes[first] as number)) first++;
  if (first >= n) return fail(finding('error', 'GOVGATE_PAYLOAD_EMPTY'));
  // UTF-16 without a BOM still shows itself: ASCII characters with a zero byte beside them.
  if (bytes[first] === 0x00 || bytes[first + 1] === 0x00) {
    return fail(finding('error', 'GOVGATE_ENCODING_UNSUPPORTED', { found: 'UTF-16/UTF-32' }));
  }

  const c = bytes[first] as number;
  const sniffed: WireFormat | undefined = c === 0x7b || c === 0x5b ? 'json' : c === 0x3c ? 'xml' : undefined;

  let header: ContentType | undefined;
  let declaredFormat: WireFormat | undefined;
  const ctRaw = opts.contentType;
  if (ctRaw !== undefined && ctRaw.trim() !== '') {
    header = parseContentType(ctRaw);
    declaredFormat = header === undefined ? undefined : formatOfMediaType(header.mediaType);
    if (declaredFormat === undefined) {
      return fail(
        finding('error', 'GOVGATE_CONTENT_TYPE_UNSUPPORTED', {
          found: ctRaw.trim().slice(0, 100),
          expected: EXPECTED_CONTENT_TYPES,
        }),
      );
    }
    if (header?.conflictingCharset !== undefined) {
      const [a, b] = header.conflictingCharset;
      return fail(
        finding('error', 'GOVGATE_ENCODING_MISMATCH', {
          first: SOURCE_HEADER[0], firstEn: SOURCE_HEADER[1], expected: a,
          second: SOURCE_HEADER[0], secondEn: SOURCE_HEADER[1], found: b,
        }),
      );
    }
  }

  // Only a payload that clearly is the other format disagrees with the header: a bare JSON
  // scalar (`"x"`, `42`) is valid JSON that starts with neither `{` nor `[`.
  const format = declaredFormat ?? sniffed;
  if (format === undefined) {
    return fail(finding('error', 'GOVGATE_FORMAT_UNKNOWN', { found: describeStart(bytes, first) }));
  }
  if ((declaredFormat === 'json' && sniffed === 'xml') || (declaredFormat === 'xml' && sniffed !== 'xml')) {
    const start = describeStart(bytes, first);
    return fail(
      finding('error', 'GOVGATE_CONTENT_TYPE_MISMATCH', {
        expected: header?.mediaType ?? declaredFormat,
        ...(sniffed === undefined
          ? { found: `非 XML 内容（以 ${start} 开头）`, foundEn: `not XML (it starts with ${start})` }
          : { found: sniffed.toUpperCase() }),
      }),
    );
  }

  // Charset: each source is checked on its own, then against the others.
  const sources: Array<{ name: readonly [string, string]; label: string; charset: Charset }> = [];
  const declared: { bom?: true; header?: string; prolog?: string } = {};
  if (bom) {
    declared.bom = true;
    sources.push({ name: SOURCE_BOM, label: 'utf-8', charset: 'utf-8' });
  }
  if (header?.charset !== undefined) {
    declared.header = header.charset;
    const cs = charsetOfLabel(header.charset);
    if (cs === undefined) return fail(finding('error', 'GOVGATE_ENCODING_UNSUPPORTED', { found: header.charset }));
    sources.push({ name: SOURCE_HEADER, label: header.charset, charset: cs });
  }
  if (format === 'xml') {
    const prolog = sniffXmlEncoding(bytes, first);
    if (prolog !== undefined) {
      declared.prolog = prolog;
      const cs = charsetOfLabel(prolog);
      if (cs === undefined) return fail(finding('error', 'GOVGATE_ENCODING_UNSUPPORTED', { found: prolog }));
      sources.push({ name: SOURCE_PROLOG, label: prolog, charset: cs });
    }
  }
  let encoding: Charset = 'utf-8';
  const head = sources[0];
  if (head !== undefined) {
    encoding = head.charset;
    for (let k = 1; k < sources.length; k++) {
      const s = sources[k] as (typeof sources)[number];
      const prev = sources.slice(0, k).find((p) => family(p.charset) !== family(s.charset));
      if (prev !== undefined) {
        return fail(
          finding('error', 'GOVGATE_ENCODING_MISMATCH', {
            first: prev.name[0], firstEn: prev.name[1], expected: prev.label,
            second: s.name[0], secondEn: s.name[1], found: s.label,
          }),
        );
      }
      if (s.charset === 'gb18030') encoding = 'gb18030';
    }
  }

  const decoded = decodeFatal(start === 0 ? bytes : bytes.subarray(start), encoding, start);
  if (!decoded.ok) return decoded;
  const hasDeclared = sources.length > 0;
  return hasDeclared
    ? { ok: true, text: decoded.text, encoding, declared, format }
    : { ok: true, text: decoded.text, encoding, format };
}

// ── positions in decoded text ────────────────────────────────────────────────────────────────────

/**
 * 1-based line and column of a UTF-16 offset. CRLF and a lone CR each end a line, as in XML;
 * the column counts code points, so a character outside the BMP is one column.
 * Only called when reporting, so a linear walk is fine.
 */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    } else if (c === 0x0d) {
      if (text.charCodeAt(i + 1) !== 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
  }
  let column = 1;
  for (let i = lineStart; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > lineStart) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue;
    }
    column++;
  }
  return { line, column };
}
