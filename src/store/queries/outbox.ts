/**
 * The outbox as the delivery engine sees it: claim due entries (FOR UPDATE SKIP LOCKED, so any
 * number of workers in any number of instances each get different entries), settle what was sent,
 * put back what could not be, and reclaim leases a killed worker left behind.
 *
 * An entry is one (destination, record key); `wanted_version` is the newest version to deliver
 * (ingest moves it forward in its own transaction, see queries/ingest.ts). A claim leases the
 * wanted version; settling a lease whose entry has meanwhile moved on makes it due again at once,
 * so the newer version follows the older one and never the other way round.
 */
import type { Db, Queryable } from '../db.js';
import { ensurePartitionFor } from '../partitions.js';

export interface ClaimedEntry {
  readonly entryId: string;
  readonly deptCode: string;
  readonly recordType: string;
  readonly businessKey: string;
  readonly version: number;
  readonly dataVer: number | null;
  /** Including this one. */
  readonly attempts: number;
  /** When the current run of failures began (null: this is the first attempt or all went well). */
  readonly firstFailedAt: Date | null;
  /** The claimed version's row in records: (recordId, recordAt). */
  readonly recordId: string;
  readonly recordAt: Date;
  /**
   * The record as JSON text, exactly as stored: destinations that send JSON splice it into their
   * request instead of parsing and re-serialising every record (≈ 20 µs each).
   */
  readonly contentJson: string;
}

// One round trip: pick, lease and read the record contents. The record row is found by its
// primary key (id, received_at), so only one partition is probed per entry.
//
// CLAIM and SETTLE are sent unnamed, so PostgreSQL plans them on every run (a fraction of a
// millisecond, a few times a second). A named statement gets a generic plan after five runs, and
// one made while the outbox and records were empty — a fresh installation, whose workers poll
// from the first second — scans both tables sequentially; it stays cached on the connection until
// an ANALYZE invalidates it, which without autovacuum (this project's CI server runs with it off)
// never comes. Planned per run they probe the primary keys at any size (test/outbox.test.ts).
//
// The picked ids go to the UPDATE as an array (`id = ANY(ARRAY(…))`), not as a join: joined, the
// planner hashed the whole outbox for every claim (a sequential scan, 40 ms at 50,000 entries and
// growing with the backlog); with the array it probes the primary key once per entry.
const CLAIM = `
WITH leased AS (
  UPDATE outbox o
  SET state = 'leased', lease_version = o.wanted_version, lease_until = now() + make_interval(secs => $3::integer),
      leased_by = $4, attempts = o.attempts + 1
  WHERE o.id = ANY(ARRAY(
    SELECT id FROM outbox
    WHERE destination = $1 AND state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
  ))
  RETURNING o.id, o.dept_code, o.record_type, o.business_key, o.wanted_version, o.attempts, o.first_failed_at,
            o.record_id, o.record_at, o.next_attempt_at
)
SELECT l.id::text AS id, l.record_id::text AS record_id, l.dept_code, l.record_type, l.business_key, l.wanted_version AS version, l.attempts,
       l.first_failed_at, l.record_at, r.data_ver, r.content::text AS content_json
FROM leased l
CROSS JOIN LATERAL (SELECT data_ver, content FROM records WHERE id = l.record_id AND received_at = l.record_at) r
ORDER BY l.next_attempt_at, l.id`;

export async function claimDue(db: Queryable, destination: string, limit: number, leaseSeconds: number, worker: string): Promise<ClaimedEntry[]> {
  const { rows } = await db.query<{
    id: string; record_id: string; dept_code: string; record_type: string; business_key: string; version: number; attempts: number;
    first_failed_at: Date | null; record_at: Date; data_ver: number | null; content_json: string;
  }>(CLAIM, [destination, limit, leaseSeconds, worker]);
  return rows.map((r) => ({
    entryId: r.id, deptCode: r.dept_code, recordType: r.record_type, businessKey: r.business_key, version: r.version,
    dataVer: r.data_ver, attempts: r.attempts, firstFailedAt: r.first_failed_at, recordId: r.record_id, recordAt: r.record_at, contentJson: r.content_json,
  }));
}

/** What became of one leased entry. `entry` is the claim it answers. */
export type Settlement =
  | { readonly entry: ClaimedEntry; readonly kind: 'delivered'; readonly outcome: 'new' | 'duplicate'; readonly receiverRef?: string; readonly idempotencyKey: string }
  | { readonly entry: ClaimedEntry; readonly kind: 'dead'; readonly cause: 'rejected' | 'exhausted'; readonly reason: unknown; readonly answer?: unknown }
  | { readonly entry: ClaimedEntry; readonly kind: 'retry'; readonly nextAttemptAt: Date; readonly reason: unknown }
  /** Not attempted after all (paused, breaker open, shutting down): the attempt is not counted. */
  | { readonly entry: ClaimedEntry; readonly kind: 'release'; readonly nextAttemptAt: Date };

// Everything about a set of settled leases in one statement. Only leases still held by this worker
// count (`leased_by`, `lease_version`): if a lease ran out and another worker took the entry over,
// that worker's answer is the one recorded, so nothing is logged twice.
const SETTLE = `
WITH x AS (
  SELECT * FROM json_to_recordset($1::json) AS x(id bigint, v integer, k text, n integer, rid bigint, ra timestamptz,
    out text, ref text, ik text, cause text, reason jsonb, answer jsonb, at timestamptz)
), upd AS (
  UPDATE outbox o SET
    state = CASE
      WHEN x.k IN ('retry', 'release') THEN 'pending'
      WHEN o.wanted_version > x.v THEN 'pending'
      ELSE 'done' END,
    next_attempt_at = CASE WHEN x.k IN ('retry', 'release') THEN x.at ELSE now() END,
    attempts = CASE WHEN x.k = 'retry' THEN o.attempts WHEN x.k = 'release' THEN greatest(o.attempts - 1, 0) ELSE 0 END,
    first_failed_at = CASE WHEN x.k = 'retry' THEN coalesce(o.first_failed_at, now())
                           WHEN x.k = 'release' THEN o.first_failed_at ELSE NULL END,
    settled_version = CASE WHEN x.k IN ('delivered', 'dead') THEN x.v ELSE o.settled_version END,
    last_error = CASE WHEN x.k IN ('retry', 'dead') THEN x.reason WHEN x.k = 'delivered' THEN NULL ELSE o.last_error END,
    lease_version = NULL, lease_until = NULL, leased_by = NULL
  FROM x
  -- ANY(ARRAY(…)) lets the planner probe the primary key instead of hashing the whole outbox
  WHERE o.id = ANY(ARRAY(SELECT id FROM x)) AND o.id = x.id AND o.state = 'leased' AND o.leased_by = $2 AND o.lease_version = x.v
  RETURNING o.id, o.destination, o.dept_code, o.record_type, o.business_key,
            x.v, x.k, x.n, x.rid, x.ra, x.out, x.ref, x.ik, x.cause, x.reason, x.answer
), del AS (
  INSERT INTO deliveries (destination, dept_code, record_type, business_key, version, idempotency_key, outcome,
                          receiver_ref, record_at, acked_at, attempts)
  SELECT u.destination, u.dept_code, u.record_type, u.business_key, u.v, u.ik, u.out, u.ref, u.ra, now(), u.n
  FROM upd u WHERE u.k = 'delivered'
  ORDER BY u.id
  RETURNING 1
), dead AS (
  INSERT INTO dead_letters (outbox_id, destination, dept_code, record_type, business_key, version, record_id, record_at,
                            cause, reason, answer, attempts)
  SELECT u.id, u.destination, u.dept_code, u.record_type, u.business_key, u.v, u.rid, u.ra, u.cause, u.reason, u.answer, u.n
  FROM upd u WHERE u.k = 'dead'
  ORDER BY u.id
  RETURNING 1
), sup AS (
  -- a newer version got through: older dead letters of the key need no re-drive any more
  UPDATE dead_letters d SET state = 'superseded', resolved_at = now(), resolved_by = 'gateway'
  FROM upd u
  WHERE d.outbox_id = ANY(ARRAY(SELECT id FROM upd WHERE k = 'delivered')) AND d.state = 'open'
    AND u.k = 'delivered' AND d.outbox_id = u.id AND d.version < u.v
  RETURNING 1
)
SELECT (SELECT count(*) FROM upd)::integer AS settled, (SELECT count(*) FROM del)::integer AS delivered,
       (SELECT count(*) FROM dead)::integer AS dead, (SELECT count(*) FROM sup)::integer AS superseded`;

export interface SettleResult {
  /** Leases this worker still held and settled; the rest had been taken over. */
  readonly settled: number;
  readonly delivered: number;
  readonly dead: number;
  readonly superseded: number;
}

export async function settle(db: Db, worker: string, settlements: readonly Settlement[]): Promise<SettleResult> {
  if (settlements.length === 0) return { settled: 0, delivered: 0, dead: 0, superseded: 0 };
  // deliveries is partitioned by acked_at (now): make sure this month exists (cached).
  await ensurePartitionFor(db, new Date());
  // Literals, not `{ ...base, … }`: V8 copies a spread object through its slow path here
  // (1.4 µs against 0.02 µs a row, Node 20), once per settled record.
  const rows = settlements.map((s) => {
    const e = s.entry;
    const ra = e.recordAt.toISOString();
    switch (s.kind) {
      case 'delivered':
        return { id: e.entryId, v: e.version, k: s.kind, n: e.attempts, rid: e.recordId, ra, out: s.outcome, ref: s.receiverRef ?? null, ik: s.idempotencyKey };
      case 'dead':
        return { id: e.entryId, v: e.version, k: s.kind, n: e.attempts, rid: e.recordId, ra, cause: s.cause, reason: s.reason, answer: s.answer ?? null };
      case 'retry':
        return { id: e.entryId, v: e.version, k: s.kind, n: e.attempts, rid: e.recordId, ra, reason: s.reason, at: s.nextAttemptAt.toISOString() };
      case 'release':
        return { id: e.entryId, v: e.version, k: s.kind, n: e.attempts, rid: e.recordId, ra, at: s.nextAttemptAt.toISOString() };
    }
  });
  const { rows: out } = await db.query<SettleResult>(SETTLE, [JSON.stringify(rows), worker]);
  return out[0]!;
}

/** Leases that ran out (their worker was killed or hung): due again now. Returns how many. */
export async function reclaimExpired(db: Queryable, destination?: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `WITH r AS (
       UPDATE outbox SET state = 'pending', next_attempt_at = now(), lease_version = NULL, lease_until = NULL, leased_by = NULL
       WHERE state = 'leased' AND lease_until < now() AND ($1::text IS NULL OR destination = $1)
       RETURNING 1
     ) SELECT count(*)::integer AS n FROM r`,
    [destination ?? null],
  );
  return rows[0]?.n ?? 0;
}

export interface OutboxDepth {
  readonly destination: string;
  readonly pending: number;
  readonly leased: number;
  /** Seconds since the oldest undelivered entry was enqueued (0 when none): the freshness figure. */
  readonly oldestAgeSeconds: number;
}

/** Per destination: entries waiting or in flight, and the age of the oldest. */
export async function outboxDepth(db: Queryable): Promise<OutboxDepth[]> {
  const { rows } = await db.query<{ destination: string; pending: string; leased: string; oldest: number | null }>(
    `SELECT destination,
            count(*) FILTER (WHERE state = 'pending') AS pending,
            count(*) FILTER (WHERE state = 'leased') AS leased,
            extract(epoch FROM now() - min(enqueued_at))::float8 AS oldest
     FROM outbox WHERE state <> 'done' GROUP BY destination ORDER BY destination`,
  );
  return rows.map((r) => ({ destination: r.destination, pending: Number(r.pending), leased: Number(r.leased), oldestAgeSeconds: Math.max(0, r.oldest ?? 0) }));
}

// ── destination state ──────────────────────────────────────────────────────────────────────────────

export interface DestinationState {
  readonly destination: string;
  readonly paused: boolean;
  readonly pausedReason: unknown;
  readonly pausedAt: Date | null;
  readonly pausedBy: string | null;
}

export async function destinationStates(db: Queryable): Promise<Map<string, DestinationState>> {
  const { rows } = await db.query<{ destination: string; paused: boolean; paused_reason: unknown; paused_at: Date | null; paused_by: string | null }>(
    'SELECT destination, paused, paused_reason, paused_at, paused_by FROM destination_state',
  );
  return new Map(rows.map((r) => [r.destination, { destination: r.destination, paused: r.paused, pausedReason: r.paused_reason, pausedAt: r.paused_at, pausedBy: r.paused_by }]));
}

export async function setDestinationPaused(db: Queryable, destination: string, paused: boolean, actor: string, reason?: unknown): Promise<void> {
  await db.query(
    `INSERT INTO destination_state (destination, paused, paused_reason, paused_at, paused_by, updated_at)
     VALUES ($1, $2, $3::jsonb, CASE WHEN $2 THEN now() END, $4, now())
     ON CONFLICT (destination) DO UPDATE SET paused = EXCLUDED.paused, paused_reason = EXCLUDED.paused_reason,
       paused_at = EXCLUDED.paused_at, paused_by = EXCLUDED.paused_by, updated_at = now()`,
    [destination, paused, reason === undefined ? null : JSON.stringify(reason), actor],
  );
}
