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
    }
  | { readonly ok: false; readonly finding: Finding };

export function readDocument(bytes: Uint8Array, opts: ReadOptions): ReadResult {
  const decoded = decodeText(bytes, { contentType: opts.contentType, maxBytes: opts.maxBytes });
  if (!decoded.ok) return decoded;
  const base = {
    format: decoded.format,
    encoding: decoded.encoding,
    ...(decoded.declared === undefined ? {} : { declared: decoded.declared }),
  };
  if (decoded.format === 'json') {
    const parsed = parseJsonStrict(decoded.text, { maxDepth: opts.maxDepth });
    return parsed.ok ? { ok: true, ...base, value: parsed.value } : parsed;
  }
  const parsed = parseXmlSafe(decoded.text, { maxDepth: opts.maxDepth });
  return parsed.ok ? { ok: true, ...base, value: parsed.value satisfies XmlNode, xmlRoot: parsed.root } : parsed;
}
