/**
 * Bytes → validated records: the one path every payload takes, whether pushed, pulled or read
 * from a file by `govgate validate`. Pure: no I/O, no clock.
 */
import type { Finding } from '../schemas/findings.js';
import type { DocumentResult, Validator } from '../schemas/validate.js';
import { readDocument } from '../schemas/wire/index.js';
import { documentFromXml } from '../schemas/xml-form.js';

export interface IntakeLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: IntakeLimits = { maxBytes: 10 * 1024 * 1024, maxDepth: 32 };

export interface IntakeResult {
  readonly format?: 'json' | 'xml';
  readonly encoding?: string;
  /** Findings that stop the whole payload (malformed, hostile, wrong envelope). */
  readonly payloadFindings: readonly Finding[];
  readonly document?: DocumentResult;
}

export function intake(
  bytes: Uint8Array,
  options: { contentType?: string; validator: Validator; limits?: IntakeLimits },
): IntakeResult {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const read = readDocument(bytes, { ...(options.contentType === undefined ? {} : { contentType: options.contentType }), maxBytes: limits.maxBytes, maxDepth: limits.maxDepth });
  if (!read.ok) return { payloadFindings: [read.finding] };
  let value: unknown = read.value;
  if (read.format === 'xml') {
    const converted = documentFromXml(read.xmlRoot ?? '', read.value);
    if (converted.findings.length > 0) return { format: 'xml', encoding: read.encoding, payloadFindings: converted.findings };
    value = converted.value;
  }
  const document = options.validator.validateDocument(value);
  return { format: read.format, encoding: read.encoding, payloadFindings: document.findings, document };
}
