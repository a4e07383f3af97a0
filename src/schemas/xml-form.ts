/**
 * The XML form of spec v1, derived from the same field definitions as the JSON form:
 *
 *   <batch>                                   <record>            (a single record)
 *     <specVersion>1</specVersion>              <recordType>case</recordType>
 *     <batchId>…</batchId> …                    <caseNo>…</caseNo> …
 *     <records>                               </record>
 *       <record><recordType>case</recordType>…</record>
 *     </records>
 *   </batch>
 *
 * Element names are the JSON field names; a list is a wrapper element holding one element per entry
 * (`<steps><step>…</step></steps>`); no attributes. Every record is a `<record>` element so that the
 * order of mixed record types survives. XML text is untyped, so reading uses the spec to turn
 * integers, amounts and booleans back into JSON numbers and booleans; anything that does not look
 * like its type is left as text for the schema to report precisely. JSON → XML → JSON is lossless
 * for normalised records (strings trimmed).
 */
import iconv from 'iconv-lite';
import { finding, type Finding } from './findings.js';
import { ENVELOPE, isRecordType, RECORD_SPECS, type Field, type Fields } from './spec/index.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const INTEGER = /^-?\d{1,16}$/;
const DECIMAL = /^\d{1,15}(\.\d{1,15})?$/;

function scalarFromXml(text: string, field: Field): unknown {
  switch (field.type) {
    case 'integer':
      return INTEGER.test(text) ? Number(text) : text;
    case 'amount':
      return DECIMAL.test(text) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      return text;
  }
}

/** An element that occurs once reads as a value, several times as an array: lists accept both. */
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

function fromXml(node: unknown, field: Field): unknown {
  switch (field.type) {
    case 'object':
      if (node === '') return {};
      return isObj(node) ? objectFromXml(node, field.fields) : node;
    case 'array': {
      if (node === '') return [];
      if (!isObj(node)) return node;
      const keys = Object.keys(node);
      // Anything besides the entry element is left in place for the schema to name.
      if (keys.length !== 1 || keys[0] !== field.xmlItem) return node;
      return asList(node[field.xmlItem]).map((entry) => fromXml(entry, field.items));
    }
    default:
      return typeof node === 'string' ? scalarFromXml(node, field) : node;
  }
}

function objectFromXml(node: Obj, fields: Fields): Obj {
  const out: Obj = {};
  for (const key of Object.keys(node)) {
    const field = Object.hasOwn(fields, key) ? fields[key] : undefined;
    out[key] = field === undefined ? node[key] : fromXml(node[key], field);
  }
  return out;
}

/** Converts one `<record>` element (already parsed to a tree of strings) to its JSON form. */
export function recordFromXml(node: unknown): unknown {
  if (!isObj(node)) return node;
  const type = node['recordType'];
  if (!isRecordType(type)) return { ...node };
  return objectFromXml(node, RECORD_SPECS[type].fields);
}

export interface XmlDocumentResult {
  readonly value?: unknown;
  readonly findings: readonly Finding[];
}

/** Converts a parsed XML document (root element name and its content) to the JSON form. */
export function documentFromXml(root: string, content: unknown): XmlDocumentResult {
  if (root === 'record') return { value: recordFromXml(content), findings: [] };
  if (root !== 'batch') {
    return {
      findings: [finding('error', 'GOVGATE_XML_UNEXPECTED_CONTENT', {
        path: `/${root}`, detail: '根元素应为 <batch> 或 <record>', detailEn: 'the root element must be <batch> or <record>',
      })],
    };
  }
  if (!isObj(content)) {
    return { findings: [finding('error', 'GOVGATE_XML_UNEXPECTED_CONTENT', { path: '/batch', detail: '<batch> 为空', detailEn: '<batch> is empty' })] };
  }
  const out: Obj = {};
  for (const key of Object.keys(content)) {
    const v = content[key];
    if (key === 'idempotencyKeys') {
      // <idempotencyKeys><key>…</key>…</idempotencyKeys>, like every list of the XML form
      out[key] = v === '' ? [] : isObj(v) && Object.keys(v).length === 1 && Object.hasOwn(v, 'key') ? asList(v['key']) : v;
      continue;
    }
    if (key !== 'records') {
      out[key] = v;
      continue;
    }
    if (v === '') out['records'] = [];
    else if (isObj(v) && Object.keys(v).length === 1 && Object.hasOwn(v, 'record')) out['records'] = asList(v['record']).map(recordFromXml);
    else out['records'] = v;
  }
  return { value: out, findings: [] };
}

// ── writing ─────────────────────────────────────────────────────────────────────────────────────

const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function writeValue(name: string, value: unknown, field: Field | undefined, indent: string, out: string[]): void {
  if (value === undefined) return;
  if (field?.type === 'array' && Array.isArray(value)) {
    if (value.length === 0) {
      out.push(`${indent}<${name}></${name}>`);
      return;
    }
    out.push(`${indent}<${name}>`);
    for (const entry of value) writeValue(field.xmlItem, entry, field.items, `${indent}  `, out);
    out.push(`${indent}</${name}>`);
    return;
  }
  if (isObj(value)) {
    const fields = field?.type === 'object' ? field.fields : undefined;
    const keys = Object.keys(value);
    if (keys.length === 0) {
      out.push(`${indent}<${name}></${name}>`);
      return;
    }
    out.push(`${indent}<${name}>`);
    writeFields(value, fields, `${indent}  `, out);
    out.push(`${indent}</${name}>`);
    return;
  }
  out.push(`${indent}<${name}>${escapeText(String(value))}</${name}>`);
}

/** Known fields in declaration order, then anything else (which a valid record does not have). */
function writeFields(value: Obj, fields: Fields | undefined, indent: string, out: string[]): void {
  const done = new Set<string>();
  if (fields !== undefined) {
    for (const [name, field] of Object.entries(fields)) {
      if (!Object.hasOwn(value, name)) continue;
      writeValue(name, value[name], field, indent, out);
      done.add(name);
    }
  }
  for (const key of Object.keys(value)) if (!done.has(key)) writeValue(key, value[key], undefined, indent, out);
}

function recordLines(record: Obj, indent: string, out: string[]): void {
  const type = record['recordType'];
  const fields = isRecordType(type) ? RECORD_SPECS[type].fields : undefined;
  out.push(`${indent}<record>`);
  out.push(`${indent}  <recordType>${escapeText(String(type))}</recordType>`);
  const { recordType: _type, ...rest } = record;
  writeFields(rest, fields, `${indent}  `, out);
  out.push(`${indent}</record>`);
}

export type XmlEncoding = 'UTF-8' | 'GBK' | 'GB18030';

/** Writes a batch envelope or a single record in the XML form, as text with its prolog. */
export function documentToXmlText(doc: Obj, encoding: XmlEncoding = 'UTF-8'): string {
  const out: string[] = [`<?xml version="1.0" encoding="${encoding}"?>`];
  if (Array.isArray(doc['records'])) {
    out.push('<batch>');
    for (const key of Object.keys(ENVELOPE.fields)) {
      if (key === 'records' || !Object.hasOwn(doc, key)) continue;
      const v = doc[key];
      if (Array.isArray(v)) {
        out.push(`  <${key}>`);
        for (const item of v) out.push(`    <key>${escapeText(String(item))}</key>`);
        out.push(`  </${key}>`);
      } else out.push(`  <${key}>${escapeText(String(v))}</${key}>`);
    }
    out.push('  <records>');
    for (const r of doc['records'] as Obj[]) recordLines(r, '    ', out);
    out.push('  </records>');
    out.push('</batch>');
  } else {
    recordLines(doc, '', out);
  }
  return `${out.join('\n')}\n`;
}

/** The same, encoded: GBK and GB18030 for legacy receivers (characters outside GBK need GB18030). */
export function documentToXml(doc: Obj, encoding: XmlEncoding = 'UTF-8'): Buffer {
  const text = documentToXmlText(doc, encoding);
  return encoding === 'UTF-8' ? Buffer.from(text, 'utf8') : iconv.encode(text, encoding === 'GBK' ? 'gbk' : 'gb18030');
}
