/**
 * The ajv instance for configuration files, and the translation of ajv's errors into bilingual
 * problems a department engineer can act on. Configuration is small and written by operators,
 * so `allErrors` is on: one start-up should report every mistake, not the first one.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { SchemaNode } from './schema.js';

const docMeta = {
  type: 'object',
  required: ['zh', 'en'],
  additionalProperties: false,
  properties: { zh: { type: 'string', minLength: 1 }, en: { type: 'string', minLength: 1 } },
};

let instance: Ajv2020 | undefined;

export function configAjv(): Ajv2020 {
  if (instance !== undefined) return instance;
  const ajv = new Ajv2020({ strict: true, allErrors: true, useDefaults: true });
  // Annotation keywords: ajv checks their shape, and docs, env overrides and redaction read them.
  ajv.addKeyword({ keyword: 'x-doc', metaSchema: docMeta });
  ajv.addKeyword({ keyword: 'x-default-doc', metaSchema: docMeta });
  ajv.addKeyword({ keyword: 'x-secret', metaSchema: { type: 'boolean' } });
  ajv.addKeyword({ keyword: 'x-path', metaSchema: { type: 'boolean' } });
  ajv.addKeyword({ keyword: 'x-env', metaSchema: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' } });
  instance = ajv;
  return ajv;
}

const compiled = new WeakMap<object, ValidateFunction>();

export function validatorFor(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (v === undefined) {
    v = configAjv().compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** A mistake in a configuration file, before it is given a position. */
export interface Problem {
  /** Instance path segments, e.g. `['server', 'port']`. */
  readonly path: readonly (string | number)[];
  /** Point at the key of the last segment rather than its value (unknown options). */
  readonly atKey?: boolean;
  readonly zh: string;
  readonly en: string;
  readonly expected?: unknown;
  readonly found?: unknown;
}

const TYPE_NAMES: Record<string, { zh: string; en: string }> = {
  string: { zh: '字符串', en: 'a string' },
  integer: { zh: '整数', en: 'an integer' },
  number: { zh: '数值', en: 'a number' },
  boolean: { zh: '布尔值（true/false）', en: 'a boolean (true/false)' },
  null: { zh: '空值', en: 'an empty value' },
  array: { zh: '列表', en: 'a list' },
  object: { zh: '映射（键: 值）', en: 'a mapping (key: value)' },
};

export const REDACTED = '[已隐藏 / redacted]';

export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** A value as it appears in a message: short, quoted if text, never a secret. */
export function show(v: unknown, secret = false): string {
  if (secret) return REDACTED;
  if (v === undefined) return '(无 / none)';
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function typeName(t: string): { zh: string; en: string } {
  return TYPE_NAMES[t] ?? { zh: t, en: t };
}

export function pointerSegments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(data: unknown, segments: readonly string[]): unknown {
  let cur = data;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** Levenshtein distance, for "did you mean" on misspelt option names; inputs are short keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (bestD <= Math.max(2, Math.floor(name.length / 3))) return best;
  // `toInt` for `toInteger`: an abbreviation is a prefix, however far in edits.
  const lower = name.toLowerCase();
  return name.length >= 3 ? candidates.find((c) => c.toLowerCase().startsWith(lower)) : undefined;
}

/**
 * ajv errors → problems. `schemaAt` gives the schema node of an instance path so that secrets are
 * never echoed and unknown-option messages can list what is allowed.
 */
export function describeAjvErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  schemaAt: (segments: readonly string[]) => { node: SchemaNode | undefined; secret: boolean },
): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    const p = describeOne(err, data, schemaAt);
    // allErrors reports e.g. both `type` and `enum` for one value; one line per location is enough.
    const key = `${p.path.join('\u0000')}|${p.atKey === true ? 'k' : 'v'}|${err.keyword === 'type' ? '' : err.keyword}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  return out;
}

/** ajv paths are all text; list positions become numbers so that they print as `keys[1]`. */
function typedPath(data: unknown, segments: readonly string[]): (string | number)[] {
  const out: (string | number)[] = [];
  let cur = data;
  for (const s of segments) {
    if (Array.isArray(cur)) {
      out.push(Number(s));
      cur = cur[Number(s)];
    } else {
      out.push(s);
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[s] : undefined;
    }
  }
  return out;
}

function describeOne(
  err: ErrorObject,
  data: unknown,
  schemaAt: (segments: readonly string[]) => { node: SchemaNode | undefined; secret: boolean },
): Problem {
  const segments = pointerSegments(err.instancePath);
  const path = typedPath(data, segments);
  const { node, secret } = schemaAt(segments);
  const value = valueAt(data, segments);
  const found = secret ? REDACTED : value;
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': {
      const want = typeName(String(params.type));
      const got = typeName(jsonType(value));
      const quoteHint = params.type === 'string' && typeof value === 'number';
      return {
        path,
        zh: `应为${want.zh}，实际为${got.zh} ${show(value, secret)}${quoteHint ? '（数字形式的代码请加引号，如 \'01\'）' : ''}`,
        en: `expected ${want.en}, found ${got.en} ${show(value, secret)}${quoteHint ? ' (quote codes made of digits, e.g. \'01\')' : ''}`,
        expected: params.type,
        found,
      };
    }
    case 'required': {
      const name = String(params.missingProperty);
      const doc = node?.properties?.[name]?.['x-doc'];
      return {
        path: [...path, name],
        zh: `缺少必填项 ${name}${doc ? `（${doc.zh.replace(/[。.]$/, '')}）` : ''}`,
        en: `${name} is required${doc ? ` (${doc.en.replace(/\.$/, '')})` : ''}`,
        expected: name,
      };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys(node?.properties ?? {});
      const guess = closest(name, allowed);
      return {
        path: [...path, name],
        atKey: true,
        zh: `未知选项 "${name}"${guess ? `，是否应为 "${guess}"？` : ''}；可用的选项：${allowed.join('、')}`,
        en: `unknown option "${name}"${guess ? `; did you mean "${guess}"?` : ''}; allowed: ${allowed.join(', ')}`,
        expected: allowed,
        found: name,
      };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map((v) => String(v));
      const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
      return {
        path,
        zh: `应为以下之一：${allowed.join('、')}，实际为 ${show(value, secret)}${guess ? `（是否应为 ${guess}？）` : ''}`,
        en: `expected one of ${allowed.join(', ')}; found ${show(value, secret)}${guess ? ` (did you mean ${guess}?)` : ''}`,
        expected: allowed,
        found,
      };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const op = { minimum: '≥', maximum: '≤', exclusiveMinimum: '>', exclusiveMaximum: '<' }[err.keyword];
      return {
        path,
        zh: `应 ${op} ${String(params.limit)}，实际为 ${show(value, secret)}`,
        en: `must be ${op} ${String(params.limit)}, found ${show(value, secret)}`,
        expected: `${op} ${String(params.limit)}`,
        found,
      };
    }
    case 'minLength':
    case 'maxLength': {
      const min = err.keyword === 'minLength';
      const len = typeof value === 'string' ? [...value].length : 0;
      return {
        path,
        zh: `长度应${min ? '至少' : '至多'} ${String(params.limit)} 个字符，实际 ${len} 个`,
        en: `must be at ${min ? 'least' : 'most'} ${String(params.limit)} characters long, found ${len}`,
        expected: `${min ? '≥' : '≤'} ${String(params.limit)}`,
        found: len,
      };
    }
    case 'pattern':
      return {
        path,
        zh: `格式不符：应匹配 ${String(params.pattern)}，实际为 ${show(value, secret)}`,
        en: `wrong format: expected a match for ${String(params.pattern)}, found ${show(value, secret)}`,
        expected: params.pattern,
        found,
      };
    case 'minItems':
    case 'maxItems': {
      const min = err.keyword === 'minItems';
      const n = Array.isArray(value) ? value.length : 0;
      return {
        path,
        zh: `应${min ? '至少' : '至多'}有 ${String(params.limit)} 项，实际 ${n} 项`,
        en: `must have at ${min ? 'least' : 'most'} ${String(params.limit)} entries, found ${n}`,
        expected: `${min ? '≥' : '≤'} ${String(params.limit)}`,
        found: n,
      };
    }
    case 'uniqueItems':
      return {
        path,
        zh: `第 ${Number(params.j) + 1} 项与第 ${Number(params.i) + 1} 项重复`,
        en: `entries ${Number(params.j) + 1} and ${Number(params.i) + 1} are the same`,
      };
    default:
      return { path, zh: `不符合要求（${err.keyword}）：${err.message ?? ''}`, en: `invalid (${err.keyword}): ${err.message ?? ''}`, found };
  }
}
