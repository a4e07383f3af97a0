/**
 * Intake result → what the store commits (`IngestInput`): the one translation every source uses,
 * so a pushed payload and a pulled one are stored by exactly the same rules. Pure.
 *
 * A payload with an error among its payload findings is rejected whole: its records are not
 * offered to the store at all (the raw payload and one payload-level rejection are kept).
 */
import type { Finding } from '../schemas/findings.js';
import type { IngestInput, IngestRecordInput, RawDigests } from '../store/queries/ingest.js';
import type { ReadRecord } from './read-payload.js';

export interface ToIngestInput {
  readonly deptCode: string;
  /** `http-push`, `pull:<adapter name>` … */
  readonly source: string;
  /** The bytes as received: stored unaltered in the raw inbox. */
  readonly raw: { readonly body: Uint8Array; readonly contentType: string; readonly digests?: RawDigests };
  /** The charset intake decoded the payload with, when it got that far. */
  readonly encoding?: string;
  readonly batchId?: string;
  readonly payloadFindings: readonly Finding[];
  readonly records: readonly ReadRecord[];
  /** ReadPayload.contents: the accepted records' stored JSON. */
  readonly contents: Uint8Array;
  readonly nonce?: { readonly keyId: string; readonly nonce: string };
  readonly receivedAt?: Date;
}

export function payloadRejected(payloadFindings: readonly Finding[]): boolean {
  return payloadFindings.some((f) => f.severity === 'error');
}

export function toIngestInput(p: ToIngestInput): IngestInput {
  const rejectAll = payloadRejected(p.payloadFindings);
  return {
    deptCode: p.deptCode,
    source: p.source,
    raw: {
      body: p.raw.body, contentType: p.raw.contentType,
      ...(p.encoding === undefined ? {} : { declaredEncoding: p.encoding }),
      ...(p.raw.digests === undefined ? {} : { digests: p.raw.digests }),
    },
    ...(p.batchId === undefined ? {} : { batchId: p.batchId }),
    ...(p.receivedAt === undefined ? {} : { receivedAt: p.receivedAt }),
    payloadFindings: p.payloadFindings,
    ...(p.nonce === undefined ? {} : { nonce: p.nonce }),
    records: rejectAll ? [] : p.records.map((r) => recordInput(r, p.contents)),
  };
}

/** Built by assignment, not spreads: it runs once per record (spreads cost ≈ 3 µs a record here). */
function recordInput(r: ReadRecord, contents: Uint8Array): IngestRecordInput {
  const out: { -readonly [K in keyof IngestRecordInput]?: IngestRecordInput[K] } = { index: r.index };
  if (r.recordType !== undefined) out.recordType = r.recordType;
  if (r.key !== undefined) out.businessKey = r.key;
  if (r.dataVer !== undefined) out.dataVer = r.dataVer;
  if (!r.ok || r.at === undefined || r.digest === undefined) {
    out.status = 'rejected';
    out.findings = r.findings;
    return out as IngestRecordInput;
  }
  out.status = 'accepted';
  out.warnings = r.findings;
  out.digest = r.digest;
  out.stored = contents.subarray(r.at[0], r.at[0] + r.at[1]);
  // All routing reads of the record (src/sync/routing.ts).
  out.content = r.category === undefined ? EMPTY : { category: r.category };
  return out as IngestRecordInput;
}

const EMPTY = Object.freeze({});
