/**
 * ingest: one payload and everything decided about it, committed in one transaction — the raw
 * bytes (appended to the department's hash chain), a new version row for each new or changed
 * record, a rejection row for each record not taken, the replay nonce and the receipt. Either all
 * of it is stored or none of it is, so a receipt never promises more than the database holds.
 *
 * Round trips per payload, whatever its size: BEGIN, [nonce], lock the chain head, read the record
 * heads, one write statement, COMMIT. Records travel as one JSON array (jsonb_to_recordset), not
 * one statement each, which is what keeps 100-record batches above 12,000 records/s (docs/storage.md).
 *
 * Outcome per accepted record, against the stored head of its (department, type, key):
 * - no head                                   → `new`, version 1
 * - same digest as the head                   → `unchanged`, nothing written (resends collapse)
 * - lower dataVer than the head's             → `stale`, kept as a rejection with GOVGATE_RECORD_STALE;
 *                                               an old version must not overwrite a newer one downstream
 * - otherwise (higher, equal or absent dataVer) → `changed`, version head+1
 * Records of one payload are decided in array order against the heads as the payload itself
 * moves them, so the same key twice in one batch behaves like two payloads in a row.
 */
import { GovgateError } from '../../errors.js';
import { contentDigest } from '../../schemas/canonical.js';
import { finding, forRecord, type Finding } from '../../schemas/findings.js';
import { GENESIS_HASH, chainHash, sha256, sm3, toHex } from '../chain.js';
import type { Db, Tx } from '../db.js';
import { newReceiptId } from '../ids.js';
import { ensurePartitionFor } from '../partitions.js';
import { pgJson } from './json.js';

export const RECORD_TYPES = ['case', 'powerItem', 'supervision'] as const;
export type StoredRecordType = (typeof RECORD_TYPES)[number];

export type RecordOutcome = 'new' | 'changed' | 'unchanged' | 'stale' | 'rejected';

export interface IngestRecordInput {
  /** Position in the payload, from 0. */
  readonly index: number;
  /** Required when accepted; a rejected record may not have got far enough to have one. */
  readonly recordType?: string;
  readonly businessKey?: string;
  readonly dataVer?: number;
  readonly status: 'accepted' | 'rejected';
  /** The normalized record (JSON). Required when accepted. */
  readonly content?: unknown;
  /** Hex sha256 of the record's canonical JSON; computed here when absent. */
  readonly digest?: string;
  /** Kept with an accepted record and echoed in its receipt. */
  readonly warnings?: readonly Finding[];
  /** Why a rejected record was rejected. */
  readonly findings?: readonly Finding[];
}

export interface IngestInput {
  readonly deptCode: string;
  /** The adapter that brought it, e.g. `http-push`. */
  readonly source: string;
  /** @defaultValue now. Millisecond precision (a JS Date) is what gets stored and hashed. */
  readonly receivedAt?: Date;
  /** The sender's batch id from the envelope, when there was one. */
  readonly batchId?: string;
  readonly raw: { readonly body: Uint8Array; readonly contentType: string; readonly declaredEncoding?: string };
  readonly records: readonly IngestRecordInput[];
  /**
   * Findings about the payload as a whole. With an error among them the payload counts as rejected
   * before its records could be read: records must then be empty, and one rejection row without a
   * record index is written. The raw payload is kept either way.
   */
  readonly payloadFindings?: readonly Finding[];
  /** A signed request's nonce, recorded in the same transaction so a replay is refused even across instances. */
  readonly nonce?: { readonly keyId: string; readonly nonce: string };
}

export interface RecordReceipt {
  readonly index: number;
  readonly recordType?: string;
  readonly key?: string;
  readonly dataVer?: number;
  readonly outcome: RecordOutcome;
  /** The gateway's version of the record: the new one, or for unchanged/stale the stored head's. */
  readonly version?: number;
  readonly findings: readonly Finding[];
}

export type ReceiptStatus = 'accepted' | 'partial' | 'rejected';

export interface ReceiptCounts {
  readonly records: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly new: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly stale: number;
}

/** The answer for one submission, as stored and as fetched again by id. */
export interface Receipt {
  readonly receiptId: string;
  readonly receivedAt: string;
  readonly deptCode: string;
  readonly batchId?: string;
  readonly status: ReceiptStatus;
  readonly counts: ReceiptCounts;
  readonly records: readonly RecordReceipt[];
  /** Findings about the payload as a whole. */
  readonly findings: readonly Finding[];
}

export interface IngestResult {
  readonly receipt: Receipt;
  readonly rawId: number;
  /** This payload's place in its department's chain, and the chain head after it (hex SM3). */
  readonly chainSeq: number;
  readonly chainHash: string;
}

export interface IngestOptions {
  /**
   * Runs inside the ingest transaction after everything is written and before COMMIT, for work
   * that must commit with the data (adapter cursor, outbox rows). A throw rolls everything back.
   */
  readonly inTransaction?: (tx: Tx, result: IngestResult) => Promise<void>;
}

/** Same rule as the HTTP layer's summarize(): stale counts as rejected. A test keeps them equal. */
export function summarizeReceipt(records: readonly RecordReceipt[], payloadFindings: readonly Finding[]): Pick<Receipt, 'status' | 'counts'> {
  const tally = { new: 0, changed: 0, unchanged: 0, stale: 0, rejected: 0 };
  for (const r of records) tally[r.outcome]++;
  const rejected = tally.rejected + tally.stale;
  const accepted = records.length - rejected;
  const status: ReceiptStatus =
    payloadFindings.some((f) => f.severity === 'error') || accepted === 0 ? 'rejected' : rejected > 0 ? 'partial' : 'accepted';
  return {
    status,
    counts: { records: records.length, accepted, rejected, new: tally.new, changed: tally.changed, unchanged: tally.unchanged, stale: tally.stale },
  };
}

// ── SQL ────────────────────────────────────────────────────────────────────────────────────────────

const INSERT_NONCE = `
INSERT INTO nonces (key_id, nonce, seen_at) VALUES ($1, $2, $3::timestamptz)
ON CONFLICT (key_id, nonce) DO NOTHING
RETURNING 1 AS fresh`;

// The row lock that serializes one department's ingests (and only that department's).
const LOCK_HEAD = 'SELECT seq, hash FROM dept_chain_head WHERE dept_code = $1 FOR UPDATE';

// First payload of a department. Continues from raw_inbox rather than from zero in case the
// (mutable) head row was lost, so the chain never restarts under existing entries.
const INIT_HEAD = `
INSERT INTO dept_chain_head (dept_code, seq, hash)
VALUES ($1,
        coalesce((SELECT max(chain_seq) FROM raw_inbox WHERE dept_code = $1), 0),
        coalesce((SELECT chain_hash FROM raw_inbox WHERE dept_code = $1 ORDER BY chain_seq DESC, id DESC LIMIT 1), $2::bytea))
ON CONFLICT (dept_code) DO NOTHING`;

// No FOR UPDATE: every writer of these rows holds the department's chain-head lock already.
// LATERAL … LIMIT 1 keeps this one primary-key probe per key: as a plain join the planner, with
// stale statistics, hashed every head of the department instead (3.3 ms a batch at 24k heads).
const READ_HEADS = `
SELECT k.t AS record_type, k.k AS business_key, h.version, h.data_ver, h.digest
FROM jsonb_to_recordset($2::jsonb) AS k(t text, k text)
CROSS JOIN LATERAL (
  SELECT version, data_ver, encode(digest, 'hex') AS digest
  FROM record_heads
  WHERE dept_code = $1 AND record_type = k.t AND business_key = k.k
  LIMIT 1
) h`;

// Everything else in one statement (prepared once per connection: planning this is not free). Data-modifying CTEs all run to completion; the final SELECT
// reports row counts so the caller can check nothing was silently skipped.
const WRITE = `
WITH raw AS (
  INSERT INTO raw_inbox (receipt_id, dept_code, source, batch_id, received_at, content_type, declared_encoding,
                         size_bytes, sha256, sm3, body, chain_seq, prev_hash, chain_hash)
  VALUES ($2, $1, $3, $4, $5::timestamptz, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  RETURNING id
), head AS (
  UPDATE dept_chain_head SET seq = $12, hash = $14, updated_at = now() WHERE dept_code = $1
  RETURNING 1
), rec AS (
  INSERT INTO records (dept_code, record_type, business_key, data_ver, version, digest, content, warnings,
                       raw_id, record_index, received_at)
  SELECT $1, x.t, x.k, x.dv, x.v, decode(x.d, 'hex'), x.c, x.w, (SELECT id FROM raw), x.i, $5::timestamptz
  FROM jsonb_to_recordset($15::jsonb) AS x(i integer, t text, k text, dv integer, v integer, d text, c jsonb, w jsonb)
  ORDER BY x.i
  RETURNING id, record_type, business_key, version, data_ver, digest
), heads AS (
  INSERT INTO record_heads (dept_code, record_type, business_key, version, data_ver, digest, record_id, received_at)
  SELECT DISTINCT ON (record_type, business_key) $1, record_type, business_key, version, data_ver, digest, id, $5::timestamptz
  FROM rec
  ORDER BY record_type, business_key, version DESC
  ON CONFLICT (dept_code, record_type, business_key) DO UPDATE
    SET version = EXCLUDED.version, data_ver = EXCLUDED.data_ver, digest = EXCLUDED.digest,
        record_id = EXCLUDED.record_id, received_at = EXCLUDED.received_at
    WHERE record_heads.version < EXCLUDED.version
  RETURNING 1
), rej AS (
  INSERT INTO rejections (raw_id, dept_code, record_index, record_type, business_key, data_ver, findings, received_at)
  SELECT (SELECT id FROM raw), $1, x.i, x.t, x.k, x.dv, x.f, $5::timestamptz
  FROM jsonb_to_recordset($16::jsonb) AS x(i integer, t text, k text, dv integer, f jsonb)
  ORDER BY x.i NULLS FIRST
  RETURNING 1
), rcpt AS (
  INSERT INTO receipts (receipt_id, raw_id, dept_code, created_at, body)
  VALUES ($2, (SELECT id FROM raw), $1, $5::timestamptz, $17::jsonb)
  RETURNING 1
)
SELECT (SELECT id FROM raw) AS raw_id,
       (SELECT count(*) FROM head) AS head_rows,
       (SELECT count(*) FROM rec) AS record_rows,
       (SELECT count(*) FROM heads) AS head_upserts,
       (SELECT count(*) FROM rej) AS rejection_rows,
       (SELECT count(*) FROM rcpt) AS receipt_rows`;

// ── ingest ─────────────────────────────────────────────────────────────────────────────────────────

interface Head {
  version: number;
  dataVer: number | null;
  digest: string;
}

interface Prepared {
  readonly input: IngestInput;
  readonly receivedAt: Date;
  readonly receiptId: string;
  readonly body: Buffer;
  readonly bodySha256: Buffer;
  readonly bodySm3: Buffer;
  readonly payloadRejected: boolean;
  /** Per record: content as JSON text and its digest (accepted records only). */
  readonly contentJson: Map<number, string>;
  readonly digests: Map<number, string>;
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;
const INT4_MAX = 2_147_483_647;

export async function ingest(db: Db, input: IngestInput, options: IngestOptions = {}): Promise<IngestResult> {
  const prepared = prepare(input);
  // Outside the transaction: creating a partition is DDL and takes its own locks.
  await ensurePartitionFor(db, prepared.receivedAt);
  return db.transaction(async (tx) => {
    const result = await ingestInTx(tx, prepared);
    if (options.inTransaction) await options.inTransaction(tx, result);
    return result;
  });
}

/** Checks the caller's contract and does the CPU work (hashing, JSON) before any lock is held. */
function prepare(input: IngestInput): Prepared {
  if (typeof input.deptCode !== 'string' || input.deptCode === '') throw new TypeError('ingest: deptCode is required');
  if (typeof input.source !== 'string' || input.source === '') throw new TypeError('ingest: source is required');
  if (!(input.raw?.body instanceof Uint8Array)) throw new TypeError('ingest: raw.body must be a Uint8Array');
  const receivedAt = input.receivedAt ?? new Date();
  if (Number.isNaN(receivedAt.getTime())) throw new TypeError('ingest: receivedAt is not a valid date');
  const payloadFindings = input.payloadFindings ?? [];
  const payloadRejected = payloadFindings.some((f) => f.severity !== 'warning');
  if (payloadRejected && input.records.length > 0) {
    throw new TypeError('ingest: a payload rejected as a whole (error in payloadFindings) carries no records');
  }

  const contentJson = new Map<number, string>();
  const digests = new Map<number, string>();
  const seen = new Set<number>();
  for (const r of input.records) {
    if (!Number.isInteger(r.index) || r.index < 0 || r.index > INT4_MAX) throw new TypeError(`ingest: bad record index ${r.index}`);
    if (seen.has(r.index)) throw new TypeError(`ingest: record index ${r.index} appears twice`);
    seen.add(r.index);
    if (r.dataVer !== undefined && (!Number.isInteger(r.dataVer) || r.dataVer < 0 || r.dataVer > INT4_MAX)) {
      throw new TypeError(`ingest: record ${r.index} has a dataVer that is not a 32-bit integer`);
    }
    if (r.status !== 'accepted') continue;
    if (!(RECORD_TYPES as readonly string[]).includes(r.recordType ?? '')) {
      throw new TypeError(`ingest: accepted record ${r.index} has record type ${String(r.recordType)}`);
    }
    if (typeof r.businessKey !== 'string' || r.businessKey === '') {
      throw new TypeError(`ingest: accepted record ${r.index} has no business key`);
    }
    if (r.content === undefined) throw new TypeError(`ingest: accepted record ${r.index} has no content`);
    const digest = r.digest ?? contentDigest(r.content);
    if (!HEX_DIGEST.test(digest)) throw new TypeError(`ingest: record ${r.index} digest is not lower-case hex sha256`);
    digests.set(r.index, digest);
    contentJson.set(r.index, pgJson(r.content));
  }

  const body = Buffer.from(input.raw.body.buffer, input.raw.body.byteOffset, input.raw.body.byteLength);
  return {
    input,
    receivedAt,
    receiptId: newReceiptId(receivedAt),
    body,
    bodySha256: sha256(body),
    bodySm3: sm3(body),
    payloadRejected,
    contentJson,
    digests,
  };
}

const keyOf = (type: string, key: string) => `${type}\u0000${key}`;
const recordKey = (r: IngestRecordInput) => `${r.recordType ?? '?'}:${r.businessKey ?? '?'}@${r.dataVer ?? '?'}`;

async function ingestInTx(tx: Tx, p: Prepared): Promise<IngestResult> {
  const { input, receivedAt } = p;
  const dept = input.deptCode;
  const receivedIso = receivedAt.toISOString();

  if (input.nonce) {
    const { rows } = await tx.query(INSERT_NONCE, [input.nonce.keyId, input.nonce.nonce, receivedIso], { name: 'govgate_ingest_nonce' });
    if (rows.length === 0) throw new GovgateError('GOVGATE_AUTH_REPLAY', { found: input.nonce.nonce });
  }

  let lockRows = (await tx.query<{ seq: number; hash: Uint8Array }>(LOCK_HEAD, [dept], { name: 'govgate_ingest_lock' })).rows;
  if (lockRows.length === 0) {
    await tx.query(INIT_HEAD, [dept, Buffer.from(GENESIS_HASH)]);
    lockRows = (await tx.query<{ seq: number; hash: Uint8Array }>(LOCK_HEAD, [dept])).rows;
  }
  const head = lockRows[0];
  if (!head) throw new Error(`ingest: the chain head of department ${dept} could not be locked`);
  const seq = head.seq + 1;
  const declaredEncoding = input.raw.declaredEncoding ?? null;
  const hash = chainHash(head.hash, p.bodySm3, {
    deptCode: dept, seq, receivedAt, receiptId: p.receiptId, source: input.source,
    contentType: input.raw.contentType, declaredEncoding, sizeBytes: p.body.length,
  });

  // Current heads of every key this payload touches.
  const heads = new Map<string, Head>();
  const wanted = new Map<string, { t: string; k: string }>();
  for (const r of input.records) {
    if (r.status === 'accepted') wanted.set(keyOf(r.recordType!, r.businessKey!), { t: r.recordType!, k: r.businessKey! });
  }
  if (wanted.size > 0) {
    const { rows } = await tx.query<{ record_type: string; business_key: string; version: number; data_ver: number | null; digest: string }>(
      READ_HEADS, [dept, JSON.stringify([...wanted.values()])], { name: 'govgate_ingest_heads' },
    );
    for (const h of rows) heads.set(keyOf(h.record_type, h.business_key), { version: h.version, dataVer: h.data_ver, digest: h.digest });
  }

  // Decide each record in order; build the rows as JSON text (content is already serialized).
  const outcomes: RecordReceipt[] = [];
  const recordRows: string[] = [];
  const rejectionRows: string[] = [];
  let expectedHeadKeys = 0;
  const touched = new Set<string>();
  for (const r of input.records) {
    const base = {
      index: r.index,
      ...(r.recordType === undefined ? {} : { recordType: r.recordType }),
      ...(r.businessKey === undefined ? {} : { key: r.businessKey }),
      ...(r.dataVer === undefined ? {} : { dataVer: r.dataVer }),
    };
    const rejectRow = (findings: readonly Finding[]) =>
      rejectionRows.push(`{"i":${r.index},"t":${JSON.stringify(r.recordType ?? null)},"k":${JSON.stringify(r.businessKey ?? null)},` +
        `"dv":${r.dataVer ?? 'null'},"f":${pgJson(findings)}}`);

    if (r.status !== 'accepted') {
      const findings = r.findings ?? [];
      rejectRow(findings);
      outcomes.push({ ...base, outcome: 'rejected', findings });
      continue;
    }
    const k = keyOf(r.recordType!, r.businessKey!);
    const digest = p.digests.get(r.index)!;
    const current = heads.get(k);
    const warnings = r.warnings ?? [];
    if (current && current.digest === digest) {
      outcomes.push({ ...base, outcome: 'unchanged', version: current.version, findings: warnings });
      continue;
    }
    if (current && r.dataVer !== undefined && current.dataVer !== null && r.dataVer < current.dataVer) {
      const findings = forRecord(
        [finding('error', 'GOVGATE_RECORD_STALE', { found: recordKey(r), dataVer: r.dataVer, expected: current.dataVer })],
        r.index, recordKey(r),
      );
      rejectRow(findings);
      outcomes.push({ ...base, outcome: 'stale', version: current.version, findings });
      continue;
    }
    const version = (current?.version ?? 0) + 1;
    heads.set(k, { version, dataVer: r.dataVer ?? null, digest });
    if (!touched.has(k)) {
      touched.add(k);
      expectedHeadKeys++;
    }
    recordRows.push(`{"i":${r.index},"t":${JSON.stringify(r.recordType)},"k":${JSON.stringify(r.businessKey)},` +
      `"dv":${r.dataVer ?? 'null'},"v":${version},"d":"${digest}","c":${p.contentJson.get(r.index)!},` +
      `"w":${warnings.length === 0 ? 'null' : pgJson(warnings)}}`);
    outcomes.push({ ...base, outcome: current ? 'changed' : 'new', version, findings: warnings });
  }

  const payloadFindings = input.payloadFindings ?? [];
  if (p.payloadRejected) rejectionRows.unshift(`{"i":null,"t":null,"k":null,"dv":null,"f":${pgJson(payloadFindings)}}`);

  const receipt: Receipt = {
    receiptId: p.receiptId,
    receivedAt: receivedIso,
    deptCode: dept,
    ...(input.batchId === undefined ? {} : { batchId: input.batchId }),
    ...summarizeReceipt(outcomes, payloadFindings),
    records: outcomes,
    findings: payloadFindings,
  };

  const { rows } = await tx.query<{
    raw_id: number; head_rows: number; record_rows: number; head_upserts: number; rejection_rows: number; receipt_rows: number;
  }>(WRITE, [
    dept, p.receiptId, input.source, input.batchId ?? null, receivedIso, input.raw.contentType, declaredEncoding,
    p.body.length, p.bodySha256, p.bodySm3, p.body, seq, Buffer.from(head.hash), hash,
    `[${recordRows.join(',')}]`, `[${rejectionRows.join(',')}]`, pgJson(receipt),
  ], { name: 'govgate_ingest_write' });
  const w = rows[0];
  if (
    !w || w.head_rows !== 1 || w.record_rows !== recordRows.length || w.head_upserts !== expectedHeadKeys ||
    w.rejection_rows !== rejectionRows.length || w.receipt_rows !== 1
  ) {
    // Cannot happen while every writer holds the chain-head lock; if it does, store nothing.
    throw new Error(`ingest: write counts differ from the plan: ${JSON.stringify(w)}`);
  }
  return { receipt, rawId: w.raw_id, chainSeq: seq, chainHash: toHex(hash) };
}
