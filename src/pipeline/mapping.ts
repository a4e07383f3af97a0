/**
 * Declarative mappings: a department's own record shape (EA_JC columns, vendor XML, …) → the
 * standard record. A mapping is YAML in the department file, compiled once at load — pointers
 * split, transforms and date patterns built, code tables indexed, target fields checked against
 * the spec — so that `applyMapping`, which runs per record, only walks prepared plans.
 *
 * Failures per record are findings (GOVGATE_MAPPING_FAILED), never exceptions: one bad value
 * quarantines its record and names the field, the source field and the value. A value missing
 * from a code table is such a failure: unknown codes are quarantined, never passed through.
 */
import { errorMessage, type ErrorCode } from '../errors.js';
import { finding, type Finding } from '../schemas/findings.js';
import { CODE_TABLES, RECORD_SPECS, RECORD_TYPES, isRecordType, walkFields, type Field, type RecordType } from '../schemas/spec/index.js';
import { closest, show, type Problem } from '../config/ajv.js';
import { locate, problemsError, YamlSource, subLocator, type Locator } from '../config/yaml-source.js';
import { MappingFailure, TRANSFORM_BY_NAME, TRANSFORMS, type Step } from './mapping-transforms.js';

export { TRANSFORMS } from './mapping-transforms.js';

export interface MappingResult {
  /** The record in the standard shape; fields that failed are left out (see `findings`). */
  readonly record: Record<string, unknown>;
  /** Errors reject the record; warnings (e.g. a 15-digit ID upgraded) keep it. Paths point into `record`. */
  readonly findings: Finding[];
  /** From `recordType` or `recordTypeFrom`; also written as `record.recordType`. */
  readonly recordType?: RecordType;
}

/** A reader of one JSON Pointer into the source record, split once. */
interface Reader {
  readonly text: string;
  readonly segs: readonly string[];
  /** Array index of each segment, or −1 when the segment is not an index. */
  readonly idx: readonly number[];
}

interface CodeTableRef {
  readonly name: string;
  readonly map: ReadonlyMap<string, unknown>;
}

interface Convert {
  readonly steps: readonly Step[];
  readonly codes?: CodeTableRef;
}

type Plan =
  | { readonly kind: 'const'; readonly target: readonly string[]; readonly value: unknown }
  | {
      readonly kind: 'value'; readonly target: readonly string[]; readonly ptr: string;
      readonly from: readonly Reader[]; readonly conv: Convert;
      readonly hasDefault: boolean; readonly dflt: unknown;
    }
  | {
      readonly kind: 'each'; readonly target: readonly string[]; readonly ptr: string;
      readonly from: Reader; readonly fields?: readonly Plan[]; readonly conv: Convert;
    };

/** A mapping ready to run. Build with `compileMapping`; run with `applyMapping`. */
export interface CompiledMapping {
  /** Fixed record type, when the mapping names one. */
  readonly recordType?: RecordType;
  /** Every record type the mapping can produce. */
  readonly recordTypes: readonly RecordType[];
  /** @internal */
  readonly plans: readonly Plan[];
  /** @internal */
  readonly typeFrom?: { readonly from: Reader; readonly values: ReadonlyMap<string, RecordType> };
  /** @internal */
  readonly emptyAsAbsent: boolean;
  /**
   * Where the records sit in a payload, as JSON Pointer segments from the document (for XML: from
   * the root element's content). Absent: a JSON array is a list of records, anything else is one.
   */
  readonly recordsAt?: readonly string[];
}

/** The source records of one payload, as the mapping locates them. */
export function sourceRecords(m: CompiledMapping, document: unknown): unknown[] {
  let cur: unknown = document;
  if (m.recordsAt !== undefined) {
    for (const seg of m.recordsAt) {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, seg)) return [];
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  // A repeated XML element reads as an array and a single one as an object: both are lists here.
  return Array.isArray(cur) ? cur : cur === undefined || cur === '' ? [] : [cur];
}

// ── run time ──────────────────────────────────────────────────────────────────────────────────

const ABSENT = Symbol('absent');
const FAILED = Symbol('failed');

/** A pointer that walks through a list of several entries without an index: which one was meant? */
class ListCrossing {
  constructor(readonly length: number) {}
}

interface Ctx {
  readonly findings: Finding[];
  readonly emptyAsAbsent: boolean;
}

export function applyMapping(m: CompiledMapping, source: unknown): MappingResult {
  const ctx: Ctx = { findings: [], emptyAsAbsent: m.emptyAsAbsent };
  const record: Record<string, unknown> = {};
  if (source === null || typeof source !== 'object' || Array.isArray(source)) {
    fail(ctx, '', '', source, '记录应为对象（键值结构），无法按映射读取', 'a record must be an object (keys and values) to be mapped');
    return { record, findings: ctx.findings };
  }
  let recordType = m.recordType;
  if (m.typeFrom !== undefined) {
    const raw = read(source, m.typeFrom.from);
    const key = typeof raw === 'string' || (typeof raw === 'number' && Number.isFinite(raw)) ? String(raw) : undefined;
    recordType = key === undefined ? undefined : m.typeFrom.values.get(key);
    if (recordType === undefined) {
      const known = [...m.typeFrom.values.keys()];
      fail(ctx, '/recordType', m.typeFrom.from.text, raw instanceof ListCrossing ? undefined : raw,
        `记录类型取值 ${show(raw)} 不在 recordTypeFrom.values 中（可选：${known.join('、')}）`,
        `the record type value ${show(raw)} is not in recordTypeFrom.values (known: ${known.join(', ')})`, known);
    }
  }
  if (recordType !== undefined) record.recordType = recordType;
  run(m.plans, source, record, '', ctx);
  return recordType === undefined ? { record, findings: ctx.findings } : { record, findings: ctx.findings, recordType };
}

function run(plans: readonly Plan[], src: unknown, out: Record<string, unknown>, base: string, ctx: Ctx): void {
  for (const p of plans) {
    switch (p.kind) {
      case 'const':
        put(out, p.target, copy(p.value));
        break;
      case 'value': {
        let raw: unknown = ABSENT;
        let reader = p.from[0];
        for (const r of p.from) {
          const v = read(src, r);
          if (!isAbsent(v, ctx.emptyAsAbsent)) {
            raw = v;
            reader = r;
            break;
          }
        }
        const v = raw === ABSENT ? ABSENT : convert(p.conv, raw, base + p.ptr, reader?.text ?? '', ctx);
        if (v === FAILED) break;
        if (v === ABSENT) {
          if (p.hasDefault) put(out, p.target, copy(p.dflt));
          break;
        }
        put(out, p.target, v);
        break;
      }
      case 'each': {
        const v = read(src, p.from);
        if (isAbsent(v, ctx.emptyAsAbsent)) break;
        const path = base + p.ptr;
        if (v instanceof ListCrossing) {
          crossingFailure(ctx, path, p.from.text, v);
          break;
        }
        // XML turns a repeated element into a list only when it repeats: one element is a list of one.
        const items = Array.isArray(v) ? v : [v];
        const arr: unknown[] = [];
        for (let i = 0; i < items.length; i++) {
          const el: unknown = items[i];
          // `<STEP/>` is an empty entry, not a record: skip it like an absent field.
          if (isAbsent(el, ctx.emptyAsAbsent)) continue;
          const elPath = `${path}/${arr.length}`;
          if (p.fields !== undefined) {
            const obj: Record<string, unknown> = {};
            if (el !== null && typeof el === 'object' && !Array.isArray(el)) run(p.fields, el, obj, elPath, ctx);
            else fail(ctx, elPath, `${p.from.text}/${i}`, el, '列表条目应为对象（含子字段）', 'a list entry must be an object with fields');
            arr.push(obj);
          } else {
            const r = convert(p.conv, el, elPath, `${p.from.text}/${i}`, ctx);
            if (r !== ABSENT && r !== FAILED) arr.push(r);
          }
        }
        put(out, p.target, arr);
        break;
      }
    }
  }
}

function convert(conv: Convert, raw: unknown, path: string, from: string, ctx: Ctx): unknown {
  let v = raw;
  if (v instanceof ListCrossing) {
    crossingFailure(ctx, path, from, v);
    return FAILED;
  }
  if (conv.steps.length === 0 && conv.codes === undefined) return v;
  if (Array.isArray(v)) {
    if (v.length !== 1) {
      fail(ctx, path, from, raw, `源字段出现 ${v.length} 次，应只有一个值`, `the source field occurs ${v.length} times; one value was expected`);
      return FAILED;
    }
    v = v[0];
  }
  const notify = (code: ErrorCode, found: unknown): void => {
    ctx.findings.push(finding('warning', code, { path, found }));
  };
  for (const step of conv.steps) {
    v = step(v, notify);
    if (v instanceof MappingFailure) {
      fail(ctx, path, from, raw, v.zh, v.en, v.expected);
      return FAILED;
    }
  }
  if (isAbsent(v, ctx.emptyAsAbsent)) return ABSENT;
  if (conv.codes !== undefined) {
    const key = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
    const hit = key === undefined ? undefined : conv.codes.map.get(key);
    if (hit === undefined) {
      const known = [...conv.codes.map.keys()];
      const shown = known.length > 20 ? [...known.slice(0, 20), '…'] : known;
      fail(ctx, path, from, raw,
        `代码 ${show(v)} 不在映射代码表 ${conv.codes.name} 中（已定义：${shown.join('、')}）`,
        `the code ${show(v)} is not in the mapping code table ${conv.codes.name} (defined: ${shown.join(', ')})`, shown);
      return FAILED;
    }
    v = hit;
  }
  return v;
}

function crossingFailure(ctx: Ctx, path: string, from: string, c: ListCrossing): void {
  fail(ctx, path, from, undefined,
    `源路径经过一个含 ${c.length} 项的列表，无法确定取哪一项：请用 each 或在路径中写明序号`,
    `the source path crosses a list of ${c.length} entries: use each, or put an index in the path`);
}

function fail(ctx: Ctx, path: string, from: string, found: unknown, zh: string, en: string, expected?: unknown): void {
  const init = { path, ...(found === undefined ? {} : { found }), ...(expected === undefined ? {} : { expected }) };
  // The message template has one {detail} slot; each language gets its own text.
  const where = from === '' ? { zh: '', en: '' } : { zh: `；源字段 ${from}`, en: `; source field ${from}` };
  const f = finding('error', 'GOVGATE_MAPPING_FAILED', { ...init, detail: `${zh}${where.zh}` });
  const enText = errorMessage('GOVGATE_MAPPING_FAILED', { ...init, path: path === '' ? '/' : path, detail: `${en}${where.en}` }).en;
  ctx.findings.push({ ...f, message: { zh: f.message.zh, en: enText } });
}

/**
 * Reads a JSON Pointer. Lenient where XML is ambiguous: index 0 of a single element is the
 * element, and a one-entry list is walked through as its entry.
 */
function read(src: unknown, r: Reader): unknown {
  let cur = src;
  const { segs, idx } = r;
  for (let i = 0; i < segs.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      const n = idx[i] ?? -1;
      if (n >= 0) {
        cur = cur[n];
        continue;
      }
      if (cur.length !== 1) return cur.length === 0 ? undefined : new ListCrossing(cur.length);
      cur = cur[0];
      i--;
      continue;
    }
    const s = segs[i] ?? '';
    if (Object.hasOwn(cur, s)) cur = (cur as Record<string, unknown>)[s];
    else if (idx[i] !== 0) return undefined;
  }
  return cur;
}

function isAbsent(v: unknown, emptyAsAbsent: boolean): boolean {
  return v === undefined || v === null || (emptyAsAbsent && v === '');
}

function put(out: Record<string, unknown>, target: readonly string[], value: unknown): void {
  let o = out;
  const last = target.length - 1;
  for (let i = 0; i < last; i++) {
    const s = target[i] ?? '';
    let next = o[s] as Record<string, unknown> | undefined;
    if (next === undefined) {
      next = {};
      o[s] = next;
    }
    o = next;
  }
  o[target[last] ?? ''] = value;
}

/** Constants and defaults are copied per record: downstream stages normalise records in place. */
function copy(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}

// ── compile time ──────────────────────────────────────────────────────────────────────────────

/** Field maps of each record type, keyed `applicant.name`, `steps[].seq`. */
const SPEC_FIELDS: ReadonlyMap<RecordType, ReadonlyMap<string, Field>> = new Map(
  RECORD_TYPES.map((t) => [t, new Map([...walkFields(RECORD_SPECS[t].fields)].map(({ path, field }) => [path, field]))]),
);

const TARGET_SEGMENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype', 'recordType']);
const TOP_KEYS = ['recordType', 'recordTypeFrom', 'recordsAt', 'fields', 'codes', 'emptyAsAbsent'] as const;
const VALUE_KEYS = ['from', 'transform', 'codes', 'default'] as const;
const EACH_KEYS = ['each', 'fields', 'transform', 'codes'] as const;

type Path = readonly (string | number)[];
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

class Compiler {
  readonly problems: Problem[] = [];
  readonly tables = new Map<string, CodeTableRef>();
  /** Where each table's entries live, to point at a wrong standard code. */
  private readonly rawTables = new Map<string, Obj>();
  candidates: RecordType[] = [...RECORD_TYPES];

  constructor(private readonly where: Locator | undefined) {}

  problem(path: Path, zh: string, en: string, atKey = false, found?: unknown): void {
    this.problems.push({ path, zh, en, ...(atKey ? { atKey } : {}), ...(found === undefined ? {} : { found }) });
  }

  keys(obj: Obj, path: Path, allowed: readonly string[], what: { zh: string; en: string }): void {
    for (const k of Object.keys(obj)) {
      if (allowed.includes(k)) continue;
      const guess = closest(k, allowed);
      this.problem([...path, k],
        `${what.zh}中有未知的键 "${k}"${guess ? `，是否应为 "${guess}"？` : ''}；可用：${allowed.join('、')}`,
        `unknown key "${k}" in ${what.en}${guess ? `; did you mean "${guess}"?` : ''}; allowed: ${allowed.join(', ')}`, true);
    }
  }

  pointer(v: unknown, path: Path): Reader | undefined {
    if (typeof v !== 'string') {
      this.problem(path, `源路径应为 JSON Pointer 字符串（如 /PROJID），实际为 ${show(v)}`, `a source path must be a JSON Pointer string (e.g. /PROJID), found ${show(v)}`);
      return undefined;
    }
    if (v !== '' && (!v.startsWith('/') || v.length > 512 || /~[^01]|~$/.test(v))) {
      this.problem(path, `源路径 ${show(v)} 不是有效的 JSON Pointer：应以 / 开头，如 /PROJID 或 /STEPS/STEP`, `the source path ${show(v)} is not a valid JSON Pointer: it starts with /, e.g. /PROJID or /STEPS/STEP`);
      return undefined;
    }
    const segs = v === '' ? [] : v.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (segs.length > 32) {
      this.problem(path, '源路径层级过深（最多 32 层）', 'the source path is too deep (at most 32 levels)');
      return undefined;
    }
    return { text: v, segs, idx: segs.map((s) => (/^(0|[1-9]\d{0,8})$/.test(s) ? Number(s) : -1)) };
  }

  codes(raw: unknown): void {
    if (raw === undefined) return;
    if (!isObj(raw)) {
      this.problem(['codes'], '代码表 codes 应为映射：表名 → { 本地代码: 标准代码 }', 'codes must be a mapping: table name → { local code: standard code }');
      return;
    }
    for (const [name, table] of Object.entries(raw)) {
      const path = ['codes', name];
      if (!TARGET_SEGMENT.test(name)) {
        this.problem(path, `代码表名 "${name}" 应由字母、数字、下划线组成`, `the code table name "${name}" must be letters, digits and underscores`, true);
        continue;
      }
      if (!isObj(table) || Object.keys(table).length === 0) {
        this.problem(path, `代码表 ${name} 应为非空映射 { 本地代码: 标准代码 }`, `the code table ${name} must be a non-empty mapping { local code: standard code }`);
        continue;
      }
      const map = new Map<string, unknown>();
      for (const [local, std] of Object.entries(table)) {
        // `01: x` is the number 1 in YAML: the leading zero is gone before anyone sees the key.
        const kind = this.where?.scalarKind?.([...path, local], { atKey: true });
        if (kind !== undefined && kind !== 'string') {
          this.problem([...path, local], `代码表 ${name} 的键 ${local} 未加引号，会被读作${kind === 'number' ? '数字（前导 0 丢失）' : kind}；请写成 '${local}'`,
            `the key ${local} of the code table ${name} is not quoted and is read as a ${kind} (leading zeros are lost); write '${local}'`, true);
          continue;
        }
        if (std === null || typeof std === 'object') {
          this.problem([...path, local], `代码表 ${name} 中 ${local} 对应的标准代码应为单个值，实际为 ${show(std)}`, `the standard code for ${local} in the code table ${name} must be a single value, found ${show(std)}`);
          continue;
        }
        map.set(local, std);
      }
      this.tables.set(name, { name, map });
      this.rawTables.set(name, table);
    }
  }

  /** Local code table → standard code table of the target field: every standard code must exist. */
  checkCodesAgainst(tableName: string, field: Field | undefined): void {
    const std = field?.type === 'code' ? field.table : field?.type === 'array' && field.items.type === 'code' ? field.items.table : undefined;
    const table = this.rawTables.get(tableName);
    if (std === undefined || table === undefined || !Object.hasOwn(CODE_TABLES, std)) return;
    const valid = new Set<string>(CODE_TABLES[std].entries.map((e) => e.code));
    for (const [local, value] of Object.entries(table)) {
      const path = ['codes', tableName, local];
      const kind = this.where?.scalarKind?.(path);
      if (typeof value !== 'string' || (kind !== undefined && kind !== 'string')) {
        this.problem(path, `标准代码 ${show(value)} 应加引号写成文本，如 '${String(value)}'`, `the standard code ${show(value)} must be quoted text, e.g. '${String(value)}'`, false, value);
      } else if (!valid.has(value)) {
        this.problem(path,
          `${show(value)} 不是标准代码表 ${std}（${CODE_TABLES[std].zh}）中的代码；可选：${[...valid].join('、')}`,
          `${show(value)} is not a code of the standard table ${std} (${CODE_TABLES[std].en}); allowed: ${[...valid].join(', ')}`, false, value);
      }
    }
  }

  specField(key: string): { known: boolean; field?: Field } {
    let found: Field | undefined;
    for (const t of this.candidates) {
      const f = SPEC_FIELDS.get(t)?.get(key);
      if (f !== undefined) {
        found = f;
        break;
      }
    }
    return found === undefined ? { known: false } : { known: true, field: found };
  }

  siblings(parentKey: string): string[] {
    const out = new Set<string>();
    for (const t of this.candidates) {
      for (const k of SPEC_FIELDS.get(t)?.keys() ?? []) {
        const prefix = parentKey === '' ? '' : `${parentKey}.`;
        if (parentKey !== '' && !k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        if (!/[.[]/.test(rest)) out.add(rest);
      }
    }
    return [...out];
  }

  fields(raw: unknown, path: Path, keyPrefix: string): Plan[] {
    if (!isObj(raw) || Object.keys(raw).length === 0) {
      this.problem(path, 'fields 应为非空映射：目标字段 → 取值规则', 'fields must be a non-empty mapping: target field → rule');
      return [];
    }
    const plans: Plan[] = [];
    const targets = Object.keys(raw);
    const sorted = [...targets].sort();
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1] ?? '';
      const b = sorted[i] ?? '';
      if (b.startsWith(`${a}.`)) {
        this.problem([...path, b], `目标字段 ${b} 与 ${a} 冲突：${a} 已整体赋值`, `the target ${b} conflicts with ${a}, which is set as a whole`, true);
      }
    }
    for (const target of targets) {
      const p = this.field(target, raw[target], [...path, target], keyPrefix);
      if (p !== undefined) plans.push(p);
    }
    return plans;
  }

  field(target: string, raw: unknown, path: Path, keyPrefix: string): Plan | undefined {
    const segs = target.split('.');
    if (segs.length > 8 || !segs.every((s) => TARGET_SEGMENT.test(s) && !FORBIDDEN.has(s))) {
      this.problem(path, `目标字段 "${target}" 无效：应为以点分隔的字段名，如 applicant.name`, `the target "${target}" is invalid: expected field names separated by dots, e.g. applicant.name`, true);
      return undefined;
    }
    const key = keyPrefix === '' ? target : `${keyPrefix}.${target}`;
    const spec = this.specField(key);
    if (!spec.known) {
      const parentKey = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
      const leaf = key.slice(key.lastIndexOf('.') + 1);
      const options = this.siblings(parentKey);
      const guess = closest(leaf, options);
      const types = this.candidates.join('/');
      this.problem(path,
        `标准记录（${types}）中没有字段 ${key}${guess ? `，是否应为 ${parentKey === '' ? guess : `${parentKey}.${guess}`}？` : ''}`,
        `the standard record (${types}) has no field ${key}${guess ? `; did you mean ${parentKey === '' ? guess : `${parentKey}.${guess}`}?` : ''}`, true);
    }
    const ptr = `/${segs.join('/')}`;
    const spec0 = typeof raw === 'string' ? { from: raw } : raw;
    if (!isObj(spec0)) {
      this.problem(path, `字段规则应为映射（from/const/each …）或源路径字符串，实际为 ${show(raw)}`, `a field rule must be a mapping (from/const/each …) or a source path string, found ${show(raw)}`);
      return undefined;
    }
    if (Object.hasOwn(spec0, 'const')) {
      this.keys(spec0, path, ['const'], { zh: 'const 规则', en: 'a const rule' });
      return { kind: 'const', target: segs, value: spec0.const };
    }
    if (Object.hasOwn(spec0, 'each')) {
      this.keys(spec0, path, EACH_KEYS, { zh: 'each 规则', en: 'an each rule' });
      if (spec.field !== undefined && spec.field.type !== 'array') {
        this.problem([...path, 'each'], `each 生成列表，但标准字段 ${key} 不是列表`, `each builds a list, but the standard field ${key} is not a list`);
      }
      const from = this.pointer(spec0.each, [...path, 'each']);
      const conv = this.convert(spec0, path, spec.field);
      let fields: Plan[] | undefined;
      if (spec0.fields !== undefined) {
        if (conv.steps.length > 0 || conv.codes !== undefined) {
          this.problem(path, 'each 带 fields 时，transform 和 codes 应写在子字段上', 'with fields, put transform and codes on the sub-fields of each');
        }
        fields = this.fields(spec0.fields, [...path, 'fields'], `${key}[]`);
      }
      if (from === undefined) return undefined;
      return { kind: 'each', target: segs, ptr, from, conv, ...(fields === undefined ? {} : { fields }) };
    }
    this.keys(spec0, path, VALUE_KEYS, { zh: '字段规则', en: 'a field rule' });
    if (!Object.hasOwn(spec0, 'from')) {
      this.problem(path, '字段规则需要 from（源路径）、const（常量）或 each（列表）之一', 'a field rule needs one of from (source path), const (constant) or each (list)');
      return undefined;
    }
    const fromRaw = spec0.from;
    const list = Array.isArray(fromRaw) ? fromRaw : [fromRaw];
    if (list.length === 0 || list.length > 8) {
      this.problem([...path, 'from'], 'from 应为一个源路径或 1–8 个备选源路径的列表', 'from must be one source path or a list of 1–8 alternatives');
      return undefined;
    }
    const from = list.map((v, i) => this.pointer(v, Array.isArray(fromRaw) ? [...path, 'from', i] : [...path, 'from']));
    const conv = this.convert(spec0, path, spec.field);
    if (from.some((r) => r === undefined)) return undefined;
    const hasDefault = Object.hasOwn(spec0, 'default');
    return { kind: 'value', target: segs, ptr, from: from as Reader[], conv, hasDefault, dflt: hasDefault ? spec0.default : undefined };
  }

  convert(spec: Obj, path: Path, field: Field | undefined): Convert {
    const steps = this.transforms(spec.transform, [...path, 'transform']);
    if (spec.codes === undefined) return { steps };
    if (typeof spec.codes !== 'string' || !this.tables.has(spec.codes)) {
      const known = [...this.tables.keys()];
      this.problem([...path, 'codes'],
        `代码表 ${show(spec.codes)} 未在 codes 中定义${known.length > 0 ? `；已定义：${known.join('、')}` : ''}`,
        `the code table ${show(spec.codes)} is not defined under codes${known.length > 0 ? `; defined: ${known.join(', ')}` : ''}`);
      return { steps };
    }
    this.checkCodesAgainst(spec.codes, field);
    const codes = this.tables.get(spec.codes);
    return codes === undefined ? { steps } : { steps, codes };
  }

  transforms(raw: unknown, path: Path): Step[] {
    if (raw === undefined) return [];
    const items = Array.isArray(raw) ? raw : [raw];
    const steps: Step[] = [];
    const names = TRANSFORMS.map((t) => t.name);
    items.forEach((item, i) => {
      const at = Array.isArray(raw) ? [...path, i] : path;
      let name: string | undefined;
      let arg: unknown;
      let options: Obj = {};
      if (typeof item === 'string') name = item;
      else if (isObj(item)) {
        const own = Object.keys(item).filter((k) => TRANSFORM_BY_NAME.has(k));
        if (own.length === 1) {
          name = own[0];
          arg = item[name ?? ''];
          options = Object.fromEntries(Object.entries(item).filter(([k]) => k !== name));
        } else {
          const first = Object.keys(item)[0] ?? '';
          const guess = closest(first, names);
          this.problem(at, `未知的转换 ${show(first)}${guess ? `，是否应为 ${guess}？` : ''}；可用：${names.join('、')}`, `unknown transform ${show(first)}${guess ? `; did you mean ${guess}?` : ''}; available: ${names.join(', ')}`);
          return;
        }
      }
      const def = name === undefined ? undefined : TRANSFORM_BY_NAME.get(name);
      if (def === undefined) {
        const guess = typeof item === 'string' ? closest(item, names) : undefined;
        this.problem(at, `未知的转换 ${show(item)}${guess ? `，是否应为 ${guess}？` : ''}；可用：${names.join('、')}`, `unknown transform ${show(item)}${guess ? `; did you mean ${guess}?` : ''}; available: ${names.join(', ')}`);
        return;
      }
      for (const k of Object.keys(options)) {
        if (!(def.options ?? []).includes(k)) {
          this.problem([...at, k], `转换 ${def.name} 没有选项 ${k}${def.options ? `；可用：${def.options.join('、')}` : ''}`, `the transform ${def.name} has no option ${k}${def.options ? `; available: ${def.options.join(', ')}` : ''}`, true);
          return;
        }
      }
      const step = def.compile(arg, options);
      if (typeof step === 'function') steps.push(step);
      else this.problem(isObj(item) ? [...at, def.name] : at, step.zh, step.en);
    });
    return steps;
  }
}

/**
 * Validates and compiles a mapping. `where` locates problems in the file (department files pass
 * a locator for their `mapping:` section); problems are thrown together as GOVGATE_MAPPING_INVALID.
 */
export function compileMapping(raw: unknown, where?: Locator): CompiledMapping {
  const c = new Compiler(where);
  if (!isObj(raw)) {
    throw problemsError('GOVGATE_MAPPING_INVALID', [locate(where, {
      path: [], zh: `映射应为映射（recordType、fields、codes …），实际为 ${show(raw)}`, en: `a mapping must be a mapping (recordType, fields, codes …), found ${show(raw)}`,
    })]);
  }
  c.keys(raw, [], TOP_KEYS, { zh: '映射', en: 'the mapping' });

  let recordType: RecordType | undefined;
  let typeFrom: CompiledMapping['typeFrom'];
  if (raw.recordType !== undefined && raw.recordTypeFrom !== undefined) {
    c.problem(['recordTypeFrom'], 'recordType 与 recordTypeFrom 只能二选一', 'give either recordType or recordTypeFrom, not both', true);
  } else if (raw.recordType !== undefined) {
    if (isRecordType(raw.recordType)) {
      recordType = raw.recordType;
      c.candidates = [recordType];
    } else {
      c.problem(['recordType'], `记录类型应为 ${RECORD_TYPES.join('、')} 之一，实际为 ${show(raw.recordType)}`, `the record type must be one of ${RECORD_TYPES.join(', ')}, found ${show(raw.recordType)}`);
    }
  } else if (raw.recordTypeFrom !== undefined) {
    typeFrom = recordTypeFrom(c, raw.recordTypeFrom);
    if (typeFrom !== undefined) c.candidates = [...new Set(typeFrom.values.values())];
  }

  let emptyAsAbsent = true;
  if (raw.emptyAsAbsent !== undefined) {
    if (typeof raw.emptyAsAbsent === 'boolean') emptyAsAbsent = raw.emptyAsAbsent;
    else c.problem(['emptyAsAbsent'], 'emptyAsAbsent 应为 true 或 false', 'emptyAsAbsent must be true or false');
  }

  let recordsAt: string[] | undefined;
  if (raw.recordsAt !== undefined) {
    if (typeof raw.recordsAt === 'string' && /^(\/[^/]+)+$/.test(raw.recordsAt) && raw.recordsAt.length <= 200) {
      recordsAt = raw.recordsAt.split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
    } else {
      c.problem(['recordsAt'], `recordsAt 应为 JSON 指针（如 /RECORD），实际为 ${show(raw.recordsAt)}`, `recordsAt must be a JSON Pointer such as /RECORD, found ${show(raw.recordsAt)}`);
    }
  }

  c.codes(raw.codes);
  const plans = c.fields(raw.fields, ['fields'], '');
  if (c.problems.length > 0) throw problemsError('GOVGATE_MAPPING_INVALID', c.problems.map((p) => locate(where, p)));
  return {
    ...(recordType === undefined ? {} : { recordType }),
    recordTypes: recordType !== undefined ? [recordType] : typeFrom !== undefined ? [...new Set(typeFrom.values.values())] : [...RECORD_TYPES],
    plans,
    ...(typeFrom === undefined ? {} : { typeFrom }),
    ...(recordsAt === undefined ? {} : { recordsAt }),
    emptyAsAbsent,
  };
}

function recordTypeFrom(c: Compiler, raw: unknown): CompiledMapping['typeFrom'] {
  const path = ['recordTypeFrom'];
  if (!isObj(raw)) {
    c.problem(path, 'recordTypeFrom 应为 { from: 源路径, values: { 本地值: 记录类型 } }', 'recordTypeFrom must be { from: source path, values: { local value: record type } }');
    return undefined;
  }
  c.keys(raw, path, ['from', 'values'], { zh: 'recordTypeFrom', en: 'recordTypeFrom' });
  const from = c.pointer(raw.from, [...path, 'from']);
  const values = new Map<string, RecordType>();
  if (!isObj(raw.values) || Object.keys(raw.values).length === 0) {
    c.problem([...path, 'values'], 'values 应为非空映射 { 本地值: 记录类型 }', 'values must be a non-empty mapping { local value: record type }');
  } else {
    for (const [k, v] of Object.entries(raw.values)) {
      if (isRecordType(v)) values.set(k, v);
      else c.problem([...path, 'values', k], `记录类型应为 ${RECORD_TYPES.join('、')} 之一，实际为 ${show(v)}`, `the record type must be one of ${RECORD_TYPES.join(', ')}, found ${show(v)}`);
    }
  }
  return from === undefined || values.size === 0 ? undefined : { from, values };
}

/**
 * Compiles a mapping from YAML text: a department file (its `mapping:` section) or a file that
 * is only a mapping. For `govgate mapping test` and for tests.
 */
export function compileMappingYaml(text: string, file: string): CompiledMapping {
  const src = YamlSource.parse(file, text, 'GOVGATE_MAPPING_INVALID');
  const data = src.toJS();
  if (isObj(data) && Object.hasOwn(data, 'mapping')) return compileMapping(data.mapping, subLocator(src, ['mapping']));
  return compileMapping(data, src);
}
