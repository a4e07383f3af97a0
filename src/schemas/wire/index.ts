/**
 * The wire layer: bytes in, a plain JS document or exactly one finding out. Pure, synchronous,
 * never throws on any input (a hostile payload is a finding, not an exception).
 *
 *   readDocument(bytes, { contentType, maxBytes, maxDepth })
 *     → decodeText      size, emptiness, format, charset, fatal decoding
 *     → parseJsonStrict | parseXmlSafe
 */
import type { Finding } from '../findings.js';
import { decodeText, type Charset, type DeclaredCharset, type WireFormat } from './decode.js';
import { parseJsonStrict } from './json.js';
import { parseXmlSafe, type XmlNode } from './xml.js';

export {
  charsetOfLabel,
  decodeText,
  findInvalidGb18030,
  findInvalidUtf8,
  formatOfMediaType,
  lineColumn,
  parseContentType,
  type Charset,
  type ContentType,
  type DecodeOptions,
  type DecodeResult,
  type DeclaredCharset,
  type WireFormat,
} from './decode.js';
export { parseJsonStrict, type JsonOptions, type JsonResult } from './json.js';
export { checkXml, parseXmlSafe, type XmlNode, type XmlObject, type XmlOptions, type XmlResult } from './xml.js';

export interface ReadOptions {
  readonly contentType?: string | undefined;
  readonly maxBytes: number;
  /** Nesting limit: JSON containers, or XML elements with the root at depth 1. */
  readonly maxDepth: number;
}

export type ReadResult =
  | {
      readonly ok: true;
      readonly format: WireFormat;
      readonly encoding: Charset;
      readonly declared?: DeclaredCharset;
      /** JSON: the parsed value. XML: the content of the root element (see xml.ts for its shape). */
      readonly value: unknown;
      /** XML only: the root element's name. */
      readonly xmlRoot?: string;
      /** JSON only: present when no string value starts or ends with whitespace (see parseJsonStrict). */
      readonly trimmed?: true;
    }
  | { readonly ok: false; readonly finding: Finding };

interface ReadSuccess {
  ok: true;
  format: WireFormat;
  encoding: Charset;
  declared?: DeclaredCharset;
  value?: unknown;
  xmlRoot?: string;
  trimmed?: true;
}

export function readDocument(bytes: Uint8Array, opts: ReadOptions): ReadResult {
  const decoded = decodeText(bytes, { contentType: opts.contentType, maxBytes: opts.maxBytes });
  if (!decoded.ok) return decoded;
  // Built field by field rather than with conditional spreads, which took 1.6% of a one-record JSON
  // payload's CPU profile (~0.25 µs, Node 20.20). The keys and their order are unchanged.
  const result: ReadSuccess = { ok: true, format: decoded.format, encoding: decoded.encoding };
  if (decoded.declared !== undefined) result.declared = decoded.declared;
  if (decoded.format === 'json') {
    // UTF-8 JSON is scanned on its bytes (see scanUtf8); decodeText dropped a BOM's three bytes.
    const utf8 = decoded.encoding !== 'utf-8' ? undefined : decoded.declared?.bom === true ? bytes.subarray(3) : bytes;
    const parsed = parseJsonStrict(decoded.text, { maxDepth: opts.maxDepth, utf8 });
    if (!parsed.ok) return parsed;
    result.value = parsed.value;
    if (parsed.trimmed === true) result.trimmed = true;
  } else {
    const parsed = parseXmlSafe(decoded.text, { maxDepth: opts.maxDepth });
    if (!parsed.ok) return parsed;
    result.value = parsed.value satisfies XmlNode;
    result.xmlRoot = parsed.root;
  }
  return result as ReadResult; // `value` has been set on both branches
}
