/**
 * Value transforms for declarative mappings. Each is a pure function compiled once, when the
 * mapping is loaded; at run time a transform either returns the new value or a `MappingFailure`
 * saying, in both languages, why the value could not be converted. Nothing here throws per record.
 */
import type { ErrorCode } from '../errors.js';

export interface Doc {
  readonly zh: string;
  readonly en: string;
}

/** Why one value could not be transformed; becomes a GOVGATE_MAPPING_FAILED finding. */
export class MappingFailure {
  constructor(
    readonly zh: string,
    readonly en: string,
    readonly expected?: unknown,
  ) {}
}

/** Side notes a transform may leave on a record that still maps (e.g. a legacy ID was upgraded). */
export type Notify = (code: ErrorCode, found: unknown) => void;

export type Step = (value: unknown, notify: Notify) => unknown;

export interface TransformDef {
  readonly name: string;
  readonly doc: Doc;
  /** Shown in the generated docs. */
  readonly example: string;
  /** Options besides the transform's own key, for object forms like `{ date: …, tz: … }`. */
  readonly options?: readonly string[];
  /** Builds the step; returns a `Doc` describing what is wrong with the arguments instead. */
  compile(arg: unknown, options: Readonly<Record<string, unknown>>): Step | Doc;
}

const fail = (zh: string, en: string, expected?: unknown): MappingFailure => new MappingFailure(zh, en, expected);

function kind(v: unknown): Doc {
  if (v === null) return { zh: '空值', en: 'null' };
  if (Array.isArray(v)) return { zh: `含 ${v.length} 项的列表`, en: `a list of ${v.length}` };
  switch (typeof v) {
    case 'object': return { zh: '对象', en: 'an object' };
    case 'boolean': return { zh: '布尔值', en: 'a boolean' };
    case 'number': return { zh: '数值', en: 'a number' };
    default: return { zh: typeof v, en: typeof v };
  }
}

/**
 * Text transforms accept numbers too: legacy JSON often sends codes and versions as numbers,
 * and the text of a finite number is unambiguous.
 */
function text(v: unknown): string | MappingFailure {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  const k = kind(v);
  return fail(`应为文本，实际为${k.zh}`, `expected text, found ${k.en}`);
}

const textStep = (f: (s: string) => string): Step => (v) => {
  const s = text(v);
  return typeof s === 'string' ? f(s) : s;
};

// Full-width forms U+FF01–FF5E sit exactly 0xFEE0 above ASCII 0x21–0x7E; U+3000 is the ideographic space.
const FULLWIDTH = /[\uFF01-\uFF5E\u3000]/g;
const toHalf = (ch: string): string => (ch === '\u3000' ? ' ' : String.fromCharCode(ch.charCodeAt(0) - 0xfee0));
export const fullwidthToHalfwidth = (s: string): string => s.replace(FULLWIDTH, toHalf);

const INTEGER = /^[+-]?\d{1,16}(?:\.0+)?$/;
const DECIMAL = /^([+-]?)(\d{1,13})(?:\.(\d{1,12}))?$/;

export function toInteger(v: unknown): unknown {
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) ? v : fail(`应为整数，实际为 ${v}`, `expected an integer, found ${v}`);
  }
  const s = text(v);
  if (typeof s !== 'string') return s;
  const n = INTEGER.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(n)) return fail('不是整数', 'not an integer', 'integer');
  return n;
}

/**
 * Decimal text → number, for money: at most two decimals, and at most 13 integer digits so that
 * the value stays within the 15 significant digits a double holds exactly.
 */
export function toNumber(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isFinite(v) && Number(v.toFixed(2)) === v && Math.abs(v) < 1e13) return v;
    return fail(`数值 ${v} 超过两位小数或超出范围`, `the number ${v} has more than two decimals or is out of range`);
  }
  const s = text(v);
  if (typeof s !== 'string') return s;
  const m = DECIMAL.exec(s);
  if (m === null) {
    return fail('不是十进制数（应形如 1234.50，不含千分位逗号和空格）', 'not a decimal number (expected e.g. 1234.50, without thousands separators or spaces)', 'decimal');
  }
  const decimals = (m[3] ?? '').replace(/0+$/, '');
  if (decimals.length > 2) return fail('小数超过两位，无法精确表示金额', 'more than two decimals: the amount cannot be kept exact', 'at most 2 decimals');
  return Number(s);
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK = '10X98765432';

/** GB 11643 check character of the first 17 digits: C = (12 − Σ mod 11) mod 11, 10 → X. */
export function idCardCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * (ID_WEIGHTS[i] ?? 0);
  // ID_CHECK[k] = (12 − k) mod 11 written as a character, so the lookup is the formula.
  return ID_CHECK[sum % 11] ?? '';
}

const ID15 = /^\d{15}$/;

/** A 15-digit resident ID (pre-1999) → 18 digits: century `19` after the region, then the check. */
export function idCard15to18(v: unknown): unknown {
  if (typeof v !== 'string' || !ID15.test(v)) return v;
  const first17 = `${v.slice(0, 6)}19${v.slice(6)}`;
  return first17 + idCardCheckChar(first17);
}

// ── dates ─────────────────────────────────────────────────────────────────────────────────────

type Part = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'fraction' | 'offset';

const TOKENS: Readonly<Record<string, { part: Part; re: string }>> = {
  yyyy: { part: 'year', re: '(\\d{4})' },
  MM: { part: 'month', re: '(\\d{2})' },
  M: { part: 'month', re: '(\\d{1,2})' },
  dd: { part: 'day', re: '(\\d{2})' },
  d: { part: 'day', re: '(\\d{1,2})' },
  HH: { part: 'hour', re: '(\\d{2})' },
  H: { part: 'hour', re: '(\\d{1,2})' },
  mm: { part: 'minute', re: '(\\d{2})' },
  m: { part: 'minute', re: '(\\d{1,2})' },
  ss: { part: 'second', re: '(\\d{2})' },
  s: { part: 'second', re: '(\\d{1,2})' },
  XXX: { part: 'offset', re: '(Z|[+-]\\d{2}:\\d{2})' },
};

export const DATE_TOKENS_DOC = { zh: 'yyyy MM M dd d HH H mm m ss s S…（小数秒） XXX（时区偏移）', en: 'yyyy MM M dd d HH H mm m ss s S… (fraction) XXX (offset)' } as const;

export interface DatePattern {
  readonly format: string;
  readonly re: RegExp;
  /** Capture-group index of each part, 0 when absent. */
  readonly groups: Readonly<Record<Part, number>>;
}

/** Compiles a Java-style date pattern into one anchored regex; returns a `Doc` for a bad pattern. */
export function compileDatePattern(format: string): DatePattern | Doc {
  if (format.length === 0 || format.length > 64) return { zh: '日期格式为空或过长', en: 'the date format is empty or too long' };
  let re = '^';
  const groups: Record<Part, number> = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, fraction: 0, offset: 0 };
  let group = 0;
  let i = 0;
  while (i < format.length) {
    const c = format[i] ?? '';
    if (c === "'") {
      const end = format.indexOf("'", i + 1);
      if (end < 0) return { zh: `日期格式 ${format} 中的引号未闭合`, en: `unclosed quote in the date format ${format}` };
      const lit = end === i + 1 ? "'" : format.slice(i + 1, end);
      re += escapeRe(lit);
      i = end + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (format[j] === c) j++;
      const run = format.slice(i, j);
      i = j;
      let part: Part;
      let pattern: string;
      if (c === 'S') {
        if (run.length > 9) return { zh: '小数秒最多 9 位', en: 'at most 9 fraction digits' };
        part = 'fraction';
        pattern = `(\\d{${run.length}})`;
      } else {
        const tok = TOKENS[run];
        if (tok === undefined) {
          return {
            zh: `日期格式 ${format} 中有不支持的字母 ${run}；支持：${DATE_TOKENS_DOC.zh}；字面文字请加单引号，如 'T'`,
            en: `unsupported letters ${run} in the date format ${format}; supported: ${DATE_TOKENS_DOC.en}; quote literal text, e.g. 'T'`,
          };
        }
        part = tok.part;
        pattern = tok.re;
      }
      if (groups[part] !== 0) return { zh: `日期格式 ${format} 中 ${run} 重复`, en: `${run} appears twice in the date format ${format}` };
      groups[part] = ++group;
      re += pattern;
      continue;
    }
    re += escapeRe(c);
    i++;
  }
  re += '$';
  if (groups.year === 0 || groups.month === 0 || groups.day === 0) {
    return { zh: `日期格式 ${format} 须包含年（yyyy）、月（MM）、日（dd）`, en: `the date format ${format} needs a year (yyyy), month (MM) and day (dd)` };
  }
  if ((groups.minute !== 0 && groups.hour === 0) || (groups.second !== 0 && groups.minute === 0) || (groups.fraction !== 0 && groups.second === 0)) {
    return { zh: `日期格式 ${format} 的时间部分不完整（分需要时，秒需要分）`, en: `the time in the date format ${format} is incomplete (minutes need hours, seconds need minutes)` };
  }
  return { format, re: new RegExp(re), groups };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function daysInMonth(year: number, month: number): number {
  if (month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0)) return 29;
  return DAYS[month - 1] ?? 0;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const TZ = /^(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)$/;

export interface DateOptions {
  readonly patterns: readonly DatePattern[];
  /** Offset used when the text carries none. */
  readonly tz: string;
  readonly output: 'datetime' | 'date';
}

/** Parses `text` with the first pattern that matches; checks the calendar; renders ISO 8601. */
export function parseDate(value: unknown, o: DateOptions): unknown {
  if (typeof value !== 'string') {
    const k = kind(value);
    return fail(`日期应为文本，实际为${k.zh}`, `a date must be text, found ${k.en}`);
  }
  for (const p of o.patterns) {
    const m = p.re.exec(value);
    if (m === null) continue;
    const g = p.groups;
    const num = (i: number): number => (i === 0 ? 0 : Number(m[i]));
    const year = num(g.year);
    const month = num(g.month);
    const day = num(g.day);
    const hour = num(g.hour);
    const minute = num(g.minute);
    const second = num(g.second);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      return fail(`日期 ${value} 不是真实的日历日期`, `${value} is not a real calendar date`, p.format);
    }
    if (hour > 23 || minute > 59 || second > 59) {
      return fail(`时间 ${value} 超出范围（时 0–23，分、秒 0–59）`, `the time in ${value} is out of range (hours 0–23, minutes and seconds 0–59)`, p.format);
    }
    const date = `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}`;
    if (o.output === 'date') return date;
    let frac = g.fraction === 0 ? '' : (m[g.fraction] ?? '').padEnd(3, '0').slice(0, 3);
    if (frac === '000') frac = '';
    const offset = g.offset === 0 ? o.tz : (m[g.offset] ?? o.tz);
    return `${date}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}${frac === '' ? '' : `.${frac}`}${offset}`;
  }
  const formats = o.patterns.map((p) => p.format);
  return fail(`日期 ${JSON.stringify(value)} 不符合格式 ${formats.join(' 或 ')}`, `the date ${JSON.stringify(value)} does not match ${formats.join(' or ')}`, formats.length === 1 ? formats[0] : formats);
}

// ── the registry ──────────────────────────────────────────────────────────────────────────────

const simple = (name: string, doc: Doc, example: string, step: Step): TransformDef => ({
  name, doc, example,
  compile: (arg) => (arg === undefined || arg === null || arg === true ? step : { zh: `${name} 不带参数`, en: `${name} takes no argument` }),
});

export const TRANSFORMS: readonly TransformDef[] = [
  simple('trim', { zh: '去掉首尾空白（含全角空格 U+3000）', en: 'remove leading and trailing white space, including the ideographic space U+3000' }, "' 张三　' → '张三'", textStep((s) => s.trim())),
  simple('upper', { zh: '转为大写（如身份证号末位 x → X）', en: 'upper-case (e.g. a trailing x in an ID number → X)' }, "'44011320141005001x' → '44011320141005001X'", textStep((s) => s.toUpperCase())),
  simple('lower', { zh: '转为小写', en: 'lower-case' }, "'SM3' → 'sm3'", textStep((s) => s.toLowerCase())),
  simple('fullwidthToHalfwidth', { zh: '全角字符转半角：U+FF01–FF5E → ASCII，全角空格 U+3000 → 空格', en: 'full-width to half-width: U+FF01–FF5E → ASCII, U+3000 → space' }, "'ＡＢＣ１２３' → 'ABC123'", textStep(fullwidthToHalfwidth)),
  simple('toString', { zh: '数值转为文本（编码、编号以文本传送）', en: 'a number to text (codes and identifiers travel as text)' }, '330100 → \'330100\'', textStep((s) => s)),
  simple('toInteger', { zh: '整数文本转为整数（允许 "3"、"+3"、"3.0"）', en: 'integer text to an integer ("3", "+3", "3.0" are accepted)' }, "'3' → 3", toInteger),
  simple('toNumber', { zh: '十进制文本转为数值，最多两位小数（金额），超出则失败而非舍入', en: 'decimal text to a number with at most two decimals (money); more decimals fail instead of rounding' }, "'120.50' → 120.5", toNumber),
  simple('idCard15to18', { zh: '15 位旧居民身份证号升级为 18 位（GB 11643：补“19”并计算校验位），并记一条提示；其他值原样保留', en: 'upgrade a 15-digit resident ID to 18 digits (GB 11643: insert "19", compute the check digit) and note it; other values pass unchanged' }, "'330106900101123' → '33010619900101123X'", (v, notify) => {
    const out = idCard15to18(v);
    if (out !== v) notify('GOVGATE_RULE_ID_CARD_LEGACY', out);
    return out;
  }),
  {
    name: 'date',
    doc: {
      zh: `按格式解析日期时间并输出 ISO 8601（如 2026-03-05T09:30:00+08:00），校验真实日历日期。可给多个格式依次尝试；tz 为原值不含时区时采用的偏移（默认 +08:00）；output 为 datetime 或 date（格式不含时间时默认 date）。格式字母：${DATE_TOKENS_DOC.zh}`,
      en: `parse a date-time with a format and output ISO 8601 (e.g. 2026-03-05T09:30:00+08:00), checking the calendar. Several formats are tried in order; tz is the offset used when the text has none (default +08:00); output is datetime or date (date by default when the format has no time). Pattern letters: ${DATE_TOKENS_DOC.en}`,
    },
    example: "{ date: 'yyyyMMddHHmmss', tz: '+08:00' }: '20260305093000' → '2026-03-05T09:30:00+08:00'",
    options: ['tz', 'output'],
    compile(arg, options) {
      const formats = typeof arg === 'string' ? [arg] : Array.isArray(arg) && arg.length > 0 && arg.every((x) => typeof x === 'string') ? (arg as string[]) : undefined;
      if (formats === undefined) return { zh: 'date 的参数应为格式字符串或格式字符串列表', en: 'date takes a format string or a list of format strings' };
      const patterns: DatePattern[] = [];
      for (const f of formats) {
        const p = compileDatePattern(f);
        if (!('re' in p)) return p;
        patterns.push(p);
      }
      const tz = options.tz ?? '+08:00';
      if (typeof tz !== 'string' || !TZ.test(tz)) return { zh: `tz 应为 Z 或 ±hh:mm 形式的时区偏移，实际为 ${JSON.stringify(tz)}`, en: `tz must be Z or an offset ±hh:mm, found ${JSON.stringify(tz)}` };
      const hasTime = patterns.some((p) => p.groups.hour !== 0);
      const output = options.output ?? (hasTime ? 'datetime' : 'date');
      if (output !== 'datetime' && output !== 'date') return { zh: `output 应为 datetime 或 date，实际为 ${JSON.stringify(output)}`, en: `output must be datetime or date, found ${JSON.stringify(output)}` };
      const o: DateOptions = { patterns, tz, output };
      return (v) => parseDate(v, o);
    },
  },
];

export const TRANSFORM_BY_NAME: ReadonlyMap<string, TransformDef> = new Map(TRANSFORMS.map((t) => [t.name, t]));
