/**
 * The vocabulary in which spec v1 is written. Record types are plain data built from these
 * field kinds; the JSON Schema, the XML form, the TypeScript types and the docs are all derived
 * from that data, so a field is described exactly once.
 */
import type { CodeTableName } from './codes.js';

export interface Text {
  readonly zh: string;
  readonly en: string;
}

interface FieldBase {
  /** Chinese name of the data element, as the standards and department engineers call it. */
  readonly zh: string;
  /** English description. */
  readonly en: string;
  readonly required?: boolean;
  /** Where the element comes from, e.g. `GB/T 39046 表6`. */
  readonly source?: string;
  /** Field names this element goes by in deployed systems (PROJID, SBLSH, SLSJ …), for writing mappings. */
  readonly seenAs?: readonly string[];
  readonly note?: Text;
  /** A value used in the generated docs and examples. */
  readonly example?: unknown;
}

export interface StringField extends FieldBase {
  readonly type: 'string';
  /** Every string has a maximum length: it bounds pattern matching on hostile input. */
  readonly maxLength: number;
  readonly minLength?: number;
  readonly pattern?: string;
  /** What the pattern means, for error messages ("6, 9 or 12 digits"). */
  readonly patternHint?: Text;
}

export interface CodeField extends FieldBase {
  readonly type: 'code';
  readonly table: CodeTableName;
}

export interface IntegerField extends FieldBase {
  readonly type: 'integer';
  readonly minimum: number;
  readonly maximum: number;
}

/** Money in yuan: a JSON number ≥ 0 with at most two decimals (checked by the rules layer). */
export interface AmountField extends FieldBase {
  readonly type: 'amount';
}

/** RFC 3339 date-time with an explicit offset, e.g. `2026-03-05T09:30:00+08:00`. */
export interface DateTimeField extends FieldBase {
  readonly type: 'datetime';
}

/** Calendar date, `YYYY-MM-DD`. */
export interface DateField extends FieldBase {
  readonly type: 'date';
}

export interface BooleanField extends FieldBase {
  readonly type: 'boolean';
}

export interface ObjectField extends FieldBase {
  readonly type: 'object';
  readonly fields: Fields;
}

export interface ArrayField extends FieldBase {
  readonly type: 'array';
  readonly items: ScalarField | ObjectField;
  readonly maxItems: number;
  readonly minItems?: number;
  /** Element name of one entry in the XML form: `<steps><step>…</step></steps>`. */
  readonly xmlItem: string;
}

export type ScalarField = StringField | CodeField | IntegerField | AmountField | DateTimeField | DateField | BooleanField;
export type Field = ScalarField | ObjectField | ArrayField;
/** Declaration order is meaningful: it is the element order of the XML form and the order of the docs. */
export type Fields = Readonly<Record<string, Field>>;

export type RecordType = 'case' | 'powerItem' | 'supervision';

/** A conditional requirement that JSON Schema expresses with if/then, documented beside the fields. */
export interface Requirement {
  /** Field (top level) and the code values that trigger the requirement. */
  readonly when: { readonly field: string; readonly in: readonly string[] };
  /** Dotted paths that become required. */
  readonly require: readonly string[];
  readonly doc: Text;
}

export interface RecordSpec {
  readonly type: RecordType;
  readonly zh: string;
  readonly en: string;
  readonly doc: Text;
  /** The field whose value, with the department and the data version, identifies the record across systems. */
  readonly keyField: string;
  readonly dataVerField: string;
  readonly deptField: string;
  readonly fields: Fields;
  readonly requirements?: readonly Requirement[];
}

export const SPEC_VERSION = '1';
export const SUPPORTED_SPEC_VERSIONS: readonly string[] = [SPEC_VERSION];

/** Shared field builders: one place for the shapes that recur across record types. */
export const str = (zh: string, en: string, maxLength: number, extra: Partial<Omit<StringField, 'type' | 'zh' | 'en' | 'maxLength'>> = {}): StringField =>
  ({ type: 'string', zh, en, maxLength, ...extra });

export const code = (zh: string, en: string, table: CodeTableName, extra: Partial<Omit<CodeField, 'type' | 'zh' | 'en' | 'table'>> = {}): CodeField =>
  ({ type: 'code', zh, en, table, ...extra });

export const int = (zh: string, en: string, minimum: number, maximum: number, extra: Partial<Omit<IntegerField, 'type' | 'zh' | 'en' | 'minimum' | 'maximum'>> = {}): IntegerField =>
  ({ type: 'integer', zh, en, minimum, maximum, ...extra });

export const amount = (zh: string, en: string, extra: Partial<Omit<AmountField, 'type' | 'zh' | 'en'>> = {}): AmountField =>
  ({ type: 'amount', zh, en, ...extra });

export const datetime = (zh: string, en: string, extra: Partial<Omit<DateTimeField, 'type' | 'zh' | 'en'>> = {}): DateTimeField =>
  ({ type: 'datetime', zh, en, ...extra });

export const date = (zh: string, en: string, extra: Partial<Omit<DateField, 'type' | 'zh' | 'en'>> = {}): DateField =>
  ({ type: 'date', zh, en, ...extra });

export const bool = (zh: string, en: string, extra: Partial<Omit<BooleanField, 'type' | 'zh' | 'en'>> = {}): BooleanField =>
  ({ type: 'boolean', zh, en, ...extra });

export const obj = (zh: string, en: string, fields: Fields, extra: Partial<Omit<ObjectField, 'type' | 'zh' | 'en' | 'fields'>> = {}): ObjectField =>
  ({ type: 'object', zh, en, fields, ...extra });

export const list = (
  zh: string, en: string, xmlItem: string, items: ScalarField | ObjectField, maxItems: number,
  extra: Partial<Omit<ArrayField, 'type' | 'zh' | 'en' | 'items' | 'maxItems' | 'xmlItem'>> = {},
): ArrayField => ({ type: 'array', zh, en, xmlItem, items, maxItems, ...extra });

/** Walks every field, depth first, in declaration order, with its dotted path. */
export function* walkFields(fields: Fields, prefix = ''): Generator<{ path: string; field: Field }> {
  for (const [name, field] of Object.entries(fields)) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    yield { path, field };
    if (field.type === 'object') yield* walkFields(field.fields, path);
    else if (field.type === 'array' && field.items.type === 'object') yield* walkFields(field.items.fields, `${path}[]`);
  }
}
