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
}

export type JsonResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly finding: Finding };

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
  if (scan(text, maxDepth, false) !== undefined) return reject(text, maxDepth);
  const keysScanned = scannedKeys;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return reject(text, maxDepth);
  }
  if (countKeys(value) !== keysScanned) return reject(text, maxDepth);
  return { ok: true, value };
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
