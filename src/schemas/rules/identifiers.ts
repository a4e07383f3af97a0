/**
 * Check digits for the three identifiers that appear on almost every e-government record:
 * 居民身份证号码 (GB 11643-1999), 统一社会信用代码 (GB 32100-2015) and 组织机构代码 (GB 11714-1997).
 *
 * These run once per identifier field per record, so they work on char codes directly: no regular
 * expressions, no intermediate arrays, and no new strings unless the input has to be normalised or the
 * result needs them. Regions are deliberately not checked here: the address code of a resident ID is only
 * meaningful against the historical GB/T 2260 tables, which live elsewhere.
 */

export type IdCheckKind = 'length' | 'format' | 'date' | 'checksum';

export type IdCheck =
  | {
      ok: true;
      /** The compact form to store and forward (separators removed, letters upper-cased, 15 → 18 digits). */
      normalized: string;
      /** Set when a 15-digit legacy resident ID was upgraded; the caller reports it as a warning. */
      legacyUpgraded?: boolean;
      /** YYYY-MM-DD */
      birthDate?: string;
      regionCode?: string;
      sex?: 'male' | 'female';
    }
  | {
      ok: false;
      kind: IdCheckKind;
      zh: string;
      en: string;
      /** For checksum failures: the check character the body requires. */
      expected?: string;
      /** For checksum failures: the check character that came. */
      found?: string;
    };

type IdFailure = Extract<IdCheck, { ok: false }>;

// Nothing longer than this can be an identifier, even with generous separators. Bailing out before
// normalising keeps a 10 MB junk field from costing more than a length comparison.
const MAX_RAW_LENGTH = 64;

// China has used a single UTC+8 offset without daylight saving since 1991, so a fixed offset is exact
// for "today" as the issuing authority sees it, whatever time zone the gateway host runs in.
const CHINA_OFFSET_MS = 8 * 3_600_000;

function chinaToday(): number {
  const d = new Date(Date.now() + CHINA_OFFSET_MS);
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

// Time only moves forward, so a cached "today" can only be too early. A birth date at or before it is
// therefore certainly not in the future; only a later one needs the clock re-read. This keeps Date out of
// the hot path entirely.
let cachedToday = chinaToday();

function isFuture(yyyymmdd: number): boolean {
  if (yyyymmdd <= cachedToday) return false;
  cachedToday = chinaToday();
  return yyyymmdd > cachedToday;
}

function isSpace(c: number): boolean {
  // U+3000 (ideographic space) and U+00A0 come from Chinese input methods and Office copy-paste.
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0x3000;
}

/**
 * Remove separators (and upper-case ASCII letters if asked). Returns `value` itself when nothing changes,
 * which is the overwhelmingly common case, so clean input allocates nothing.
 */
function compact(value: string, stripHyphen: boolean, upper: boolean): string {
  const n = value.length;
  let i = 0;
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (isSpace(c) || (stripHyphen && c === 45) || (upper && c >= 97 && c <= 122)) break;
  }
  if (i === n) return value;
  let out = value.slice(0, i);
  for (; i < n; i++) {
    const c = value.charCodeAt(i);
    if (isSpace(c) || (stripHyphen && c === 45)) continue;
    out += upper && c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : value.charAt(i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Message helpers (failure path only, so allocation here is fine)

/** Show one character so that invisible or look-alike input is recognisable in a message. */
function showChar(s: string, i: number): { ch: string; zhHint: string; enHint: string } {
  const cp = s.codePointAt(i) ?? 0;
  const invisible = cp < 0x21 || (cp >= 0x7f && cp <= 0xa0) || cp === 0xfeff || (cp >= 0xd800 && cp <= 0xdfff);
  const ch = invisible ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}` : String.fromCodePoint(cp);
  // Full-width digits and letters are the most common cause of "looks right but fails" in Chinese data entry.
  const fullWidth = (cp >= 0xff10 && cp <= 0xff19) || (cp >= 0xff21 && cp <= 0xff3a) || (cp >= 0xff41 && cp <= 0xff5a);
  return fullWidth
    ? { ch, zhHint: '（全角字符，应使用半角）', enHint: ' (a full-width character; use the ASCII form)' }
    : { ch, zhHint: '', enHint: '' };
}

function fail(kind: IdCheckKind, zh: string, en: string): IdFailure {
  return { ok: false, kind, zh, en };
}

function notAString(zhName: string, enName: string, value: unknown): IdFailure {
  // Identifiers sent as JSON numbers have usually lost digits already (18 digits exceed 2^53), so the
  // value cannot be repaired here; say so instead of coercing.
  return fail('format', `${zhName}应为字符串，实际为 ${typeof value}`, `${enName} must be a string, found ${typeof value}`);
}

function checksumFailure(zhWord: string, enWord: string, expected: string, found: string): IdFailure {
  return {
    ok: false,
    kind: 'checksum',
    zh: `${zhWord}应为 ${expected}，实际为 ${found}`,
    en: `the ${enWord} should be ${expected}, found ${found}`,
    expected,
    found,
  };
}

// ---------------------------------------------------------------------------------------------------
// 居民身份证号码 (GB 11643-1999)

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  if (month === 2 && day === 29) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (DAYS_IN_MONTH[month] ?? 0);
}

function ricLengthFailure(found: number): IdFailure {
  return found === 0
    ? fail('length', '居民身份证号码为空', 'the resident ID number is empty')
    : fail(
        'length',
        `居民身份证号码应为 18 位（旧号码为 15 位），实际为 ${found} 位`,
        `a resident ID number must have 18 characters (15 for a legacy number), found ${found}`,
      );
}

/** Digit at `i`, or -1. */
function digitAt(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/**
 * ISO 7064 MOD 11-2 over the 17-digit body. The GB 11643 weights 7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2 are
 * 2^(17−i) mod 11, so Σ dᵢ·wᵢ ≡ 2·H (mod 11) where H is the body read as a base-2 polynomial (Horner).
 * That needs no weight table, and H stays below 2^21, far inside exact integer range.
 * Returns the check value 0..10 (10 = X).
 */
function ricCheckValue(h: number): number {
  return (12 - ((2 * h) % 11)) % 11;
}

function ricCheckChar(v: number): string {
  return v === 10 ? 'X' : String.fromCharCode(48 + v);
}

function ricDateFailure(year: number, month: number, day: number): IdFailure | undefined {
  const key = year * 10_000 + month * 100 + day;
  if (!isRealDate(year, month, day)) {
    return fail('date', `出生日期 ${key} 不是有效日期`, `the birth date ${key} is not a valid date`);
  }
  if (key < 19_000_101) {
    return fail('date', `出生日期 ${key} 早于 1900-01-01`, `the birth date ${key} is before 1900-01-01`);
  }
  if (isFuture(key)) {
    return fail('date', `出生日期 ${key} 晚于今天`, `the birth date ${key} is in the future`);
  }
  return undefined;
}

function ricResult(normalized: string, legacyUpgraded: boolean, sexDigit: number): IdCheck {
  const birthDate = `${normalized.slice(6, 10)}-${normalized.slice(10, 12)}-${normalized.slice(12, 14)}`;
  const regionCode = normalized.slice(0, 6);
  const sex = sexDigit % 2 === 1 ? 'male' : 'female';
  return legacyUpgraded
    ? { ok: true, normalized, legacyUpgraded: true, birthDate, regionCode, sex }
    : { ok: true, normalized, birthDate, regionCode, sex };
}

function checkRic18(s: string): IdCheck {
  let h = 0;
  for (let i = 0; i < 17; i++) {
    const d = digitAt(s, i);
    if (d < 0) {
      const { ch, zhHint, enHint } = showChar(s, i);
      return fail(
        'format',
        `第 ${i + 1} 位应为数字，实际为“${ch}”${zhHint}`,
        `character ${i + 1} should be a digit, found '${ch}'${enHint}`,
      );
    }
    h = h * 2 + d;
  }
  const last = s.charCodeAt(17);
  // Lower-case x is accepted: several provincial systems and most keyboards produce it.
  const foundValue = last === 88 || last === 120 ? 10 : last >= 48 && last <= 57 ? last - 48 : -1;
  if (foundValue < 0) {
    const { ch, zhHint, enHint } = showChar(s, 17);
    return fail(
      'format',
      `第 18 位（校验位）应为数字或 X，实际为“${ch}”${zhHint}`,
      `character 18 (the check digit) should be a digit or X, found '${ch}'${enHint}`,
    );
  }
  const year = digitAt(s, 6) * 1000 + digitAt(s, 7) * 100 + digitAt(s, 8) * 10 + digitAt(s, 9);
  const month = digitAt(s, 10) * 10 + digitAt(s, 11);
  const day = digitAt(s, 12) * 10 + digitAt(s, 13);
  // The date goes before the checksum: when both are wrong, the date message points at the typo,
  // whereas a checksum message only says that something somewhere is wrong.
  const dateFailure = ricDateFailure(year, month, day);
  if (dateFailure) return dateFailure;
  const expected = ricCheckValue(h);
  if (expected !== foundValue) {
    return checksumFailure('校验位', 'check digit', ricCheckChar(expected), last === 120 ? 'x' : ricCheckChar(foundValue));
  }
  return ricResult(last === 120 ? `${s.slice(0, 17)}X` : s, false, digitAt(s, 16));
}

/** A 15-digit number (GB 11643-1989 era): 6 region + YYMMDD + 3 sequence, no check digit, century 19. */
function checkRic15(s: string): IdCheck {
  let h = 0;
  for (let i = 0; i < 15; i++) {
    const d = digitAt(s, i);
    if (d < 0) {
      const { ch, zhHint, enHint } = showChar(s, i);
      return fail(
        'format',
        `15 位旧号码的第 ${i + 1} 位应为数字，实际为“${ch}”${zhHint}`,
        `character ${i + 1} of a 15-digit legacy number should be a digit, found '${ch}'${enHint}`,
      );
    }
    // The upgraded body is region + "19" + YYMMDD + sequence; fold the inserted "19" in at its place.
    if (i === 6) h = (h * 2 + 1) * 2 + 9;
    h = h * 2 + d;
  }
  const year = 1900 + digitAt(s, 6) * 10 + digitAt(s, 7);
  const month = digitAt(s, 8) * 10 + digitAt(s, 9);
  const day = digitAt(s, 10) * 10 + digitAt(s, 11);
  const dateFailure = ricDateFailure(year, month, day);
  if (dateFailure) return dateFailure;
  const normalized = `${s.slice(0, 6)}19${s.slice(6)}${ricCheckChar(ricCheckValue(h))}`;
  return ricResult(normalized, true, digitAt(s, 14));
}

/**
 * 居民身份证号码 (GB 11643-1999): 17 digits + check digit (0-9 or X, lower-case x accepted). Whitespace
 * anywhere is ignored. A 15-digit legacy number is upgraded and reported with `legacyUpgraded: true`.
 * Character positions in messages count after whitespace removal.
 */
export function checkResidentId(value: string): IdCheck {
  if (typeof value !== 'string') return notAString('居民身份证号码', 'a resident ID number', value);
  if (value.length > MAX_RAW_LENGTH) return ricLengthFailure(value.length);
  const s = compact(value, false, false);
  if (s.length === 18) return checkRic18(s);
  if (s.length === 15) return checkRic15(s);
  return ricLengthFailure(s.length);
}

/**
 * The 18-digit form of a 15-digit legacy resident ID (century 19 inserted, check digit appended), or
 * `undefined` unless the input is 15 digits with a real birth date, so the result always passes
 * `checkResidentId`.
 */
export function upgradeResidentId15(value: string): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_RAW_LENGTH) return undefined;
  const s = compact(value, false, false);
  if (s.length !== 15) return undefined;
  const r = checkRic15(s);
  return r.ok ? r.normalized : undefined;
}

// ---------------------------------------------------------------------------------------------------
// 统一社会信用代码 (GB 32100-2015) and 组织机构代码 (GB 11714-1997)

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

// Value of each capital letter in the USCC alphabet, -1 for I, O, S, V, Z.
const USCC_LETTER_VALUE: readonly number[] = Array.from({ length: 26 }, (_, k) =>
  USCC_ALPHABET.indexOf(String.fromCharCode(65 + k)),
);

function usccValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 90) return USCC_LETTER_VALUE[c - 65] ?? -1;
  return -1;
}

function usccLengthFailure(found: number): IdFailure {
  return found === 0
    ? fail('length', '统一社会信用代码为空', 'the unified social credit code is empty')
    : fail(
        'length',
        `统一社会信用代码应为 18 位，实际为 ${found} 位`,
        `a unified social credit code must have 18 characters, found ${found}`,
      );
}

/**
 * 统一社会信用代码 (GB 32100-2015). Spaces and hyphens are removed and letters upper-cased first;
 * `normalized` is that compact form.
 *
 * Format rules: 18 characters from `0-9A-HJ-NP-RTUWXY`, characters 3–8 (registration region) digits.
 * Unlike python-stdnum we do NOT require characters 1–2 to be digits: GB 32100 and later notices assign
 * letter codes for the registration authority (e.g. N for 农业农村 — 农村集体经济组织 codes start with
 * N1/N2/N3 — and Y for 其他), and rejecting those would reject real organisations. Such codes still have
 * to pass the MOD 31 check.
 *
 * Characters 9–17 are the organisation's GB 11714 code and carry their own check character. We do not
 * fail a USCC whose embedded organisation code is inconsistent when the USCC check character itself is
 * right: the USCC check is the authoritative one, python-stdnum does not check the embedded code either,
 * and an error we cannot explain to the sender in terms of the code they were issued would only produce
 * rejected records nobody can fix. (All 383 python-stdnum vectors pass it anyway; see the tests.)
 * Because the outcome would not change, the embedded check is not computed on this hot path.
 */
export function checkUscc(value: string): IdCheck {
  if (typeof value !== 'string') return notAString('统一社会信用代码', 'a unified social credit code', value);
  if (value.length > MAX_RAW_LENGTH) return usccLengthFailure(value.length);
  const s = compact(value, true, true);
  if (s.length !== 18) return usccLengthFailure(s.length);
  // GB 32100 weights are 3^i mod 31 (1,3,9,27,19,26,…,28); the plain powers of 3 are used instead and
  // reduced once at the end: Σ 30·3^i for i < 17 is below 2^31, so the sum is exact.
  let sum = 0;
  let weight = 1;
  for (let i = 0; i < 17; i++) {
    const c = s.charCodeAt(i);
    const v = i >= 2 && i <= 7 ? (c >= 48 && c <= 57 ? c - 48 : -1) : usccValue(c);
    if (v < 0) return usccFormatFailure(s, i);
    sum += v * weight;
    weight *= 3;
  }
  const foundValue = usccValue(s.charCodeAt(17));
  if (foundValue < 0) return usccFormatFailure(s, 17);
  const expected = (31 - (sum % 31)) % 31;
  if (expected !== foundValue) {
    return checksumFailure('校验码', 'check character', USCC_ALPHABET.charAt(expected), s.charAt(17));
  }
  return { ok: true, normalized: s };
}

function usccFormatFailure(s: string, i: number): IdFailure {
  const { ch, zhHint, enHint } = showChar(s, i);
  if (i >= 2 && i <= 7) {
    return fail(
      'format',
      `第 ${i + 1} 位应为数字（登记管理机关行政区划码），实际为“${ch}”${zhHint}`,
      `character ${i + 1} should be a digit (part of the registration region code), found '${ch}'${enHint}`,
    );
  }
  return fail(
    'format',
    `第 ${i + 1} 位“${ch}”不是统一社会信用代码允许的字符（数字或除 I、O、Z、S、V 以外的大写字母）${zhHint}`,
    `character ${i + 1} ('${ch}') is not allowed in a unified social credit code (digits and capital letters except I, O, Z, S, V)${enHint}`,
  );
}

function orgLengthFailure(found: number): IdFailure {
  return found === 0
    ? fail('length', '组织机构代码为空', 'the organization code is empty')
    : fail(
        'length',
        `组织机构代码应为 9 位（8 位本体代码加 1 位校验码），实际为 ${found} 位`,
        `an organization code must have 9 characters (8 plus a check character), found ${found}`,
      );
}

/**
 * 组织机构代码 (GB 11714-1997): 8 characters `0-9A-Z` + check character (0-9 or X). The display form
 * `XXXXXXXX-X`, spaces and lower case are accepted; `normalized` is the 9-character compact form.
 *
 * Note the scheme is weaker than it looks: letters count 10…35 but the sum is taken mod 11, so characters
 * whose values differ by 11 (0/B/M/X, 1/C/N/Y, A/L/W, …) can be swapped in the body undetected.
 */
export function checkOrgCode(value: string): IdCheck {
  if (typeof value !== 'string') return notAString('组织机构代码', 'an organization code', value);
  if (value.length > MAX_RAW_LENGTH) return orgLengthFailure(value.length);
  const s = compact(value, true, true);
  if (s.length !== 9) return orgLengthFailure(s.length);
  // Weights 3,7,9,10,5,8,4,2 are 2^(8−i) mod 11, so as for the resident ID a base-2 Horner value H gives
  // Σ cᵢ·wᵢ ≡ 2·H (mod 11). H < 2^14, exact.
  let h = 0;
  for (let i = 0; i < 8; i++) {
    const c = s.charCodeAt(i);
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : -1;
    if (v < 0) {
      const { ch, zhHint, enHint } = showChar(s, i);
      return fail(
        'format',
        `第 ${i + 1} 位应为数字或大写字母，实际为“${ch}”${zhHint}`,
        `character ${i + 1} should be a digit or a capital letter, found '${ch}'${enHint}`,
      );
    }
    h = h * 2 + v;
  }
  const last = s.charCodeAt(8);
  const foundValue = last === 88 ? 10 : last >= 48 && last <= 57 ? last - 48 : -1;
  if (foundValue < 0) {
    const { ch, zhHint, enHint } = showChar(s, 8);
    return fail(
      'format',
      `第 9 位（校验码）应为数字或 X，实际为“${ch}”${zhHint}`,
      `character 9 (the check character) should be a digit or X, found '${ch}'${enHint}`,
    );
  }
  // C9 = 11 − (Σ mod 11), with 11 written as 0 and 10 as X.
  const expected = (11 - ((2 * h) % 11)) % 11;
  if (expected !== foundValue) {
    const expectedChar = expected === 10 ? 'X' : String.fromCharCode(48 + expected);
    return checksumFailure('校验码', 'check character', expectedChar, s.charAt(8));
  }
  return { ok: true, normalized: s };
}
