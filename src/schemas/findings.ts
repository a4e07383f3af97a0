import { errorMessage, type BilingualMessage, type ErrorCode, type ErrorDetails } from '../errors.js';

/** An error rejects the record (or the payload); a warning keeps it and flags it. */
export type Severity = 'error' | 'warning';

/**
 * One thing wrong with a payload or a record, precise enough to act on without reading code:
 * which record, which field, what was expected, what came.
 */
export interface Finding {
  readonly severity: Severity;
  readonly code: ErrorCode;
  /** JSON Pointer into the record (or the payload, for wire findings), e.g. `/applicant/idNo`. */
  readonly path: string;
  /** Position of the record in its batch, when the finding belongs to one record. */
  readonly recordIndex?: number;
  /** Business key of the record, e.g. `case:330100-2026-000123@3`, when it could be read. */
  readonly recordKey?: string;
  readonly expected?: unknown;
  readonly found?: unknown;
  /** Byte offset, line and column for wire findings. */
  readonly offset?: number;
  readonly line?: number;
  readonly column?: number;
  readonly message: BilingualMessage;
}

export interface FindingInit extends ErrorDetails {
  readonly path?: string;
  readonly expected?: unknown;
  readonly found?: unknown;
  readonly offset?: number;
  readonly line?: number;
  readonly column?: number;
}

export function finding(severity: Severity, code: ErrorCode, init: FindingInit = {}): Finding {
  const path = init.path ?? '';
  const out: { -readonly [K in keyof Finding]: Finding[K] } = {
    severity,
    code,
    path,
    message: errorMessage(code, { ...init, path: path === '' ? '/' : path }),
  };
  if (init.expected !== undefined) out.expected = init.expected;
  if (init.found !== undefined) out.found = init.found;
  if (init.offset !== undefined) out.offset = init.offset;
  if (init.line !== undefined) out.line = init.line;
  if (init.column !== undefined) out.column = init.column;
  return out;
}

export const hasErrors = (findings: readonly Finding[]): boolean =>
  findings.some((f) => f.severity === 'error');

/** Attach the record's identity to findings produced without it. */
export function forRecord(findings: readonly Finding[], recordIndex: number, recordKey?: string): Finding[] {
  return findings.map((f) => (recordKey === undefined ? { ...f, recordIndex } : { ...f, recordIndex, recordKey }));
}

/** JSON Pointer escaping (RFC 6901). */
export function pointer(...segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
