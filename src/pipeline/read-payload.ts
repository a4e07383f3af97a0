/**
 * Bytes → records ready for the store: intake (decode, parse, map, validate), then each accepted
 * record encoded as it will be stored and digested (store/content.ts). Pure, and its result is
 * plain data (structured-cloneable), so it runs alike on the main thread and on an intake worker
 * (intake-pool.ts); the store then does no per-record JSON work of its own.
 */
import { finding, type Finding } from '../schemas/findings.js';
import type { Envelope, RecordResult } from '../schemas/validate.js';
import type { RecordType } from '../schemas/spec/index.js';
import { encodeContent } from '../store/content.js';
import { intake, type IntakeOptions } from './intake.js';

export interface ReadRecord {
  /** Position in the payload, from 0. */
  readonly index: number;
  readonly recordType?: RecordType;
  readonly key?: string;
  readonly dataVer?: number;
  readonly deptCode?: string;
  readonly ok: boolean;
  /** Errors of a rejected record; warnings of an accepted one. */
  readonly findings: readonly Finding[];
  /** Accepted: where its stored JSON sits in the payload's `contents` (byte offset, length). */
  readonly at?: readonly [number, number];
  /** Accepted: hex sha256 of its canonical JSON. */
  readonly digest?: string;
  /** What routing rules read of a record besides type and department: a power item's category. */
  readonly category?: string;
}

export interface ReadPayload {
  readonly format?: 'json' | 'xml';
  readonly encoding?: string;
  /** Findings that stop the whole payload (malformed, hostile, wrong envelope). */
  readonly payloadFindings: readonly Finding[];
  readonly kind?: 'batch' | 'record';
  readonly envelope?: Envelope;
  readonly records: readonly ReadRecord[];
  /** The accepted records' stored JSON, UTF-8, one after another. */
  readonly contents: Uint8Array;
}

export interface ReadOptions extends IntakeOptions {
  /**
   * Where contents are assembled: a fresh buffer outside Node's shared pool, so that a worker can
   * transfer it rather than copy it. Default: Buffer.allocUnsafe.
   */
  readonly allocate?: (size: number) => Buffer;
}

export function readPayload(bytes: Uint8Array, options: ReadOptions): ReadPayload {
  const read = intake(bytes, options);
  const doc = read.document;
  const parts: Buffer[] = [];
  let size = 0;
  const records = (doc?.records ?? []).map((result): ReadRecord => {
    const r = ofExpectedType(result, options.expectedType);
    const out = fields(r);
    if (!out.ok) return out;
    const { digest, stored } = encodeContent(r.record);
    out.at = [size, stored.length];
    out.digest = digest;
    const category = r.record!['category'];
    if (typeof category === 'string') out.category = category;
    parts.push(stored);
    size += stored.length;
    return out;
  });
  const contents = (options.allocate ?? Buffer.allocUnsafe)(size);
  let offset = 0;
  for (const p of parts) offset += p.copy(contents, offset);
  const out: Mutable<ReadPayload> = { payloadFindings: read.payloadFindings, records, contents };
  if (read.format !== undefined) out.format = read.format;
  if (read.encoding !== undefined) out.encoding = read.encoding;
  if (doc !== undefined) out.kind = doc.kind;
  if (doc?.envelope !== undefined) out.envelope = doc.envelope;
  return out;
}

/** A record of another type than the route asks for (POST /cases with a power item) is rejected. */
function ofExpectedType(r: RecordResult, expectedType: RecordType | undefined): RecordResult {
  if (expectedType === undefined || r.recordType === undefined || r.recordType === expectedType) return r;
  const { record: _dropped, ...rest } = r;
  return { ...rest, ok: false, findings: [...r.findings, finding('error', 'GOVGATE_RECORD_TYPE_UNKNOWN', { path: '/recordType', found: r.recordType, expected: expectedType })] };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** By assignment, not spreads: once per record, and conditional spreads cost ≈ 3 µs a record. */
function fields(r: RecordResult): Mutable<ReadRecord> {
  const out: Mutable<ReadRecord> = { index: r.index, ok: r.ok && r.record !== undefined, findings: r.findings };
  if (r.recordType !== undefined) out.recordType = r.recordType;
  if (r.key !== undefined) out.key = r.key;
  if (r.dataVer !== undefined) out.dataVer = r.dataVer;
  if (r.deptCode !== undefined) out.deptCode = r.deptCode;
  return out;
}
