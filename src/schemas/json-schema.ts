/**
 * Spec → JSON Schema (draft 2020-12). The schemas are what ajv compiles and what departments get
 * published in docs/spec/schemas/, so they carry the Chinese name as `title` and the English text
 * as `description`.
 */
import { CODE_TABLES, codesOf, ENVELOPE, RECORD_SPECS, SPEC_VERSION, type Field, type Fields, type RecordSpec, type RecordType } from './spec/index.js';

export type JsonSchema = Record<string, unknown>;

const DATETIME_MAX = 35;
const SCHEMA_BASE = 'https://govgate.dev/spec/v1';

/** JSON numbers beyond this lose cents; no administrative amount comes near it. */
export const AMOUNT_MAX = 999_999_999_999.99;

function fieldSchema(field: Field): JsonSchema {
  const annotations: JsonSchema = { title: field.zh, description: field.en };
  switch (field.type) {
    case 'string': {
      const s: JsonSchema = { ...annotations, type: 'string', maxLength: field.maxLength };
      if (field.minLength !== undefined) s['minLength'] = field.minLength;
      if (field.pattern !== undefined) s['pattern'] = field.pattern;
      return s;
    }
    case 'code':
      return { ...annotations, type: 'string', enum: codesOf(field.table), 'x-code-table': field.table };
    case 'integer':
      return { ...annotations, type: 'integer', minimum: field.minimum, maximum: field.maximum };
    case 'amount':
      return { ...annotations, type: 'number', minimum: 0, maximum: AMOUNT_MAX };
    case 'datetime':
      return { ...annotations, type: 'string', format: 'date-time', maxLength: DATETIME_MAX };
    case 'date':
      return { ...annotations, type: 'string', format: 'date', maxLength: 10 };
    case 'boolean':
      return { ...annotations, type: 'boolean' };
    case 'object':
      return { ...annotations, ...objectSchema(field.fields) };
    case 'array': {
      const s: JsonSchema = { ...annotations, type: 'array', maxItems: field.maxItems, items: fieldSchema(field.items) };
      if (field.minItems !== undefined) s['minItems'] = field.minItems;
      return s;
    }
  }
}

function objectSchema(fields: Fields): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    properties[name] = fieldSchema(field);
    if (field.required === true) required.push(name);
  }
  const s: JsonSchema = { type: 'object', additionalProperties: false, properties };
  if (required.length > 0) s['required'] = required;
  return s;
}

/** `a.b.c` required → nested `properties.a.required [b]` … built as if/then on the trigger field. */
function requirementSchema(spec: RecordSpec): JsonSchema[] {
  return (spec.requirements ?? []).map((req) => {
    const top = new Set<string>();
    for (const path of req.require) top.add(path.split('.')[0]!);
    return {
      if: { properties: { [req.when.field]: { enum: [...req.when.in] } }, required: [req.when.field] },
      then: { required: [...top] },
    };
  });
}

export function recordSchema(type: RecordType): JsonSchema {
  const spec = RECORD_SPECS[type];
  const base = objectSchema(spec.fields);
  const properties = { recordType: { title: '记录类型', description: 'Record type', const: type }, ...(base['properties'] as object) };
  const schema: JsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE}/${type}.json`,
    title: `${spec.zh} ${spec.en}`,
    description: spec.doc.en,
    ...base,
    properties,
    required: ['recordType', ...((base['required'] as string[] | undefined) ?? [])],
  };
  const reqs = requirementSchema(spec);
  if (reqs.length > 0) schema['allOf'] = reqs;
  return schema;
}

export function envelopeSchema(maxRecords: number): JsonSchema {
  const f = ENVELOPE.fields;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: `${SCHEMA_BASE}/envelope.json`,
    title: `${ENVELOPE.zh} ${ENVELOPE.en}`,
    type: 'object',
    additionalProperties: false,
    required: ['specVersion', 'batchId', 'senderDept', 'sentAt', 'records'],
    properties: {
      specVersion: { title: f.specVersion.zh, description: f.specVersion.en, type: 'string', maxLength: 8, const: SPEC_VERSION },
      batchId: { title: f.batchId.zh, description: f.batchId.en, type: 'string', maxLength: f.batchId.maxLength, pattern: f.batchId.pattern },
      senderDept: { title: f.senderDept.zh, description: f.senderDept.en, type: 'string', maxLength: f.senderDept.maxLength, pattern: f.senderDept.pattern },
      sentAt: { title: f.sentAt.zh, description: f.sentAt.en, type: 'string', format: 'date-time', maxLength: DATETIME_MAX },
      records: {
        title: f.records.zh, description: f.records.en, type: 'array', minItems: 1, maxItems: maxRecords,
        items: { type: 'object' },
      },
      idempotencyKeys: {
        title: f.idempotencyKeys.zh, description: f.idempotencyKeys.en, type: 'array', maxItems: maxRecords,
        items: { type: 'string', minLength: 1, maxLength: f.idempotencyKeys.maxLength, pattern: f.idempotencyKeys.pattern },
      },
    },
  };
}

/** Tables exported with the schemas so a department can check codes without govgate. */
export function codeTablesJson(): JsonSchema {
  return Object.fromEntries(Object.entries(CODE_TABLES).map(([name, t]) => [name, { zh: t.zh, en: t.en, version: t.version, source: t.source, entries: t.entries }]));
}
