/**
 * Intake result → what the store commits (`IngestInput`): the one translation every source uses,
 * so a pushed payload and a pulled one are stored by exactly the same rules. Pure.
 *
 * A payload with an error among its payload findings is rejected whole: its records are not
 * offered to the store at all (the raw payload and one payload-level rejection are kept).
 */
import type { Finding } from '../schemas/findings.js';
import type { RecordResult } from '../schemas/validate.js';
import type { IngestInput, IngestRecordInput, RawDigests } from '../store/queries/ingest.js';

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
  readonly records: readonly RecordResult[];
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
    records: rejectAll ? [] : p.records.map(recordInput),
  };
}

function recordInput(r: RecordResult): IngestRecordInput {
  const base = {
    index: r.index,
    ...(r.recordType === undefined ? {} : { recordType: r.recordType }),
    ...(r.key === undefined ? {} : { businessKey: r.key }),
    ...(r.dataVer === undefined ? {} : { dataVer: r.dataVer }),
  };
  if (!r.ok || r.record === undefined) return { ...base, status: 'rejected', findings: r.findings };
  // The store digests the canonical form it also stores: one serialisation, not two.
  return { ...base, status: 'accepted', content: r.record, warnings: r.findings };
}
