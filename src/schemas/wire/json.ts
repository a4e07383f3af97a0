/**
 * Strict JSON: one pass over the text that accepts exactly RFC 8259 and, on top of it, rejects
 * what `JSON.parse` lets through silently — duplicate keys (it keeps the last one), integers it
 * rounds (an 18-digit ID number sent as a number), numbers that overflow to Infinity, NUL in
 * strings (PostgreSQL jsonb refuses it later, as a 500), prototype-polluting key names — and
 * nesting deeper than the limit. The value itself is built by `JSON.parse`, which is faster at
 * building objects than any JavaScript loop, and only after the pass found nothing.
 *
 * The pass keeps its own stack of containers, so `[` × 100000 costs a depth check, not a stack
 * overflow, and JSON.parse never sees anything deeper than the limit.
 *
 * Number policy: a literal is rejected when its integer part (the digits before `.` or `e`) is
 * larger than Number.MAX_SAFE_INTEGER, or when its value is not finite. `-0` is accepted;
 * `1e-400` is accepted as 0 (underflow loses no identifier).
 * Lone surrogates written as `\uD800` escapes are accepted.
 */
import { finding, pointer, type Finding } from '../findings.js';
import { lineColumn } from './decode.js';

export interface JsonOptions {
  /** Containers may nest this deep; the top-level object or array is depth 1. */
  readonly maxDepth: number;
  /**
   * The UTF-8 bytes `text` was decoded from, exactly (no BOM), when there are any: the fast pass
   * then reads them instead of the text (see scanUtf8). Bytes that are not `text`'s would make the
   * key count, hence the duplicate check, wrong.
   */
  readonly utf8?: Uint8Array | undefined;
}

export type JsonResult =
  | {
      readonly ok: true;
      readonly value: unknown;
      /**
       * Present (true) when it is known that no string value starts or ends with whitespace
       * (String.prototype.trim would leave every one unchanged); absent when unknown.
       */
      readonly trimmed?: true;
    }
  | { readonly ok: false; readonly finding: Finding };

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER); // "9007199254740991", 16 digits

// Escape letters allowed after a backslash, besides `u`: " \ / b f n r t
const SIMPLE_ESCAPE = new Uint8Array(128);
for (const ch of '"\\/bfnrt') SIMPLE_ESCAPE[ch.charCodeAt(0)] = 1;

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

const STATE_VALUE = 0;
const STATE_KEY = 1;
const STATE_AFTER = 2;

const KIND_OBJECT = 0;
const KIND_ARRAY = 1;

function describeChar(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  const cp = text.codePointAt(i) as number;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfeff) {
    return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${String.fromCodePoint(cp)}'`;
}

// Syntax details, Chinese and English.
const M = {
  trailing: ['JSON 值之后还有多余内容', 'unexpected data after the JSON value'],
  eof: ['内容意外结束', 'unexpected end of input'],
  commaOrBrace: ["应为 ',' 或 '}'", "expected ',' or '}'"],
  commaOrBracket: ["应为 ',' 或 ']'", "expected ',' or ']'"],
  key: ['键名应为双引号字符串', 'expected a key in double quotes'],
  colon: ["键名之后应为 ':'", "expected ':' after the key"],
  digit: ['应为数字', 'expected a digit'],
  fraction: ["'.' 之后应为数字", "expected a digit after '.'"],
  exponent: ['指数部分应为数字', 'expected a digit in the exponent'],
  value: ['应为对象、数组、字符串、数字、true、false 或 null', 'expected an object, array, string, number, true, false or null'],
  control: ['字符串中的控制字符必须转义', 'control characters must be escaped inside strings'],
  escape: ['非法的转义序列', 'invalid escape sequence'],
  unterminated: ['字符串缺少结束引号', 'unterminated string'],
  internal: ['JSON.parse 拒绝了该内容', 'rejected by JSON.parse'],
} as const satisfies Record<string, readonly [string, string]>;

function syntax(text: string, i: number, [zh, en]: readonly [string, string]): Finding {
  const { line, column } = lineColumn(text, i);
  const found = describeChar(text, i);
  return finding('error', 'GOVGATE_JSON_SYNTAX', {
    line, column, found,
    detail: i >= text.length ? zh : `${zh}，实际为 ${found}`,
    detailEn: i >= text.length ? en : `${en}, found ${found}`,
  });
}

const cap = (literal: string): string => (literal.length > 100 ? `${literal.slice(0, 97)}...` : literal);

export function parseJsonStrict(text: string, opts: JsonOptions): JsonResult {
  const maxDepth = Math.max(1, Math.floor(opts.maxDepth));
  // Two passes share one scanner. The fast pass checks structure, numbers, depth and key names
  // but jumps over escape-free strings with indexOf and does not collect keys; JSON.parse then
  // checks what it skipped (raw control characters in strings) and builds the value. It keeps one
  // property per distinct key, so a duplicate shows up as fewer properties than keys scanned.
  // Whenever anything is wrong, the full pass (every character, every key in a Set) runs and
  // reports the first problem in document order with its position.
  // Given the UTF-8 bytes, the fast pass runs over them instead (scanUtf8), unless it declines;
  // it also notices whether any string value starts or ends with whitespace (`trimmed`).
  let keysScanned = opts.utf8 === undefined ? -1 : scanUtf8(opts.utf8, maxDepth);
  const vouchedTrimmed = keysScanned >= 0 && !untrimmedString;
  if (keysScanned < 0) {
    if (scan(text, maxDepth, false) !== undefined) return reject(text, maxDepth);
    keysScanned = scannedKeys;
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return reject(text, maxDepth);
  }
  if (countKeys(value) !== keysScanned) return reject(text, maxDepth);
  return vouchedTrimmed ? { ok: true, value, trimmed: true } : { ok: true, value };
}

function reject(text: string, maxDepth: number): JsonResult {
  // The full pass cannot accept what the fast pass or JSON.parse refused; if it ever did, that is
  // a bug in this file and still a 400, never a 500.
  const problem = scan(text, maxDepth, true);
  for (const set of seen as Array<Set<string> | undefined>) set?.clear(); // do not keep a hostile payload's keys alive
  return { ok: false, finding: problem ?? syntax(text, 0, M.internal) };
}

/** Properties of every object in a parsed value; iterative, since the depth limit may be large. */
function countKeys(root: unknown): number {
  if (typeof root !== 'object' || root === null) return 0;
  let count = 0;
  const stack: object[] = [root];
  while (stack.length > 0) {
    const v = stack.pop() as object;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e: unknown = v[i];
        if (typeof e === 'object' && e !== null) stack.push(e);
      }
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        count++;
        const e = o[k];
        if (typeof e === 'object' && e !== null) stack.push(e);
      }
    }
  }
  return count;
}

// Per-level scan state, reused across calls (the scan is synchronous): the container kind and,
// for objects, the offset of the current key's opening quote, for arrays the current index.
// Key strings are only materialised to build a path for a finding, or in duplicate-hunting mode.
let kinds = new Uint8Array(64);
let segs = new Int32Array(64);
// Sparse: only levels that held an object in a full pass have one.
const seen: Array<Set<string>> = [];
/** Keys seen by the last scan. */
let scannedKeys = 0;

function keyAt(s: string, quote: number): string {
  const end = scanString(s, quote + 1, s.length);
  return stringHadEscape ? (JSON.parse(s.slice(quote, end)) as string) : s.slice(quote + 1, end - 1);
}

function pathOf(s: string, levels: number): string {
  const parts: Array<string | number> = [];
  for (let l = 0; l < levels; l++) parts.push(kinds[l] === KIND_OBJECT ? keyAt(s, segs[l] as number) : (segs[l] as number));
  return pointer(...parts);
}

function isForbiddenRaw(s: string, p: number, len: number): boolean {
  if (len === 9) return s.startsWith('__proto__', p) || s.startsWith('prototype', p);
  return len === 11 && s.startsWith('constructor', p);
}

/** Returns the first problem in `s`, or undefined when it is strict JSON. */
function scan(s: string, maxDepth: number, full: boolean): Finding | undefined {
  const n = s.length;
  const trackKeys = full;
  nextBackslash = -1;
  if (kinds.length < maxDepth) {
    kinds = new Uint8Array(maxDepth);
    segs = new Int32Array(maxDepth);
  }
  let keys = 0;
  let depth = 0;
  let state = STATE_VALUE;
  let i = 0;
  let c = 0;

  for (;;) {
    // Whitespace may precede any token.
    while (i < n && ((c = s.charCodeAt(i)) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;

    if (state === STATE_AFTER) {
      if (depth === 0) {
        scannedKeys = keys;
        return i < n ? syntax(s, i, M.trailing) : undefined;
      }
      if (i >= n) return syntax(s, i, M.eof);
      c = s.charCodeAt(i);
      const kind = kinds[depth - 1];
      if (c === 0x2c) {
        i++;
        if (kind === KIND_ARRAY) {
          segs[depth - 1] = (segs[depth - 1] as number) + 1;
          state = STATE_VALUE;
        } else {
          state = STATE_KEY;
        }
        continue;
      }
      if (kind === KIND_OBJECT ? c === 0x7d : c === 0x5d) {
        i++;
        depth--;
        continue;
      }
      return syntax(s, i, kind === KIND_OBJECT ? M.commaOrBrace : M.commaOrBracket);
    }

    if (state === STATE_KEY) {
      if (i >= n || s.charCodeAt(i) !== 0x22) return syntax(s, i, M.key);
      const start = i;
      const end = full ? scanString(s, i + 1, n) : skipString(s, i + 1, n);
      if (end < 0) return stringProblem(s, -end - 1, pathOf(s, depth - 1));
      const len = end - start - 2;
      if (stringHadEscape || trackKeys || len === 9 || len === 11) {
        const key = stringHadEscape ? (JSON.parse(s.slice(start, end)) as string) : s.slice(start + 1, end - 1);
        if (stringHadEscape ? FORBIDDEN_KEYS.has(key) : isForbiddenRaw(s, start + 1, len)) {
          const { line, column } = lineColumn(s, start);
          return finding('error', 'GOVGATE_FORBIDDEN_KEY', { path: pathOf(s, depth - 1), key, line, column });
        }
        if (trackKeys) {
          const set = seen[depth - 1] as Set<string>;
          if (set.has(key)) {
            const { line, column } = lineColumn(s, start);
            return finding('error', 'GOVGATE_JSON_DUPLICATE_KEY', { path: pathOf(s, depth - 1), key, line, column });
          }
          set.add(key);
        }
      }
      keys++;
      segs[depth - 1] = start;
      i = end;
      while (i < n && ((c = s.charCodeAt(i)) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      if (i >= n || s.charCodeAt(i) !== 0x3a) return syntax(s, i, M.colon);
      i++;
      state = STATE_VALUE;
      continue;
    }

    // STATE_VALUE
    if (i >= n) return syntax(s, i, M.value);
    c = s.charCodeAt(i);
    if (c === 0x22) {
      const end = full ? scanString(s, i + 1, n) : skipString(s, i + 1, n);
      if (end < 0) return stringProblem(s, -end - 1, pathOf(s, depth));
      i = end;
      state = STATE_AFTER;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth >= maxDepth) {
        const { line, column } = lineColumn(s, i);
        return finding('error', 'GOVGATE_DEPTH_EXCEEDED', { path: pathOf(s, depth), limit: maxDepth, line, column });
      }
      const open = c;
      i++;
      while (i < n && ((c = s.charCodeAt(i)) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      // An empty container closes at once and needs no slot (the check above still counted it).
      if (c === (open === 0x7b ? 0x7d : 0x5d) && i < n) {
        i++;
        state = STATE_AFTER;
        continue;
      }
      if (open === 0x7b) {
        kinds[depth] = KIND_OBJECT;
        if (trackKeys) {
          const set = seen[depth];
          if (set === undefined) seen[depth] = new Set();
          else set.clear();
        }
        state = STATE_KEY;
      } else {
        kinds[depth] = KIND_ARRAY;
        segs[depth] = 0;
        state = STATE_VALUE;
      }
      depth++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      if (c === 0x2d) c = ++i < n ? s.charCodeAt(i) : -1;
      const intStart = i;
      if (c === 0x30) {
        c = ++i < n ? s.charCodeAt(i) : -1;
      } else if (c >= 0x31 && c <= 0x39) {
        do c = ++i < n ? s.charCodeAt(i) : -1;
        while (c >= 0x30 && c <= 0x39);
      } else {
        return syntax(s, i, M.digit);
      }
      const intEnd = i;
      if (c === 0x2e) {
        c = ++i < n ? s.charCodeAt(i) : -1;
        if (!(c >= 0x30 && c <= 0x39)) return syntax(s, i, M.fraction);
        do c = ++i < n ? s.charCodeAt(i) : -1;
        while (c >= 0x30 && c <= 0x39);
      }
      let hasExp = false;
      if (c === 0x65 || c === 0x45) {
        hasExp = true;
        c = ++i < n ? s.charCodeAt(i) : -1;
        if (c === 0x2b || c === 0x2d) c = ++i < n ? s.charCodeAt(i) : -1;
        if (!(c >= 0x30 && c <= 0x39)) return syntax(s, i, M.exponent);
        do c = ++i < n ? s.charCodeAt(i) : -1;
        while (c >= 0x30 && c <= 0x39);
      }
      const intDigits = intEnd - intStart;
      if (
        (intDigits >= MAX_SAFE_DIGITS.length &&
          (intDigits > MAX_SAFE_DIGITS.length || s.slice(intStart, intEnd) > MAX_SAFE_DIGITS)) ||
        (hasExp && !Number.isFinite(Number(s.slice(start, i))))
      ) {
        const { line, column } = lineColumn(s, start);
        return finding('error', 'GOVGATE_JSON_UNSAFE_NUMBER', {
          path: pathOf(s, depth), found: cap(s.slice(start, i)), line, column,
        });
      }
      state = STATE_AFTER;
      continue;
    }
    if (c === 0x74 ? s.startsWith('true', i) : c === 0x66 ? s.startsWith('false', i) : c === 0x6e && s.startsWith('null', i)) {
      i += c === 0x66 ? 5 : 4;
      state = STATE_AFTER;
      continue;
    }
    return syntax(s, i, M.value);
  }
}

const FORBIDDEN_UTF8 = ['__proto__', 'prototype', 'constructor'].map((k) => Uint8Array.from(k, (ch) => ch.charCodeAt(0)));

function isForbiddenUtf8(b: Uint8Array, start: number, len: number): boolean {
  for (const k of FORBIDDEN_UTF8) {
    if (k.length !== len) continue;
    let same = true;
    for (let j = 0; j < len && same; j++) same = b[start + j] === k[j];
    if (same) return true;
  }
  return false;
}

/**
 * The fast pass over the UTF-8 bytes rather than the text: 0.9 µs instead of 3.0 µs for the
 * 1,663-byte benchmark record (Node 20.20, median of 7×50,000), since a byte loop is cheaper than
 * `charCodeAt` and `indexOf` on a two-byte string. Exact because no byte of a multi-byte UTF-8
 * sequence is below 0x80: quotes, backslashes, brackets and digits are the same tokens in both.
 *
 * It only ever vouches: it returns the number of keys when the fast pass over the text would
 * accept the document and count the same keys, and -1 for anything else, also for what it could
 * judge but does not need to be quick on (a key with an escape, `\u0000`, an exponent, an integer
 * part of 16 or more digits, any error). The text passes then run exactly as without it, so every
 * rejection and its finding comes from them. test/perf-json.test.ts compares both ways on random
 * and mutated documents.
 */
export function scanUtf8(b: Uint8Array, maxDepth: number): number {
  const n = b.length;
  untrimmedString = false;
  if (kinds.length < maxDepth) {
    kinds = new Uint8Array(maxDepth);
    segs = new Int32Array(maxDepth);
  }
  let keys = 0;
  let depth = 0;
  let state = STATE_VALUE;
  let i = 0;
  let c = 0;
  for (;;) {
    while (i < n && ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;

    if (state === STATE_AFTER) {
      if (depth === 0) return i < n ? -1 : keys;
      if (i >= n) return -1;
      const kind = kinds[depth - 1];
      if (c === 0x2c) {
        i++;
        state = kind === KIND_ARRAY ? STATE_VALUE : STATE_KEY;
        continue;
      }
      if (kind === KIND_OBJECT ? c === 0x7d : c === 0x5d) {
        i++;
        depth--;
        continue;
      }
      return -1;
    }

    if (state === STATE_KEY) {
      if (i >= n || c !== 0x22) return -1;
      const start = ++i;
      while (i < n && (c = b[i] as number) !== 0x22 && c !== 0x5c) i++;
      if (i >= n || c !== 0x22) return -1;
      const len = i - start;
      if ((len === 9 || len === 11) && isForbiddenUtf8(b, start, len)) return -1;
      keys++;
      i++;
      while (i < n && ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      if (i >= n || c !== 0x3a) return -1;
      i++;
      state = STATE_VALUE;
      continue;
    }

    // STATE_VALUE
    if (i >= n) return -1;
    if (c === 0x22) {
      const start = ++i;
      let escapeEnd = -1;
      for (;;) {
        while (i < n && (c = b[i] as number) !== 0x22 && c !== 0x5c) i++;
        if (i >= n) return -1;
        if (c === 0x22) break;
        const e = i + 1 < n ? (b[i + 1] as number) : -1;
        if (e === 0x75) {
          if (i + 5 >= n || !(isHex(b[i + 2] as number) && isHex(b[i + 3] as number) && isHex(b[i + 4] as number) && isHex(b[i + 5] as number))) return -1;
          if (b[i + 2] === 0x30 && b[i + 3] === 0x30 && b[i + 4] === 0x30 && b[i + 5] === 0x30) return -1;
          i += 6;
        } else if (e >= 0 && e < 128 && SIMPLE_ESCAPE[e] === 1) {
          i += 2;
        } else {
          return -1;
        }
        escapeEnd = i;
      }
      // An escape at either end may stand for whitespace; one inside cannot matter to trimming.
      if (!untrimmedString && i > start && (b[start] === 0x5c || escapeEnd === i || trimmableAt(b, start) || trimmableAt(b, lastCharStart(b, start, i)))) {
        untrimmedString = true;
      }
      i++;
      state = STATE_AFTER;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (depth >= maxDepth) return -1;
      const open = c;
      i++;
      while (i < n && ((c = b[i] as number) === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) i++;
      if (c === (open === 0x7b ? 0x7d : 0x5d) && i < n) {
        i++;
        state = STATE_AFTER;
        continue;
      }
      kinds[depth] = open === 0x7b ? KIND_OBJECT : KIND_ARRAY;
      state = open === 0x7b ? STATE_KEY : STATE_VALUE;
      depth++;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (c === 0x2d) c = ++i < n ? (b[i] as number) : -1;
      const intStart = i;
      if (c === 0x30) {
        c = ++i < n ? (b[i] as number) : -1;
      } else if (c >= 0x31 && c <= 0x39) {
        do c = ++i < n ? (b[i] as number) : -1;
        while (c >= 0x30 && c <= 0x39);
      } else {
        return -1;
      }
      if (i - intStart >= MAX_SAFE_DIGITS.length) return -1;
      if (c === 0x2e) {
        c = ++i < n ? (b[i] as number) : -1;
        if (!(c >= 0x30 && c <= 0x39)) return -1;
        do c = ++i < n ? (b[i] as number) : -1;
        while (c >= 0x30 && c <= 0x39);
      }
      if (c === 0x65 || c === 0x45) return -1;
      state = STATE_AFTER;
      continue;
    }
    if (c === 0x74 ? isBytes(b, i, TRUE) : c === 0x66 ? isBytes(b, i, FALSE) : c === 0x6e && isBytes(b, i, NULL)) {
      i += c === 0x66 ? 5 : 4;
      state = STATE_AFTER;
      continue;
    }
    return -1;
  }
}

/** Set by scanUtf8: a string value may start or end with whitespace. */
let untrimmedString = false;

/** Start of the UTF-8 character that ends just before `end` (the text is valid UTF-8). */
function lastCharStart(b: Uint8Array, start: number, end: number): number {
  let k = end - 1;
  while (k > start && ((b[k] as number) & 0xc0) === 0x80) k--;
  return k;
}

/**
 * The UTF-8 character at `k` is one String.prototype.trim removes: ASCII controls and space
 * (every byte up to 0x20, a superset), U+00A0, U+1680, U+180E (whitespace in older Unicode, kept
 * to be safe), U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000, U+FEFF.
 */
function trimmableAt(b: Uint8Array, k: number): boolean {
  const b0 = b[k] as number;
  if (b0 <= 0x20) return true;
  if (b0 < 0xc2) return false;
  const b1 = b[k + 1] as number;
  if (b0 === 0xc2) return b1 === 0xa0;
  const b2 = b[k + 2] as number;
  switch (b0) {
    case 0xe1:
      return (b1 === 0x9a && b2 === 0x80) || (b1 === 0xa0 && b2 === 0x8e);
    case 0xe2:
      return (b1 === 0x80 && ((b2 >= 0x80 && b2 <= 0x8a) || b2 === 0xa8 || b2 === 0xa9 || b2 === 0xaf)) || (b1 === 0x81 && b2 === 0x9f);
    case 0xe3:
      return b1 === 0x80 && b2 === 0x80;
    case 0xef:
      return b1 === 0xbb && b2 === 0xbf;
    default:
      return false;
  }
}

const TRUE = Uint8Array.of(0x74, 0x72, 0x75, 0x65);
const FALSE = Uint8Array.of(0x66, 0x61, 0x6c, 0x73, 0x65);
const NULL = Uint8Array.of(0x6e, 0x75, 0x6c, 0x6c);

function isBytes(b: Uint8Array, at: number, word: Uint8Array): boolean {
  if (at + word.length > b.length) return false;
  for (let j = 0; j < word.length; j++) if (b[at + j] !== word[j]) return false;
  return true;
}

// Side results of scanString, kept outside to avoid allocating a result object per string.
let stringHadEscape = false;
/** Position of the next backslash at or after the last skipString call; n when there is none. */
let nextBackslash = -1;

/**
 * Fast-pass string skip: a string without a backslash ends at the next quote. Raw control
 * characters are not looked for here; JSON.parse rejects them, and the full pass names them.
 */
function skipString(s: string, i: number, n: number): number {
  if (nextBackslash < i) {
    nextBackslash = s.indexOf('\\', i);
    if (nextBackslash === -1) nextBackslash = n;
  }
  const q = s.indexOf('"', i);
  if (q === -1) {
    stringErrorKind = 'unterminated';
    return -(n + 1);
  }
  if (nextBackslash > q) {
    stringHadEscape = false;
    return q + 1;
  }
  return scanString(s, i, n);
}
let stringErrorKind: 'unterminated' | 'control' | 'nul' | 'escape' = 'unterminated';

/**
 * Scans a string body starting just after the opening quote. Returns the index after the closing
 * quote, or `-(position + 1)` of the problem, with its kind in `stringErrorKind`.
 */
function scanString(s: string, i: number, n: number): number {
  stringHadEscape = false;
  while (i < n) {
    const c = s.charCodeAt(i);
    // Ordered for the common case: letters, digits and CJK are all above '"'.
    if (c > 0x22) {
      if (c !== 0x5c) {
        i++;
        continue;
      }
      stringHadEscape = true;
      const e = i + 1 < n ? s.charCodeAt(i + 1) : -1;
      if (e === 0x75) {
        if (i + 5 >= n || !(isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)) && isHex(s.charCodeAt(i + 4)) && isHex(s.charCodeAt(i + 5)))) {
          stringErrorKind = 'escape';
          return -(i + 1);
        }
        if (s.charCodeAt(i + 2) === 0x30 && s.charCodeAt(i + 3) === 0x30 && s.charCodeAt(i + 4) === 0x30 && s.charCodeAt(i + 5) === 0x30) {
          stringErrorKind = 'nul';
          return -(i + 1);
        }
        i += 6;
      } else if (e >= 0 && e < 128 && SIMPLE_ESCAPE[e] === 1) {
        i += 2;
      } else {
        stringErrorKind = i + 1 >= n ? 'unterminated' : 'escape';
        return -(i + 1);
      }
    } else if (c === 0x22) {
      return i + 1;
    } else if (c >= 0x20) {
      i++;
    } else {
      stringErrorKind = c === 0 ? 'nul' : 'control';
      return -(i + 1);
    }
  }
  stringErrorKind = 'unterminated';
  return -(i + 1);
}

function stringProblem(s: string, at: number, path: string): Finding {
  switch (stringErrorKind) {
    case 'nul': {
      const { line, column } = lineColumn(s, at);
      return finding('error', 'GOVGATE_NUL_CHARACTER', { path, line, column });
    }
    case 'control':
      return syntax(s, at, M.control);
    case 'escape':
      return syntax(s, at, M.escape);
    default:
      return syntax(s, at, M.unterminated);
  }
}
