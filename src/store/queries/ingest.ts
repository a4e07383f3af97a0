/**
 * ingest: payloads and everything decided about them, committed together — the raw bytes
 * (appended to their department's hash chain), a new version row for each new or changed record, a
 * rejection row for each record not taken, the replay nonce and the receipt. Either all of a
 * payload is stored or none of it is, so a receipt never promises more than the database holds.
 *
 * `ingestMany` commits a group of payloads in ONE transaction with the same round trips as one
 * payload: BEGIN, one statement for the nonces + chain-head locks + record heads, one write
 * statement, COMMIT.
 * Rows travel as JSON arrays (json_to_recordset), never one statement per record or payload.
 * `ingest` is a group of one. Why groups: a department's ingests serialize on its chain-head row
 * lock, so one payload per transaction capped one department at one commit (≈5 round trips and an
 * fsync) at a time — 285 single-record requests/s through HTTP. The group committer
 * (../group-commit.ts) puts concurrent requests into one group; docs/storage.md has the numbers.
 *
 * Outcome per accepted record, against the stored head of its (department, type, key):
 * - no head                                   → `new`, version 1
 * - same digest as the head                   → `unchanged`, nothing written (resends collapse)
 * - lower dataVer than the head's             → `stale`, kept as a rejection with GOVGATE_RECORD_STALE;
 *                                               an old version must not overwrite a newer one downstream
 * - otherwise (higher, equal or absent dataVer) → `changed`, version head+1
 * Records are decided in group order (payloads in order, each payload's records in array order)
 * against the heads as the group itself moves them, so the same key twice in one batch, or in two
 * payloads of one group, behaves like two payloads in a row.
 */
import { GovgateError } from '../../errors.js';
import { finding, forRecord, type Finding } from '../../schemas/findings.js';
import { GENESIS_HASH, chainHash, sha256, sm3, toHex } from '../chain.js';
import { encodeContent } from '../content.js';
import type { Db, Tx } from '../db.js';
import { newReceiptId } from '../ids.js';
import { ensurePartitionFor, partitionMonth } from '../partitions.js';
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
  /**
   * The normalized record (JSON). Required when accepted, unless `stored` is given: then only what
   * routing rules read of it (a power item's `category`) is needed.
   */
  readonly content?: unknown;
  /** Hex sha256 of the record's canonical JSON; computed here when absent. */
  readonly digest?: string;
  /**
   * The JSON text to store, UTF-8, with `digest` as `encodeContent` (../content.ts) makes them:
   * given, the store does not serialise or hash the record again (intake did, perhaps on a worker
   * thread).
   */
  readonly stored?: Uint8Array;
  /** Kept with an accepted record and echoed in its receipt. */
  readonly warnings?: readonly Finding[];
  /** Why a rejected record was rejected. */
  readonly findings?: readonly Finding[];
}

/**
 * Digests of the raw body already computed over exactly these bytes (the signature check hashes
 * the body with its algorithm), hex; each one given is not computed again. SM3 over a 170 kB
 * batch costs 0.6 ms of the gateway's one thread.
 */
export interface RawDigests {
  readonly sha256?: string;
  readonly sm3?: string;
}

export interface IngestInput {
  readonly deptCode: string;
  /** The adapter that brought it, e.g. `http-push`. */
  readonly source: string;
  /** @defaultValue now. Millisecond precision (a JS Date) is what gets stored and hashed. */
  readonly receivedAt?: Date;
  /** The sender's batch id from the envelope, when there was one. */
  readonly batchId?: string;
  readonly raw: { readonly body: Uint8Array; readonly contentType: string; readonly declaredEncoding?: string; readonly digests?: RawDigests };
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

/**
 * Which destinations a new record version goes to (the routing rules of the config,
 * src/sync/routing.ts). Its outbox entries are written by the same statement as the version.
 */
export type Router = (deptCode: string, recordType: string, content: unknown) => readonly string[];

export interface IngestOptions {
  /** Routes each new or changed version to its destinations' outboxes. Without it nothing is forwarded. */
  readonly route?: Router;
  /**
   * Runs inside the ingest transaction after everything is written and before COMMIT, for work
   * that must commit with the data (adapter cursor, outbox rows). Called once per stored payload of
   * a group, in group order, all with the group's transaction (`position` = the payload's place in
   * the group). A throw rolls the whole group back.
   */
  readonly inTransaction?: (tx: Tx, result: IngestResult, position: number) => Promise<void>;
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
// Every statement takes its rows as one JSON array (json_to_recordset), so its text and parameter
// count are the same for a group of 1 or of 256 payloads: each is prepared once per connection
// under its name and never re-planned per group size.

// The first statement of a group, one round trip for three things (each round trip is spent
// holding the department locks, so they are what a group's throughput is made of):
//
// 1. The nonces of the whole group. Sorted, so two instances inserting the same nonces wait for
//    each other rather than deadlock. A nonce that conflicts with a stored one is not returned:
//    that payload is a replay.
// 2. The chain-head row locks, which serialize one department's ingests (and only that
//    department's). Taken in dept_code order (LockRows sits above the Sort), so two groups sharing
//    departments queue on the first shared one rather than deadlock.
// 3. The record heads of every key the group touches. They are read with the statement's
//    snapshot, taken before the locks were granted; the caller compares each department's locked
//    head (l: the latest version, re-fetched under the lock) with the same row in that snapshot
//    (s). Every writer of a department's record heads moves its chain head in the same
//    transaction, so equal seqs mean nobody committed to the department in between and the heads
//    read are current. Otherwise (another instance got there first) they are read again.
//    LATERAL … LIMIT 1 keeps this one primary-key probe per key: as a plain join the planner, with
//    stale statistics, hashed every head of the department instead (3.3 ms a batch at 24k heads).
//
// Rows: 'n' a fresh nonce (a = key id, b = nonce); 'h' a locked head (a = dept, seq, hash);
// 's' the same head in the snapshot (a = dept, seq); 'r' a record head (a = dept, b = type,
// c = key, d = digest, version, data_ver).
const LOCK_AND_READ = `
WITH n AS (
  INSERT INTO nonces (key_id, nonce, seen_at)
  SELECT x.k, x.n, x.at FROM json_to_recordset($1::json) AS x(k text, n text, at timestamptz)
  ORDER BY x.k, x.n
  ON CONFLICT (key_id, nonce) DO NOTHING
  RETURNING key_id, nonce
), l AS (
  SELECT dept_code, seq, hash FROM dept_chain_head
  WHERE dept_code = ANY($2::text[])
  ORDER BY dept_code
  FOR UPDATE
), s AS (
  SELECT dept_code, seq FROM dept_chain_head WHERE dept_code = ANY($2::text[])
), r AS (
  SELECT k.d, k.t, k.k, h.version, h.data_ver, h.digest
  FROM json_to_recordset($3::json) AS k(d text, t text, k text)
  CROSS JOIN LATERAL (
    SELECT version, data_ver, encode(digest, 'hex') AS digest
    FROM record_heads
    WHERE dept_code = k.d AND record_type = k.t AND business_key = k.k
    LIMIT 1
  ) h
)
SELECT 'n' AS kind, key_id AS a, nonce AS b, NULL::text AS c, NULL::text AS d,
       NULL::bigint AS seq, NULL::bytea AS hash, NULL::integer AS version, NULL::integer AS data_ver FROM n
UNION ALL SELECT 'h', dept_code, NULL, NULL, NULL, seq, hash, NULL, NULL FROM l
UNION ALL SELECT 's', dept_code, NULL, NULL, NULL, seq, NULL, NULL, NULL FROM s
UNION ALL SELECT 'r', r.d, r.t, r.k, r.digest, NULL, NULL, r.version, r.data_ver FROM r`;

// Re-locks the heads INIT_HEADS has just created.
const LOCK_HEADS = `
SELECT dept_code, seq, hash FROM dept_chain_head
WHERE dept_code = ANY($1::text[])
ORDER BY dept_code
FOR UPDATE`;

// First payload of a department. Continues from raw_inbox rather than from zero in case the
// (mutable) head row was lost, so the chain never restarts under existing entries.
const INIT_HEADS = `
INSERT INTO dept_chain_head (dept_code, seq, hash)
SELECT d,
       coalesce((SELECT max(chain_seq) FROM raw_inbox WHERE dept_code = d), 0),
       coalesce((SELECT chain_hash FROM raw_inbox WHERE dept_code = d ORDER BY chain_seq DESC, id DESC LIMIT 1), $2::bytea)
FROM unnest($1::text[]) AS d
ORDER BY d
ON CONFLICT (dept_code) DO NOTHING`;

// The record heads again, after the locks, when LOCK_AND_READ's snapshot may have missed a commit.
// No FOR UPDATE: every writer of these rows holds the department's chain-head lock already.
const READ_HEADS = `
SELECT k.d AS dept_code, k.t AS record_type, k.k AS business_key, h.version, h.data_ver, h.digest
FROM json_to_recordset($1::json) AS k(d text, t text, k text)
CROSS JOIN LATERAL (
  SELECT version, data_ver, encode(digest, 'hex') AS digest
  FROM record_heads
  WHERE dept_code = k.d AND record_type = k.t AND business_key = k.k
  LIMIT 1
) h`;

// Everything else of the whole group in one statement. Data-modifying CTEs all run to completion;
// the final SELECT reports row counts so the caller can check nothing was silently skipped, and
// each payload's raw id (p = its position among the group's live payloads).
//
// Children find their raw row through receipt_id (unique, and a column RETURNING can give back)
// joined to the payload ordinal p. The bodies travel as one binary parameter ($2, all bodies
// concatenated; each raw row takes its slice): a bytea[] would go as hex text, twice the bytes
// and an encode/decode on each side. Record contents likewise ($8, each record's o and n), so
// PostgreSQL only checks their JSON syntax once, as it stores them; inside the row parameter
// ($4) every content was parsed as part of one big JSON value first. Row parameters are `json`,
// not `jsonb`, for the same reason: json_to_recordset reads the text as it goes, where a jsonb
// parameter is parsed whole into a tree before the statement starts (migration 0004 measured it).
const WRITE = `
WITH m AS (
  SELECT * FROM json_to_recordset($1::json) AS m(p integer, r text, d text, s text, b text, at timestamptz,
    ct text, de text, n integer, o integer, sha text, sm3 text, seq bigint, prev text, h text)
), raw AS (
  INSERT INTO raw_inbox (receipt_id, dept_code, source, batch_id, received_at, content_type, declared_encoding,
                         size_bytes, sha256, sm3, body, chain_seq, prev_hash, chain_hash)
  SELECT m.r, m.d, m.s, m.b, m.at, m.ct, m.de, m.n, decode(m.sha, 'hex'), decode(m.sm3, 'hex'),
         substring($2::bytea FROM m.o + 1 FOR m.n), m.seq, decode(m.prev, 'hex'), decode(m.h, 'hex')
  FROM m
  ORDER BY m.p
  RETURNING id, receipt_id
), ids AS (
  SELECT m.p, raw.id, m.r, m.d, m.at FROM raw JOIN m ON m.r = raw.receipt_id
), head AS (
  UPDATE dept_chain_head c SET seq = u.seq, hash = decode(u.h, 'hex'), updated_at = now()
  FROM json_to_recordset($3::json) AS u(d text, seq bigint, h text)
  WHERE c.dept_code = u.d
  RETURNING 1
), rec AS (
  INSERT INTO records (dept_code, record_type, business_key, data_ver, version, digest, content, warnings,
                       raw_id, record_index, received_at)
  SELECT ids.d, x.t, x.k, x.dv, x.v, decode(x.g, 'hex'), convert_from(substring($8::bytea FROM x.o + 1 FOR x.n), 'UTF8')::json,
         x.w, ids.id, x.i, ids.at
  FROM json_to_recordset($4::json) AS x(p integer, i integer, t text, k text, dv integer, v integer, g text, o integer, n integer, w jsonb)
  JOIN ids ON ids.p = x.p
  ORDER BY x.p, x.i
  RETURNING id, dept_code, record_type, business_key, version, data_ver, digest, received_at, raw_id, record_index
), heads AS (
  INSERT INTO record_heads (dept_code, record_type, business_key, version, data_ver, digest, record_id, received_at)
  SELECT DISTINCT ON (dept_code, record_type, business_key)
         dept_code, record_type, business_key, version, data_ver, digest, id, received_at
  FROM rec
  ORDER BY dept_code, record_type, business_key, version DESC
  ON CONFLICT (dept_code, record_type, business_key) DO UPDATE
    SET version = EXCLUDED.version, data_ver = EXCLUDED.data_ver, digest = EXCLUDED.digest,
        record_id = EXCLUDED.record_id, received_at = EXCLUDED.received_at
    WHERE record_heads.version < EXCLUDED.version
  RETURNING 1
), rej AS (
  INSERT INTO rejections (raw_id, dept_code, record_index, record_type, business_key, data_ver, findings, received_at)
  SELECT ids.id, ids.d, x.i, x.t, x.k, x.dv, x.f, ids.at
  FROM json_to_recordset($5::json) AS x(p integer, i integer, t text, k text, dv integer, f jsonb)
  JOIN ids ON ids.p = x.p
  ORDER BY x.p, x.i NULLS FIRST
  RETURNING 1
), ob AS (
  -- One entry per (destination, key): a new version moves wanted_version forward and makes a
  -- settled entry due again; an entry in flight keeps its lease (the worker re-queues it when it
  -- finishes) and an entry backing off keeps its retry time. Rows sorted, so two instances
  -- enqueuing the same keys wait for each other rather than deadlock.
  INSERT INTO outbox AS o (destination, dept_code, record_type, business_key, wanted_version, record_id, record_at)
  SELECT x.dst, rec.dept_code, rec.record_type, rec.business_key, rec.version, rec.id, rec.received_at
  FROM json_to_recordset($7::json) AS x(p integer, i integer, dst text)
  JOIN ids ON ids.p = x.p
  JOIN rec ON rec.raw_id = ids.id AND rec.record_index = x.i
  ORDER BY x.dst, rec.dept_code, rec.record_type, rec.business_key
  ON CONFLICT (destination, dept_code, record_type, business_key) DO UPDATE
    SET wanted_version = EXCLUDED.wanted_version, record_id = EXCLUDED.record_id, record_at = EXCLUDED.record_at,
        state = CASE WHEN o.state = 'done' THEN 'pending' ELSE o.state END,
        next_attempt_at = CASE WHEN o.state = 'done' THEN now() ELSE o.next_attempt_at END,
        enqueued_at = CASE WHEN o.state = 'done' THEN now() ELSE o.enqueued_at END
    WHERE o.wanted_version < EXCLUDED.wanted_version
  RETURNING 1
), rcpt AS (
  INSERT INTO receipts (receipt_id, raw_id, dept_code, created_at, body)
  SELECT ids.r, ids.id, ids.d, ids.at, x.b
  FROM json_to_recordset($6::json) AS x(p integer, b json)
  JOIN ids ON ids.p = x.p
  ORDER BY x.p
  RETURNING 1
)
SELECT (SELECT json_agg(json_build_array(p, id)) FROM ids) AS raw_ids,
       (SELECT count(*) FROM head) AS head_rows,
       (SELECT count(*) FROM rec) AS record_rows,
       (SELECT count(*) FROM heads) AS head_upserts,
       (SELECT count(*) FROM rej) AS rejection_rows,
       (SELECT count(*) FROM ob) AS outbox_rows,
       (SELECT count(*) FROM rcpt) AS receipt_rows`;

// ── preparing a payload ───────────────────────────────────────────────────────────────────────────

interface Head {
  version: number;
  dataVer: number | null;
  digest: string;
}

/** A payload checked and hashed, ready to join a group. Opaque outside the store. */
export interface PreparedIngest {
  readonly input: IngestInput;
  readonly receivedAt: Date;
  readonly receivedIso: string;
  readonly receiptId: string;
  readonly body: Buffer;
  readonly bodySha256Hex: string;
  readonly bodySm3: Buffer;
  readonly bodySm3Hex: string;
  readonly payloadRejected: boolean;
  /**
   * The accepted records' contents as JSON text, one after another in UTF-8; `contentAt` gives
   * each record's byte offset and length in it. Encoded once here, before any lock: the write
   * sends the group's contents as one binary parameter.
   */
  readonly contents: Buffer;
  readonly contentAt: Map<number, readonly [offset: number, length: number]>;
  readonly digests: Map<number, string>;
  /** How many records the payload carries (group-size accounting). */
  readonly recordCount: number;
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;
const INT4_MAX = 2_147_483_647;

function knownDigest(hex: string, algorithm: keyof RawDigests): string {
  if (!HEX_DIGEST.test(hex)) throw new TypeError(`ingest: raw.digests.${algorithm} is not a lower-case hex 32-byte digest`);
  return hex;
}

/**
 * Parts as one buffer, copied only when they are not one already: views cut one after another from
 * one buffer (a payload's contents from src/pipeline/read-payload.ts, or a group of one) are
 * returned as a view of it.
 */
function joined(parts: readonly Uint8Array[], size: number): Buffer {
  const first = parts[0];
  if (first === undefined) return Buffer.alloc(0);
  let contiguous = true;
  for (let i = 1; i < parts.length && contiguous; i++) {
    const prev = parts[i - 1]!;
    const cur = parts[i]!;
    contiguous = cur.buffer === first.buffer && cur.byteOffset === prev.byteOffset + prev.byteLength;
  }
  if (contiguous) return Buffer.from(first.buffer, first.byteOffset, size);
  return Buffer.concat(parts, size);
}

/**
 * Checks the caller's contract and does the CPU work (hashing, JSON) before any lock is held.
 * Throws TypeError for a broken contract. `receivedAt` defaults to now, i.e. the moment of
 * preparing — the group committer prepares on arrival, so waiting for a group does not shift it.
 */
export function prepareIngest(input: IngestInput): PreparedIngest {
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

  const encoded: Uint8Array[] = [];
  const contentAt = new Map<number, readonly [number, number]>();
  let contentBytes = 0;
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
    if (r.content === undefined && r.stored === undefined) throw new TypeError(`ingest: accepted record ${r.index} has no content`);
    let digest = r.digest;
    let json: Uint8Array;
    if (r.stored !== undefined) {
      if (digest === undefined) throw new TypeError(`ingest: accepted record ${r.index} has its stored form but no digest`);
      json = r.stored;
    } else if (digest === undefined) {
      ({ digest, stored: json } = encodeContent(r.content));
    } else {
      json = Buffer.from(pgJson(r.content), 'utf8');
    }
    if (!HEX_DIGEST.test(digest)) throw new TypeError(`ingest: record ${r.index} digest is not lower-case hex sha256`);
    digests.set(r.index, digest);
    contentAt.set(r.index, [contentBytes, json.length]);
    contentBytes += json.length;
    encoded.push(json);
  }

  const body = Buffer.from(input.raw.body.buffer, input.raw.body.byteOffset, input.raw.body.byteLength);
  const known = input.raw.digests;
  const bodySm3 = known?.sm3 === undefined ? sm3(body) : Buffer.from(knownDigest(known.sm3, 'sm3'), 'hex');
  return {
    input,
    receivedAt,
    receivedIso: receivedAt.toISOString(),
    receiptId: newReceiptId(receivedAt),
    body,
    bodySha256Hex: known?.sha256 === undefined ? sha256(body).toString('hex') : knownDigest(known.sha256, 'sha256'),
    bodySm3,
    bodySm3Hex: bodySm3.toString('hex'),
    payloadRejected,
    contents: joined(encoded, contentBytes),
    contentAt,
    digests,
    recordCount: input.records.length,
  };
}

// ── ingest, ingestMany ────────────────────────────────────────────────────────────────────────────

/** One input's fate in a group: its result, or why it failed (the others are not affected). */
export type IngestOutcome = { readonly ok: true; readonly result: IngestResult } | { readonly ok: false; readonly error: unknown };

export async function ingest(db: Db, input: IngestInput, options: IngestOptions = {}): Promise<IngestResult> {
  const [outcome] = await ingestMany(db, [input], options);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.result;
}

/**
 * Several payloads in ONE transaction with a fixed number of round trips however many there are
 * (BEGIN; nonces + chain-head locks + record heads; one write; COMMIT — plus two for a department's
 * first payload, one when a lock had to wait for another writer's commit), in the order given: the
 * same key in two payloads of a group behaves exactly as two payloads in a row. Results come back
 * one per input, in order; the `inTransaction` hook's `position` is the input's index.
 *
 * A payload that breaks the caller's contract (TypeError) or replays a nonce fails alone and is
 * left out. Anything else that fails — a statement, the write-count check, an `inTransaction` hook
 * — rolls the whole group back and every remaining input gets that error; the group committer
 * (group-commit.ts) then retries them one by one, so one bad payload cannot sink the others.
 */
export async function ingestMany(db: Db, inputs: readonly IngestInput[], options: IngestOptions = {}): Promise<IngestOutcome[]> {
  const outcomes: (IngestOutcome | undefined)[] = new Array(inputs.length);
  const prepared: PreparedIngest[] = [];
  const positions: number[] = [];
  inputs.forEach((input, i) => {
    try {
      prepared.push(prepareIngest(input));
      positions.push(i);
    } catch (error) {
      outcomes[i] = { ok: false, error };
    }
  });
  if (prepared.length > 0) {
    const hook = options.inTransaction;
    const groupOptions: IngestOptions = {
      ...(options.route === undefined ? {} : { route: options.route }),
      ...(hook === undefined ? {} : { inTransaction: (tx: Tx, result: IngestResult, j: number) => hook(tx, result, positions[j]!) }),
    };
    let group: IngestOutcome[];
    try {
      group = await commitPrepared(db, prepared, groupOptions);
    } catch (error) {
      group = prepared.map(() => ({ ok: false, error }));
    }
    group.forEach((o, j) => (outcomes[positions[j]!] = o));
  }
  return outcomes as IngestOutcome[];
}

/**
 * Commits already prepared payloads as one group. Resolves with one outcome per payload (a replay
 * fails alone); rejects when the group as a whole failed and nothing of it was stored.
 */
export async function commitPrepared(db: Db, group: readonly PreparedIngest[], options: IngestOptions = {}): Promise<IngestOutcome[]> {
  await ensureGroupPartitions(db, group);
  return db.transaction((tx) => commitPreparedInTx(tx, group, options));
}

/**
 * Makes sure every month the group's payloads fall into has its partitions. Outside the group's
 * transaction: creating a partition is DDL and takes its own locks. Cached per process and month,
 * so normally no round trip at all.
 */
export async function ensureGroupPartitions(db: Db, group: readonly PreparedIngest[]): Promise<void> {
  const months = new Map<string, Date>();
  for (const p of group) months.set(partitionMonth(p.receivedAt), p.receivedAt);
  for (const at of months.values()) await ensurePartitionFor(db, at);
}

/**
 * The group inside a transaction the caller has opened (and will commit): `ensureGroupPartitions`
 * must have run first. The `inTransaction` hook runs per stored payload, in group order, with the
 * same transaction; a throw rolls the whole group back.
 */
export async function commitPreparedInTx(tx: Tx, group: readonly PreparedIngest[], options: IngestOptions = {}): Promise<IngestOutcome[]> {
  const outcomes = await groupInTx(tx, group, options.route);
  if (options.inTransaction) {
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) await options.inTransaction(tx, o.result, i);
    }
  }
  return outcomes;
}

/** A record's line in the receipt; built without spreads, it is made once per record. */
function recordReceipt(r: IngestRecordInput, outcome: RecordOutcome, version: number | undefined, findings: readonly Finding[]): RecordReceipt {
  const out: { -readonly [K in keyof RecordReceipt]?: RecordReceipt[K] } = { index: r.index };
  if (r.recordType !== undefined) out.recordType = r.recordType;
  if (r.businessKey !== undefined) out.key = r.businessKey;
  if (r.dataVer !== undefined) out.dataVer = r.dataVer;
  out.outcome = outcome;
  if (version !== undefined) out.version = version;
  out.findings = findings;
  return out as RecordReceipt;
}

function rejectionRow(p: number, r: IngestRecordInput, findings: readonly Finding[]): string {
  return `{"p":${p},"i":${r.index},"t":${JSON.stringify(r.recordType ?? null)},"k":${JSON.stringify(r.businessKey ?? null)},` +
    `"dv":${r.dataVer ?? 'null'},"f":${pgJson(findings)}}`;
}

const keyOf = (dept: string, type: string, key: string) => `${dept}\u0000${type}\u0000${key}`;
const recordKey = (r: IngestRecordInput) => `${r.recordType ?? '?'}:${r.businessKey ?? '?'}@${r.dataVer ?? '?'}`;
const nonceKey = (n: { keyId: string; nonce: string }) => `${n.keyId}\u0000${n.nonce}`;

interface ChainState {
  seq: number;
  hash: Uint8Array;
  /** Its hex form, once computed (it goes into the next payload's prev_hash). */
  hashHex?: string;
}

async function groupInTx(tx: Tx, group: readonly PreparedIngest[], route: Router | undefined): Promise<IngestOutcome[]> {
  const outcomes: (IngestOutcome | undefined)[] = new Array(group.length);

  // 1. Nonces, chain-head locks and record heads in one statement. The same nonce twice in one
  //    group: the later one is the replay, as it would be two requests in a row; it is decided
  //    here and not sent.
  const withNonce = new Map<string, number>();
  const nonceRows: string[] = [];
  const lockDepts = new Set<string>();
  const wanted = new Map<string, string>();
  group.forEach((p, i) => {
    const n = p.input.nonce;
    if (n) {
      const k = nonceKey(n);
      if (withNonce.has(k)) {
        outcomes[i] = { ok: false, error: new GovgateError('GOVGATE_AUTH_REPLAY', { found: n.nonce }) };
        return;
      }
      withNonce.set(k, i);
      nonceRows.push(JSON.stringify({ k: n.keyId, n: n.nonce, at: p.receivedIso }));
    }
    // Departments and keys of payloads that turn out to be replays are locked and read too, and
    // left untouched.
    const d = p.input.deptCode;
    lockDepts.add(d);
    for (const r of p.input.records) {
      if (r.status !== 'accepted') continue;
      const k = keyOf(d, r.recordType!, r.businessKey!);
      if (!wanted.has(k)) wanted.set(k, JSON.stringify({ d, t: r.recordType, k: r.businessKey }));
    }
  });
  const wantedJson = `[${[...wanted.values()].join(',')}]`;
  const chains = new Map<string, ChainState>();
  const seen = new Map<string, number>();
  const fresh = new Set<string>();
  const heads = new Map<string, Head>();
  const { rows: first } = await tx.query<{
    kind: 'n' | 'h' | 's' | 'r'; a: string; b: string | null; c: string | null; d: string | null;
    seq: number | null; hash: Uint8Array | null; version: number | null; data_ver: number | null;
  }>(LOCK_AND_READ, [`[${nonceRows.join(',')}]`, [...lockDepts].sort(), wantedJson], { name: 'govgate_ingest_lock' });
  for (const r of first) {
    if (r.kind === 'n') fresh.add(nonceKey({ keyId: r.a, nonce: r.b! }));
    else if (r.kind === 'h') chains.set(r.a, { seq: r.seq!, hash: r.hash! });
    else if (r.kind === 's') seen.set(r.a, r.seq!);
    else heads.set(keyOf(r.a, r.b!, r.c!), { version: r.version!, dataVer: r.data_ver, digest: r.d! });
  }
  for (const [k, i] of withNonce) {
    if (!fresh.has(k)) outcomes[i] = { ok: false, error: new GovgateError('GOVGATE_AUTH_REPLAY', { found: group[i]!.input.nonce!.nonce }) };
  }
  const live: number[] = [];
  for (let i = 0; i < group.length; i++) if (outcomes[i] === undefined) live.push(i);
  if (live.length === 0) return outcomes as IngestOutcome[];

  // 2. A department's first payload: create its head, then lock it.
  const depts = [...new Set(live.map((i) => group[i]!.input.deptCode))].sort();
  const missing = depts.filter((d) => !chains.has(d));
  if (missing.length > 0) {
    await tx.query(INIT_HEADS, [missing, Buffer.from(GENESIS_HASH)]);
    const { rows } = await tx.query<{ dept_code: string; seq: number; hash: Uint8Array }>(LOCK_HEADS, [missing]);
    for (const r of rows) chains.set(r.dept_code, { seq: r.seq, hash: r.hash });
    const still = missing.filter((d) => !chains.has(d));
    if (still.length > 0) throw new Error(`ingest: the chain head of department ${still.join(', ')} could not be locked`);
  }

  // 3. Heads read before a lock that had to wait for someone else's commit may be out of date:
  //    read them again, now that the locks are held. (Without this a group that waited would
  //    write a version twice; test/store-group.test.ts catches that. The write-count check alone
  //    does not, when a later payload of the group moves the same key further.)
  const headsCurrent = [...chains].every(([d, c]) => seen.get(d) === c.seq);
  if (!headsCurrent && wanted.size > 0) {
    heads.clear();
    const { rows } = await tx.query<{ dept_code: string; record_type: string; business_key: string; version: number; data_ver: number | null; digest: string }>(
      READ_HEADS, [wantedJson], { name: 'govgate_ingest_heads' },
    );
    for (const h of rows) heads.set(keyOf(h.dept_code, h.record_type, h.business_key), { version: h.version, dataVer: h.data_ver, digest: h.digest });
  }

  // 4. Decide every record of every payload in group order, chain each payload in order per
  //    department, and build all rows as JSON text (record contents are already encoded).
  const metaRows: string[] = [];
  const recordRows: string[] = [];
  const rejectionRows: string[] = [];
  const receiptRows: string[] = [];
  // Keyed by destination and record key: the same key twice in a group enqueues only its newer
  // version (one INSERT … ON CONFLICT cannot touch a row twice).
  const outboxRows = new Map<string, string>();
  const bodies: Buffer[] = [];
  let offset = 0;
  const contents: Buffer[] = [];
  let contentBase = 0;
  const touched = new Set<string>();
  const results: { receipt: Receipt; chainSeq: number; chainHash: string }[] = [];

  live.forEach((i, p) => {
    const prep = group[i]!;
    const { input, receivedAt } = prep;
    const dept = input.deptCode;
    const receivedIso = prep.receivedIso;
    const chain = chains.get(dept)!;
    const prev = chain.hash;
    const seq = chain.seq + 1;
    const declaredEncoding = input.raw.declaredEncoding ?? null;
    const hash = chainHash(prev, prep.bodySm3, {
      deptCode: dept, seq, receivedAt, receiptId: prep.receiptId, source: input.source,
      contentType: input.raw.contentType, declaredEncoding, sizeBytes: prep.body.length,
    });
    const hashHex = toHex(hash);
    chains.set(dept, { seq, hash, hashHex });

    const decided: RecordReceipt[] = [];
    for (const r of input.records) {
      if (r.status !== 'accepted') {
        const findings = r.findings ?? [];
        rejectionRows.push(rejectionRow(p, r, findings));
        decided.push(recordReceipt(r, 'rejected', undefined, findings));
        continue;
      }
      const k = keyOf(dept, r.recordType!, r.businessKey!);
      const digest = prep.digests.get(r.index)!;
      const current = heads.get(k);
      const warnings = r.warnings ?? [];
      if (current && current.digest === digest) {
        decided.push(recordReceipt(r, 'unchanged', current.version, warnings));
        continue;
      }
      if (current && r.dataVer !== undefined && current.dataVer !== null && r.dataVer < current.dataVer) {
        const findings = forRecord(
          [finding('error', 'GOVGATE_RECORD_STALE', { found: recordKey(r), dataVer: r.dataVer, expected: current.dataVer })],
          r.index, recordKey(r),
        );
        rejectionRows.push(rejectionRow(p, r, findings));
        decided.push(recordReceipt(r, 'stale', current.version, findings));
        continue;
      }
      const version = (current?.version ?? 0) + 1;
      heads.set(k, { version, dataVer: r.dataVer ?? null, digest });
      touched.add(k);
      const [o, n] = prep.contentAt.get(r.index)!;
      recordRows.push(`{"p":${p},"i":${r.index},"t":"${r.recordType}","k":${JSON.stringify(r.businessKey)},` +
        `"dv":${r.dataVer ?? 'null'},"v":${version},"g":"${digest}","o":${contentBase + o},"n":${n},` +
        `"w":${warnings.length === 0 ? 'null' : pgJson(warnings)}}`);
      decided.push(recordReceipt(r, current ? 'changed' : 'new', version, warnings));
      if (route !== undefined) {
        for (const dst of route(dept, r.recordType!, r.content)) outboxRows.set(`${dst}\u0000${k}`, `{"p":${p},"i":${r.index},"dst":${JSON.stringify(dst)}}`);
      }
    }

    const payloadFindings = input.payloadFindings ?? [];
    if (prep.payloadRejected) rejectionRows.push(`{"p":${p},"i":null,"t":null,"k":null,"dv":null,"f":${pgJson(payloadFindings)}}`);

    const receipt: Receipt = {
      receiptId: prep.receiptId,
      receivedAt: receivedIso,
      deptCode: dept,
      ...(input.batchId === undefined ? {} : { batchId: input.batchId }),
      ...summarizeReceipt(decided, payloadFindings),
      records: decided,
      findings: payloadFindings,
    };
    receiptRows.push(`{"p":${p},"b":${pgJson(receipt)}}`);
    metaRows.push(JSON.stringify({
      p, r: prep.receiptId, d: dept, s: input.source, b: input.batchId ?? null, at: receivedIso,
      ct: input.raw.contentType, de: declaredEncoding, n: prep.body.length, o: offset,
      sha: prep.bodySha256Hex, sm3: prep.bodySm3Hex, seq, prev: chain.hashHex ?? toHex(prev), h: hashHex,
    }));
    bodies.push(prep.body);
    offset += prep.body.length;
    contents.push(prep.contents);
    contentBase += prep.contents.length;
    results.push({ receipt, chainSeq: seq, chainHash: hashHex });
  });

  const headRows = depts.map((d) => {
    const c = chains.get(d)!;
    return `{"d":${JSON.stringify(d)},"seq":${c.seq},"h":"${c.hashHex ?? toHex(c.hash)}"}`;
  });

  // 5. One statement writes it all.
  const { rows } = await tx.query<{
    raw_ids: [number, number][] | null; head_rows: number; record_rows: number; head_upserts: number; rejection_rows: number;
    outbox_rows: number; receipt_rows: number;
  }>(WRITE, [
    `[${metaRows.join(',')}]`, joined(bodies, offset), `[${headRows.join(',')}]`,
    `[${recordRows.join(',')}]`, `[${rejectionRows.join(',')}]`, `[${receiptRows.join(',')}]`, `[${[...outboxRows.values()].join(',')}]`,
    joined(contents, contentBase),
  ], { name: 'govgate_ingest_write' });
  const w = rows[0];
  const rawIds = new Map<number, number>((w?.raw_ids ?? []).map(([p, id]) => [p, id]));
  if (
    !w || rawIds.size !== live.length || w.head_rows !== depts.length || w.record_rows !== recordRows.length ||
    w.head_upserts !== touched.size || w.rejection_rows !== rejectionRows.length || w.receipt_rows !== live.length ||
    w.outbox_rows !== outboxRows.size
  ) {
    // Cannot happen while every writer holds the chain-head locks; if it does, store nothing.
    throw new Error(`ingest: write counts differ from the plan: ${JSON.stringify({ ...w, raw_ids: rawIds.size })}`);
  }
  live.forEach((i, p) => {
    const r = results[p]!;
    outcomes[i] = { ok: true, result: { receipt: r.receipt, rawId: rawIds.get(p)!, chainSeq: r.chainSeq, chainHash: r.chainHash } };
  });
  return outcomes as IngestOutcome[];
}
