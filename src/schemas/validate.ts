/**
 * Validation of spec v1 documents in two layers, compiled once: the JSON Schema (shape, lengths,
 * patterns, code tables) and the rules (check digits, time order, lifecycle, amounts, catalogue).
 * The input is a plain value produced by the wire layer (JSON) or the XML form; records are
 * normalised in place (strings trimmed, identifiers canonicalised), so the caller must own them.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { finding, forRecord, hasErrors, pointer, type Finding } from './findings.js';
import { envelopeSchema, recordSchema } from './json-schema.js';
import { fieldAt, labelsAt } from './labels.js';
import { applyRules, type RuleContext } from './rules/index.js';
import { codesOf, isRecordType, RECORD_SPECS, RECORD_TYPES, SPEC_VERSION, SUPPORTED_SPEC_VERSIONS, type RecordType } from './spec/index.js';

/**
 * RFC 3339 with a mandatory offset and a real calendar day. Written here rather than taken from
 * ajv-formats: its full mode costs more than the rest of the schema together on a case record
 * (9 timestamps), and its fast mode accepts a space separator and a missing offset.
 */
const DATE_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,9})?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;
const DATE = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function realDay(year: number, month: number, day: number): boolean {
  if (day <= 28) return true;
  if (month === 2 && day === 29) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1]!;
}

/** The two ASCII digits at `i` as a number (the pattern has already matched them). */
const digits2 = (s: string, i: number): number => (s.charCodeAt(i) - 0x30) * 10 + s.charCodeAt(i + 1) - 0x30;

/**
 * Both patterns put YYYY-MM-DD at offsets 0, 5 and 8, so once `test` has matched, the day is read
 * from the characters: 33 ns a timestamp instead of 125 ns with `exec`, its match array and three
 * `Number()` calls (Node 20.20, median of 7×500,000). A case record carries 9–11 of them.
 */
function calendarCheck(re: RegExp): (s: string) => boolean {
  return (s) => {
    if (!re.test(s)) return false;
    const day = digits2(s, 8);
    return day <= 28 || realDay(digits2(s, 0) * 100 + digits2(s, 2), digits2(s, 5), day);
  };
}

export const isDateTime = calendarCheck(DATE_TIME);
export const isDate = calendarCheck(DATE);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ValidatorOptions extends RuleContext {
  /** Upper bound on records per batch (the envelope schema enforces it). */
  readonly maxRecords?: number;
  /** Findings reported per record at most; the rest are summarised, so hostile input can't flood a receipt. */
  readonly maxFindingsPerRecord?: number;
}

export interface RecordResult {
  readonly index: number;
  readonly recordType?: RecordType;
  readonly key?: string;
  readonly dataVer?: number;
  readonly deptCode?: string;
  /** The normalised record (present when it has no errors). */
  readonly record?: Obj;
  readonly findings: readonly Finding[];
  readonly ok: boolean;
}

export interface Envelope {
  readonly specVersion: string;
  readonly batchId: string;
  readonly senderDept: string;
  readonly sentAt: string;
  /** One per record, same order (the upstream protocol); absent for ordinary submissions. */
  readonly idempotencyKeys?: readonly string[];
}

export interface DocumentResult {
  readonly kind: 'batch' | 'record';
  readonly envelope?: Envelope;
  /** Findings about the document as a whole; an error here means no record was read. */
  readonly findings: readonly Finding[];
  readonly records: readonly RecordResult[];
}

export interface ValidateHints {
  /**
   * No string in the value starts or ends with whitespace, so trimming would change nothing and is
   * skipped. Only for a value the caller has just read and not changed since: readDocument says
   * so for JSON with `trimmed` (see parseJsonStrict).
   */
  readonly trimmed?: boolean;
}

export interface Validator {
  validateRecord(value: unknown, index?: number, expectedType?: RecordType): RecordResult;
  /** `expectedType` types a single record that omits `recordType` (the type-specific routes). */
  validateDocument(value: unknown, expectedType?: RecordType, hints?: ValidateHints): DocumentResult;
}

const TYPE_NAMES: Record<string, { zh: string; en: string }> = {
  string: { zh: '字符串', en: 'a string' },
  integer: { zh: '整数', en: 'an integer' },
  number: { zh: '数值', en: 'a number' },
  boolean: { zh: '布尔值 true/false', en: 'a boolean true/false' },
  object: { zh: '对象', en: 'an object' },
  array: { zh: '数组', en: 'an array' },
  null: { zh: '空值', en: 'null' },
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function valueAt(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const seg of path.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = Object.hasOwn(cur, key) ? (cur as Obj)[key] : undefined;
  }
  return cur;
}

/** Whitespace at either end, by the same definition String.prototype.trim uses, tested cheaply. */
function needsTrim(s: string): boolean {
  if (s.length === 0) return false;
  const a = s.charCodeAt(0);
  const b = s.charCodeAt(s.length - 1);
  return a <= 0x20 || b <= 0x20 || a === 0x3000 || b === 0x3000 || (a >= 0x80 && s.trim().length !== s.length) || (b >= 0x80 && s.trim().length !== s.length);
}

/** Strings are trimmed: leading and trailing blanks carry no meaning in any element of the spec. */
function trimStrings(value: Obj | unknown[]): void {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'string') {
        if (needsTrim(v)) value[i] = v.trim();
      } else if (v !== null && typeof v === 'object') trimStrings(v as Obj);
    }
    return;
  }
  for (const k in value) {
    const v = value[k];
    if (typeof v === 'string') {
      if (needsTrim(v)) value[k] = v.trim();
    } else if (v !== null && typeof v === 'object') trimStrings(v as Obj);
  }
}

/** One ajv error → one finding with the field's names and expected vs found. */
function toFinding(type: RecordType | undefined, e: ErrorObject, data: unknown): Finding | undefined {
  const params = e.params as Record<string, unknown>;
  const found = valueAt(data, e.instancePath);
  const at = (path: string) => ({ path, ...labelsAt(type, path) });
  switch (e.keyword) {
    case 'required': {
      const path = `${e.instancePath}/${String(params['missingProperty'])}`;
      return finding('error', 'GOVGATE_FIELD_REQUIRED', at(path));
    }
    case 'additionalProperties':
      return finding('error', 'GOVGATE_FIELD_UNKNOWN', { path: `${e.instancePath}/${String(params['additionalProperty'])}` });
    case 'type': {
      const want = TYPE_NAMES[String(params['type'])] ?? { zh: String(params['type']), en: String(params['type']) };
      const got = TYPE_NAMES[jsonType(found)] ?? { zh: jsonType(found), en: jsonType(found) };
      return finding('error', 'GOVGATE_FIELD_TYPE', {
        ...at(e.instancePath), expected: want.zh, expectedEn: want.en, found: `${got.zh} ${short(found)}`, foundEn: `${got.en} ${short(found)}`,
      });
    }
    case 'maxLength':
      return finding('error', 'GOVGATE_FIELD_TOO_LONG', {
        ...at(e.instancePath), expected: `${String(params['limit'])} 个字符`, expectedEn: `${String(params['limit'])} characters`,
        found: `${[...String(found)].length} 个字符`, foundEn: `${[...String(found)].length} characters`,
      });
    case 'minLength':
      return finding('error', 'GOVGATE_FIELD_TOO_SHORT', {
        ...at(e.instancePath), expected: `${String(params['limit'])} 个字符`, expectedEn: `${String(params['limit'])} characters`,
        found: `${[...String(found)].length} 个字符`, foundEn: `${[...String(found)].length} characters`,
      });
    case 'pattern': {
      const field = type === undefined ? undefined : fieldAt(type, e.instancePath);
      const hint = field?.type === 'string' ? field.patternHint : undefined;
      return finding('error', 'GOVGATE_FIELD_PATTERN', {
        ...at(e.instancePath), expected: hint?.zh ?? String(params['pattern']), expectedEn: hint?.en ?? String(params['pattern']), found: short(found),
      });
    }
    case 'format': {
      const isDate = params['format'] === 'date';
      return finding('error', 'GOVGATE_FIELD_PATTERN', {
        ...at(e.instancePath),
        expected: isDate ? '日期 YYYY-MM-DD，如 2026-03-02' : '带时区的时间 RFC 3339，如 2026-03-02T09:15:00+08:00',
        expectedEn: isDate ? 'a date YYYY-MM-DD, e.g. 2026-03-02' : 'an RFC 3339 date-time with offset, e.g. 2026-03-02T09:15:00+08:00',
        found: short(found),
      });
    }
    case 'enum': {
      const field = type === undefined ? undefined : fieldAt(type, e.instancePath);
      const table = field?.type === 'code' ? field.table : field?.type === 'array' && field.items.type === 'code' ? field.items.table : undefined;
      const allowed = table === undefined ? (params['allowedValues'] as unknown[]).map(String) : codesOf(table);
      return finding('error', 'GOVGATE_FIELD_CODE', { ...at(e.instancePath), table: table ?? '-', expected: allowed.join(', '), found: short(found) });
    }
    case 'const':
      return finding('error', 'GOVGATE_FIELD_CODE', { ...at(e.instancePath), table: '-', expected: String(params['allowedValue']), found: short(found) });
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const op = e.keyword === 'minimum' ? '≥' : e.keyword === 'maximum' ? '≤' : e.keyword === 'exclusiveMinimum' ? '>' : '<';
      return finding('error', 'GOVGATE_FIELD_RANGE', { ...at(e.instancePath), expected: `${op} ${String(params['limit'])}`, found: short(found) });
    }
    case 'maxItems':
    case 'minItems': {
      const op = e.keyword === 'maxItems' ? '≤' : '≥';
      return finding('error', 'GOVGATE_FIELD_ITEMS', { ...at(e.instancePath), expected: `${op} ${String(params['limit'])}`, found: Array.isArray(found) ? found.length : short(found) });
    }
    case 'if':
      // The `then` branch already reported each missing field.
      return undefined;
    default:
      return finding('error', 'GOVGATE_FIELD_INVALID', { ...at(e.instancePath), detail: e.message ?? e.keyword });
  }
}

function short(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = JSON.stringify(v);
  else {
    try { s = JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Every `minLength` in a schema is at most 1 (see createValidator). */
function minLengthsAtMostOne(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(minLengthsAtMostOne);
  if (typeof schema !== 'object' || schema === null) return true;
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'minLength' && !(typeof v === 'number' && v <= 1)) return false;
    if (!minLengthsAtMostOne(v)) return false;
  }
  return true;
}

// ajv warns that `unicode` is deprecated (it still works in ajv 8); only that warning is dropped.
const AJV_LOGGER = {
  log: (...args: unknown[]): void => console.log(...args),
  warn: (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].startsWith('DEPRECATED: option unicode')) return;
    console.warn(...args);
  },
  error: (...args: unknown[]): void => console.error(...args),
};

function newAjv(fast: boolean, countCodeUnits: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    // The full validators report every error, which saves the department a round trip per mistake;
    // they only run on records the fast validator refused (see createValidator).
    allErrors: !fast,
    ...(countCodeUnits ? { unicode: false, logger: AJV_LOGGER } : {}),
    // `$data` would let data choose patterns (CVE-2025-69873): never on.
    $data: false,
    allowUnionTypes: false,
    // Category requirements name fields declared one level up (if/then), which this check cannot see.
    strictRequired: false,
  });
  ajv.addFormat('date-time', { type: 'string', validate: isDateTime });
  ajv.addFormat('date', { type: 'string', validate: isDate });
  ajv.addKeyword({ keyword: 'x-code-table', schemaType: 'string' });
  return ajv;
}

export function createValidator(options: ValidatorOptions = {}): Validator {
  const maxFindings = options.maxFindingsPerRecord ?? 50;
  // Two compilations of each record schema. The fast one stops at the first error and measures
  // strings in UTF-16 code units, which is never fewer than code points: a string it accepts
  // under `maxLength` is accepted by the exact count too, and `minLength: 1` means the same in
  // both units. So a record it accepts is valid; a record it refuses goes to the full validator
  // (code points, every error), which alone decides and reports. The code-unit count saves the
  // `ucs2length` walk over every string: ajv on the benchmark case record 1.8 µs instead of
  // 2.8 µs (Node 20.20, median of 7×50,000). If a schema ever had a larger `minLength`, the fast
  // validator counts code points as well (and only stops early).
  const fastAjv = newAjv(true, RECORD_TYPES.every((type) => minLengthsAtMostOne(recordSchema(type))));
  const fullAjv = newAjv(false, false);

  const recordValidators = new Map<RecordType, ValidateFunction>();
  for (const type of RECORD_TYPES) recordValidators.set(type, fastAjv.compile(recordSchema(type)));
  // Compiled on first use (~100 ms for the case schema): a process that only ever sees valid
  // records, or a test, never pays for them.
  const fullValidators = new Map<RecordType, ValidateFunction>();
  const fullValidatorFor = (type: RecordType): ValidateFunction => {
    let v = fullValidators.get(type);
    if (v === undefined) {
      v = fullAjv.compile(recordSchema(type));
      fullValidators.set(type, v);
    }
    return v;
  };
  const envelopeValidator = fullAjv.compile(envelopeSchema(options.maxRecords ?? 1000));

  const ruleContext: RuleContext = options;

  function cap(findings: Finding[]): Finding[] {
    if (findings.length <= maxFindings) return findings;
    const rest = findings.length - maxFindings;
    return [
      ...findings.slice(0, maxFindings),
      finding('error', 'GOVGATE_FIELD_INVALID', { path: '', label: '记录', labelEn: 'record', detail: `另有 ${rest} 处错误未列出`, detailEn: `${rest} more findings not listed` }),
    ];
  }

  function validateRecord(value: unknown, index = 0, expectedType?: RecordType): RecordResult {
    return checkRecord(value, index, expectedType, false);
  }

  function checkRecord(value: unknown, index: number, expectedType: RecordType | undefined, trimmed: boolean): RecordResult {
    if (!isObj(value)) {
      const f = finding('error', 'GOVGATE_FIELD_TYPE', { path: '', label: '记录', labelEn: 'record', expected: '对象', expectedEn: 'an object', found: short(value) });
      return { index, findings: forRecord([f], index), ok: false };
    }
    const declared = value['recordType'];
    const type: RecordType | undefined = isRecordType(declared) ? declared : declared === undefined ? expectedType : undefined;
    if (type === undefined) {
      const f = finding('error', 'GOVGATE_RECORD_TYPE_UNKNOWN', { path: '/recordType', found: declared ?? '(none)', expected: RECORD_TYPES.join(', ') });
      return { index, findings: forRecord([f], index), ok: false };
    }
    if (declared === undefined) value['recordType'] = type;

    if (!trimmed) trimStrings(value);
    const spec = RECORD_SPECS[type];
    const keyValue = value[spec.keyField];
    const dataVerValue = value[spec.dataVerField];
    const deptValue = value[spec.deptField];
    const key = typeof keyValue === 'string' ? keyValue : undefined;
    const dataVer = typeof dataVerValue === 'number' && Number.isInteger(dataVerValue) ? dataVerValue : undefined;
    const deptCode = typeof deptValue === 'string' ? deptValue : undefined;
    const recordKey = key === undefined ? undefined : `${type}:${key}@${dataVer ?? '?'}`;

    let findings: Finding[];
    const full = recordValidators.get(type)!(value) ? undefined : fullValidatorFor(type);
    if (full === undefined || full(value)) {
      findings = applyRules(type, value, ruleContext);
    } else {
      findings = [];
      for (const e of full.errors ?? []) {
        const f = toFinding(type, e, value);
        if (f !== undefined) findings.push(f);
      }
    }
    const ok = !hasErrors(findings);
    const result: { -readonly [K in keyof RecordResult]: RecordResult[K] } = {
      index, recordType: type, findings: forRecord(cap(findings), index, recordKey), ok,
    };
    if (key !== undefined) result.key = key;
    if (dataVer !== undefined) result.dataVer = dataVer;
    if (deptCode !== undefined) result.deptCode = deptCode;
    if (ok) result.record = value;
    return result;
  }

  function validateDocument(value: unknown, expectedType?: RecordType, hints?: ValidateHints): DocumentResult {
    const trimmed = hints?.trimmed === true;
    if (isObj(value) && !Object.hasOwn(value, 'records') && !Object.hasOwn(value, 'specVersion')) {
      return { kind: 'record', findings: [], records: [checkRecord(value, 0, expectedType, trimmed)] };
    }
    if (!isObj(value)) {
      const f = finding('error', 'GOVGATE_ENVELOPE_INVALID', { path: '', expected: '批次信封或单条记录（JSON 对象）', expectedEn: 'a batch envelope or a single record (a JSON object)', found: short(value) });
      return { kind: 'batch', findings: [f], records: [] };
    }
    const version = value['specVersion'];
    if (typeof version === 'string' && !SUPPORTED_SPEC_VERSIONS.includes(version)) {
      const f = finding('error', 'GOVGATE_SPEC_VERSION_UNSUPPORTED', { path: '/specVersion', found: version, expected: SUPPORTED_SPEC_VERSIONS.join(', ') });
      return { kind: 'batch', findings: [f], records: [] };
    }
    if (!envelopeValidator(value)) {
      const findings = (envelopeValidator.errors ?? []).map((e) => envelopeFinding(e, value));
      return { kind: 'batch', findings, records: [] };
    }
    const keys = value['idempotencyKeys'] as string[] | undefined;
    const recordCount = (value['records'] as unknown[]).length;
    if (keys !== undefined && keys.length !== recordCount) {
      const f = finding('error', 'GOVGATE_ENVELOPE_INVALID', {
        path: '/idempotencyKeys', expected: `${recordCount} 个，与 records 一一对应 / ${recordCount}, one per record`, found: keys.length,
      });
      return { kind: 'batch', findings: [f], records: [] };
    }
    const records = (value['records'] as unknown[]).map((r, i) => checkRecord(r, i, undefined, trimmed));
    markDuplicates(records);
    const envelope: Envelope = {
      specVersion: value['specVersion'] as string,
      batchId: value['batchId'] as string,
      senderDept: value['senderDept'] as string,
      sentAt: value['sentAt'] as string,
      ...(keys === undefined ? {} : { idempotencyKeys: keys }),
    };
    return { kind: 'batch', envelope, findings: [], records };
  }

  return { validateRecord, validateDocument };
}

function envelopeFinding(e: ErrorObject, data: unknown): Finding {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required') {
    return finding('error', 'GOVGATE_ENVELOPE_INVALID', { path: `/${String(params['missingProperty'])}`, expected: '必填 / required', found: '(缺失 / missing)' });
  }
  if (e.keyword === 'additionalProperties') {
    return finding('error', 'GOVGATE_ENVELOPE_INVALID', { path: `/${String(params['additionalProperty'])}`, expected: '(无此字段 / no such field)', found: '(存在 / present)' });
  }
  if (e.keyword === 'maxItems') {
    const found = valueAt(data, e.instancePath);
    return finding('error', 'GOVGATE_TOO_MANY_RECORDS', { path: e.instancePath, limit: params['limit'], found: Array.isArray(found) ? found.length : '?' });
  }
  return finding('error', 'GOVGATE_ENVELOPE_INVALID', { path: e.instancePath, expected: e.message ?? e.keyword, found: short(valueAt(data, e.instancePath)) });
}

/** The same record (type, key, data version) twice in one batch: the later copy is rejected. */
function markDuplicates(records: RecordResult[]): void {
  const seen = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.key === undefined || r.recordType === undefined) continue;
    const id = `${r.recordType}\u0000${r.deptCode ?? ''}\u0000${r.key}\u0000${r.dataVer ?? ''}`;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, i);
      continue;
    }
    const f = finding('error', 'GOVGATE_RULE_DUPLICATE_KEY_IN_BATCH', { path: pointer('records', i), found: `${r.recordType}:${r.key}@${r.dataVer ?? '?'}`, expected: first });
    const { record: _dropped, ...rest } = r;
    records[i] = { ...rest, findings: [...r.findings, ...forRecord([f], i, `${r.recordType}:${r.key}@${r.dataVer ?? '?'}`)], ok: false };
  }
}

export { SPEC_VERSION };
