/**
 * What the simulated hall keeps: the records it stored (one row per idempotency key), the records
 * it refused, and per-department counters. Its own tables in its own schema, created here at
 * start — never govgate's migrations: the hall is the other side of the wire, and a department
 * sandbox may point it at a database that has nothing of govgate in it.
 *
 * A batch is one transaction of a fixed number of statements however many records it has
 * (lock, read, write), every row set travelling as one JSON array (json_to_recordset: read as it
 * goes, where a jsonb parameter is first parsed whole into a tree).
 * The department lock makes "new or changed" exact: the read after it sees every batch of that
 * department that committed before, and no other batch of it can commit in between.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../store/db.js';
import { pgJson } from '../store/queries/json.js';

/** Created idempotently at every start, with search_path on the simulator's schema. */
export const HALL_SIM_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS hall_records (
  idempotency_key text        PRIMARY KEY,
  dept_code       text        NOT NULL,
  record_type     text        NOT NULL,
  business_key    text        NOT NULL,
  -- json, not jsonb: kept as sent and never queried inside; parsing it into jsonb was the
  -- simulator's largest cost, on the same machine as the gateway it measures
  content         json        NOT NULL,
  batch_id        text,
  stored_at       timestamptz NOT NULL
);
-- "changed" looks a business key up; reconciliation reads one department's day.
CREATE INDEX IF NOT EXISTS hall_records_key ON hall_records (dept_code, record_type, business_key);
CREATE INDEX IF NOT EXISTS hall_records_day ON hall_records (dept_code, stored_at);

CREATE TABLE IF NOT EXISTS hall_rejections (
  idempotency_key text        PRIMARY KEY,
  -- the sending department (a record claiming another department is refused under the sender)
  dept_code       text        NOT NULL,
  record_type     text,
  business_key    text,
  -- 'rule': refused by rejectRate/rejectKeys, and so refused again for the same business key until
  -- a reset; 'invalid': the record itself was unusable (no key, wrong department, unknown type)
  kind            text        NOT NULL CHECK (kind IN ('rule', 'invalid')),
  reason          jsonb       NOT NULL,
  first_at        timestamptz NOT NULL,
  last_at         timestamptz NOT NULL,
  times           integer     NOT NULL
);
CREATE INDEX IF NOT EXISTS hall_rejections_key ON hall_rejections (dept_code, record_type, business_key);

CREATE TABLE IF NOT EXISTS hall_counters (
  dept_code  text   PRIMARY KEY,
  batches    bigint NOT NULL,
  records    bigint NOT NULL,
  duplicates bigint NOT NULL,
  rejected   bigint NOT NULL
);
`;

export const HALL_RECORD_TYPES = ['case', 'powerItem', 'supervision'] as const;
export type HallRecordType = (typeof HALL_RECORD_TYPES)[number];

export interface Reason {
  readonly zh: string;
  readonly en: string;
}

/** One record of a batch as the server read it. */
export interface BatchRecord {
  readonly index: number;
  readonly idempotencyKey: string;
  /** Set when the record could not be taken whatever the hall's state (the reason). */
  readonly invalid?: Reason;
  /** Required unless invalid. */
  readonly recordType?: HallRecordType;
  readonly businessKey?: string;
  /** The record as JSON text jsonb accepts. Required unless invalid. */
  readonly contentJson?: string;
}

export type HallOutcome = 'new' | 'changed' | 'unchanged' | 'rejected';

export interface BatchDecision {
  readonly outcome: HallOutcome;
  readonly reason?: Reason;
}

export interface SubmitInput {
  readonly deptCode: string;
  readonly batchId: string;
  readonly at: Date;
  readonly records: readonly BatchRecord[];
  /** The configured refusal rule for a valid record that is not stored yet; undefined → take it. */
  readonly rule: (recordType: HallRecordType, businessKey: string) => Reason | undefined;
}

export interface DeptCounts {
  readonly batches: number;
  readonly recordsReceived: number;
  readonly stored: number;
  readonly duplicates: number;
  /** Records answered `rejected` (a record refused three times counts three). */
  readonly rejected: number;
  /** Distinct idempotency keys refused. */
  readonly rejectedRecords: number;
}

export interface RejectedRecord {
  readonly deptCode: string;
  readonly recordType: string | null;
  readonly businessKey: string | null;
  readonly idempotencyKey: string;
  readonly kind: 'rule' | 'invalid';
  readonly reason: Reason;
  readonly times: number;
  readonly firstAt: string;
}

export interface StoredRecord {
  readonly idempotencyKey: string;
  readonly deptCode: string;
  readonly recordType: string;
  readonly businessKey: string;
  readonly batchId: string | null;
  readonly storedAt: string;
  readonly content?: unknown;
}

export interface ReconciliationType {
  readonly recordType: HallRecordType;
  readonly count: number;
  readonly digest: string;
  readonly keys?: readonly string[];
}

// ── SQL ────────────────────────────────────────────────────────────────────────────────────────────

/** "hall" in ASCII: the first half of the simulator's advisory lock keys. */
const LOCK_CLASS = 0x68616c6c;

const LOCK_DEPT = 'SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))';

// What the decision needs, in one round trip: which idempotency keys are stored ('s'), which
// business keys have a stored version ('k'), and which are refused for good ('r', with the reason
// first given, so the answer repeats word for word).
const READ = `
WITH q AS (
  SELECT DISTINCT x.t, x.k FROM json_to_recordset($2::json) AS x(t text, k text)
)
SELECT 's' AS kind, h.idempotency_key AS a, NULL::text AS b, NULL::text AS r
FROM hall_records h WHERE h.idempotency_key = ANY($1::text[])
UNION ALL
SELECT 'k', q.t, q.k, NULL FROM q
WHERE EXISTS (SELECT 1 FROM hall_records h WHERE h.dept_code = $3 AND h.record_type = q.t AND h.business_key = q.k)
UNION ALL
SELECT 'r', q.t, q.k, j.reason::text FROM q
CROSS JOIN LATERAL (
  SELECT reason FROM hall_rejections j
  WHERE j.dept_code = $3 AND j.record_type = q.t AND j.business_key = q.k AND j.kind = 'rule'
  ORDER BY j.first_at, j.idempotency_key LIMIT 1
) j`;

// Everything the batch writes. ON CONFLICT DO NOTHING on the stored records is the last word on
// "already stored": a key another department's batch stored in the meantime (keys are global, the
// lock is per department) is not returned, and the caller turns its answer into `unchanged`.
const WRITE = `
WITH ins AS (
  INSERT INTO hall_records (idempotency_key, dept_code, record_type, business_key, content, batch_id, stored_at)
  SELECT x.ik, $2::text, x.t, x.k, x.c, $3::text, $4::timestamptz
  FROM json_to_recordset($1::json) AS x(ik text, t text, k text, c json)
  ON CONFLICT (idempotency_key) DO NOTHING
  RETURNING idempotency_key
), rej AS (
  INSERT INTO hall_rejections AS j (idempotency_key, dept_code, record_type, business_key, kind, reason, first_at, last_at, times)
  SELECT x.ik, $2::text, x.t, x.k, x.kind, x.r, $4::timestamptz, $4::timestamptz, x.n
  FROM json_to_recordset($5::json) AS x(ik text, t text, k text, kind text, r jsonb, n integer)
  ON CONFLICT (idempotency_key) DO UPDATE SET times = j.times + EXCLUDED.times, last_at = EXCLUDED.last_at
  RETURNING 1
), cnt AS (
  INSERT INTO hall_counters AS c (dept_code, batches, records, duplicates, rejected)
  SELECT $2::text, 1, $6::bigint, $7::bigint + $8::bigint - (SELECT count(*) FROM ins), $9::bigint
  ON CONFLICT (dept_code) DO UPDATE SET batches = c.batches + 1, records = c.records + EXCLUDED.records,
    duplicates = c.duplicates + EXCLUDED.duplicates, rejected = c.rejected + EXCLUDED.rejected
  RETURNING 1
)
SELECT coalesce((SELECT json_agg(idempotency_key) FROM ins), '[]'::json) AS inserted,
       (SELECT count(*) FROM rej) AS rejection_rows,
       (SELECT count(*) FROM cnt) AS counter_rows`;

const STATS = `
SELECT c.dept_code, c.batches, c.records, c.duplicates, c.rejected,
       (SELECT count(*) FROM hall_records r WHERE r.dept_code = c.dept_code) AS stored,
       (SELECT count(*) FROM hall_rejections j WHERE j.dept_code = c.dept_code) AS rejected_records
FROM hall_counters c
ORDER BY c.dept_code`;

const tk = (t: string, k: string) => `${t}\u0000${k}`;

/**
 * The key a refused record is listed under. A default key quotes the record's deptCode and
 * recordType, which an invalid record may make arbitrarily long; beyond what an index entry can
 * hold it is shortened, keeping a digest of the whole so two long keys stay apart.
 */
function rowKey(key: string): string {
  return key.length <= 300 ? key : `${key.slice(0, 200)}…sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** Lower-case hex sha256 of the keys in JS default (UTF-16 code unit) order, each followed by "\n". */
export function keysDigest(keys: readonly string[]): { sorted: string[]; digest: string } {
  const sorted = [...keys].sort();
  const h = createHash('sha256');
  for (const k of sorted) h.update(`${k}\n`, 'utf8');
  return { sorted, digest: h.digest('hex') };
}

export class HallStore {
  readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Creates the schema and tables when missing. Under an advisory lock because CREATE … IF NOT
   * EXISTS is not safe against a concurrent creator (two simulators starting on one server).
   */
  async init(): Promise<void> {
    const schema = this.db.schema;
    await this.db.transaction(async (tx) => {
      await tx.query(LOCK_DEPT, [LOCK_CLASS, `schema:${schema}`]);
      const { rows } = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      // Checked first, not IF NOT EXISTS: CREATE SCHEMA checks the CREATE privilege on the
      // database even when the schema exists, as migrate.ts notes.
      if (rows.length === 0) await tx.exec(`CREATE SCHEMA ${schema}`);
      const { rows: cur } = await tx.query<{ s: string }>('SELECT current_schema() AS s');
      // The tables are created unqualified: make sure they land in our schema, not another one
      // on the search_path.
      if (cur[0]?.s !== schema) throw new Error(`hall-sim: search_path does not resolve to the schema ${schema} (found ${String(cur[0]?.s)})`);
      await tx.exec(HALL_SIM_SCHEMA_SQL);
    });
  }

  async submit(input: SubmitInput): Promise<BatchDecision[]> {
    const { deptCode, records } = input;
    const candidateKeys: string[] = [];
    const businessKeys = new Map<string, string>();
    for (const r of records) {
      if (r.invalid !== undefined) continue;
      candidateKeys.push(r.idempotencyKey);
      const k = tk(r.recordType!, r.businessKey!);
      if (!businessKeys.has(k)) businessKeys.set(k, JSON.stringify({ t: r.recordType, k: r.businessKey }));
    }
    const atIso = input.at.toISOString();

    return this.db.transaction(async (tx) => {
      // PGlite runs one transaction at a time anyway; the lock is for PostgreSQL's concurrency.
      if (this.db.engine === 'postgres') await tx.query(LOCK_DEPT, [LOCK_CLASS, `dept:${this.db.schema}:${deptCode}`], { name: 'hallsim_lock' });
      const storedBefore = new Set<string>();
      const knownKeys = new Set<string>();
      const refused = new Map<string, Reason>();
      if (candidateKeys.length > 0) {
        // Unnamed, so planned on every run: a named statement's generic plan, cached while
        // hall_records was still empty, kept scanning the whole table once it had grown (71 ms a
        // batch at 170,000 records, and every batch of the department waiting behind it).
        const { rows } = await tx.query<{ kind: 's' | 'k' | 'r'; a: string; b: string | null; r: string | null }>(
          READ, [candidateKeys, `[${[...businessKeys.values()].join(',')}]`, deptCode],
        );
        for (const row of rows) {
          if (row.kind === 's') storedBefore.add(row.a);
          else if (row.kind === 'k') knownKeys.add(tk(row.a, row.b!));
          else refused.set(tk(row.a, row.b!), JSON.parse(row.r!) as Reason);
        }
      }

      // Decide in batch order, against the state the batch itself moves.
      const decisions: BatchDecision[] = new Array(records.length);
      const storedNow = new Set<string>();
      const insertRows: string[] = [];
      const insertIndex: number[] = [];
      const rejections = new Map<string, { t: string | null; k: string | null; kind: 'rule' | 'invalid'; r: Reason; n: number }>();
      let duplicates = 0;
      let rejected = 0;
      const reject = (r: BatchRecord, kind: 'rule' | 'invalid', reason: Reason) => {
        rejected++;
        const prev = rejections.get(r.idempotencyKey);
        if (prev !== undefined) prev.n++;
        else rejections.set(r.idempotencyKey, { t: r.recordType ?? null, k: r.businessKey ?? null, kind, r: reason, n: 1 });
        return { outcome: 'rejected' as const, reason };
      };
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (r.invalid !== undefined) {
          decisions[i] = reject(r, 'invalid', r.invalid);
          continue;
        }
        if (storedBefore.has(r.idempotencyKey) || storedNow.has(r.idempotencyKey)) {
          duplicates++;
          decisions[i] = { outcome: 'unchanged' };
          continue;
        }
        const key = tk(r.recordType!, r.businessKey!);
        const reason = refused.get(key) ?? input.rule(r.recordType!, r.businessKey!);
        if (reason !== undefined) {
          refused.set(key, reason);
          decisions[i] = reject(r, 'rule', reason);
          continue;
        }
        decisions[i] = { outcome: knownKeys.has(key) ? 'changed' : 'new' };
        knownKeys.add(key);
        storedNow.add(r.idempotencyKey);
        insertIndex.push(i);
        insertRows.push(`{"ik":${JSON.stringify(r.idempotencyKey)},"t":${JSON.stringify(r.recordType)},"k":${JSON.stringify(r.businessKey)},"c":${r.contentJson!}}`);
      }
      const rejectionRows: string[] = [];
      for (const [ik, j] of rejections) {
        // pgJson: the reason quotes what the record held, which may be a character jsonb refuses.
        rejectionRows.push(pgJson({ ik: rowKey(ik), t: j.t, k: j.k, kind: j.kind, r: j.r, n: j.n }));
      }

      const { rows } = await tx.query<{ inserted: string[]; rejection_rows: number; counter_rows: number }>(WRITE, [
        `[${insertRows.join(',')}]`, deptCode, input.batchId, atIso, `[${rejectionRows.join(',')}]`,
        records.length, duplicates, insertRows.length, rejected,
      ], { name: 'hallsim_write' });
      const out = rows[0]!;
      if (out.rejection_rows !== rejectionRows.length || out.counter_rows !== 1) {
        throw new Error(`hall-sim: the batch write was incomplete (${out.rejection_rows}/${rejectionRows.length} rejections, ${out.counter_rows} counters)`);
      }
      if (out.inserted.length !== insertRows.length) {
        const inserted = new Set(out.inserted);
        for (const i of insertIndex) if (!inserted.has(records[i]!.idempotencyKey)) decisions[i] = { outcome: 'unchanged' };
      }
      return decisions;
    });
  }

  /**
   * The idempotency keys stored for one department whose store time falls on `day` in
   * Asia/Shanghai (UTC+8 all year, so the day is a fixed 24 h span).
   */
  async reconcile(deptCode: string, day: string, types: readonly HallRecordType[], withKeys: boolean): Promise<ReconciliationType[]> {
    const from = new Date(`${day}T00:00:00+08:00`);
    const to = new Date(from.getTime() + 86_400_000);
    const { rows } = await this.db.query<{ record_type: string; idempotency_key: string }>(
      'SELECT record_type, idempotency_key FROM hall_records WHERE dept_code = $1 AND stored_at >= $2::timestamptz AND stored_at < $3::timestamptz',
      [deptCode, from.toISOString(), to.toISOString()],
    );
    const byType = new Map<string, string[]>(types.map((t) => [t, []]));
    for (const r of rows) byType.get(r.record_type)?.push(r.idempotency_key);
    return types.map((recordType) => {
      // Sorted here, not by ORDER BY: the database's collation is not JS code-unit order.
      const { sorted, digest } = keysDigest(byType.get(recordType)!);
      return withKeys ? { recordType, count: sorted.length, digest, keys: sorted } : { recordType, count: sorted.length, digest };
    });
  }

  async stats(): Promise<{ total: DeptCounts; byDept: Record<string, DeptCounts> }> {
    const { rows } = await this.db.query<{
      dept_code: string; batches: number; records: number; duplicates: number; rejected: number; stored: number; rejected_records: number;
    }>(STATS);
    const byDept: Record<string, DeptCounts> = {};
    const total = { batches: 0, recordsReceived: 0, stored: 0, duplicates: 0, rejected: 0, rejectedRecords: 0 };
    for (const r of rows) {
      const d: DeptCounts = {
        batches: r.batches, recordsReceived: r.records, stored: r.stored, duplicates: r.duplicates, rejected: r.rejected, rejectedRecords: r.rejected_records,
      };
      byDept[r.dept_code] = d;
      total.batches += d.batches;
      total.recordsReceived += d.recordsReceived;
      total.stored += d.stored;
      total.duplicates += d.duplicates;
      total.rejected += d.rejected;
      total.rejectedRecords += d.rejectedRecords;
    }
    return { total, byDept };
  }

  async rejected(): Promise<RejectedRecord[]> {
    const { rows } = await this.db.query<{
      dept_code: string; record_type: string | null; business_key: string | null; idempotency_key: string;
      kind: 'rule' | 'invalid'; reason: Reason; times: number; first_at: Date;
    }>('SELECT dept_code, record_type, business_key, idempotency_key, kind, reason, times, first_at FROM hall_rejections ORDER BY first_at, idempotency_key');
    return rows.map((r) => ({
      deptCode: r.dept_code, recordType: r.record_type, businessKey: r.business_key, idempotencyKey: r.idempotency_key,
      kind: r.kind, reason: r.reason, times: r.times, firstAt: new Date(r.first_at).toISOString(),
    }));
  }

  async records(filter: { deptCode?: string; recordType?: string; limit: number; offset: number; content: boolean }): Promise<{ total: number; records: StoredRecord[] }> {
    const where = 'WHERE ($1::text IS NULL OR dept_code = $1) AND ($2::text IS NULL OR record_type = $2)';
    const params = [filter.deptCode ?? null, filter.recordType ?? null];
    const { rows: count } = await this.db.query<{ n: number }>(`SELECT count(*) AS n FROM hall_records ${where}`, params);
    const { rows } = await this.db.query<{
      idempotency_key: string; dept_code: string; record_type: string; business_key: string; batch_id: string | null; stored_at: Date; content?: unknown;
    }>(
      `SELECT idempotency_key, dept_code, record_type, business_key, batch_id, stored_at${filter.content ? ', content' : ''}
       FROM hall_records ${where} ORDER BY stored_at, idempotency_key LIMIT $3 OFFSET $4`,
      [...params, filter.limit, filter.offset],
    );
    return {
      total: count[0]?.n ?? 0,
      records: rows.map((r) => {
        const out: StoredRecord = {
          idempotencyKey: r.idempotency_key, deptCode: r.dept_code, recordType: r.record_type, businessKey: r.business_key,
          batchId: r.batch_id, storedAt: new Date(r.stored_at).toISOString(),
        };
        return filter.content ? { ...out, content: r.content } : out;
      }),
    };
  }

  async storedKeys(filter: { deptCode?: string; recordType?: string } = {}): Promise<string[]> {
    const { rows } = await this.db.query<{ k: string }>(
      'SELECT idempotency_key AS k FROM hall_records WHERE ($1::text IS NULL OR dept_code = $1) AND ($2::text IS NULL OR record_type = $2)',
      [filter.deptCode ?? null, filter.recordType ?? null],
    );
    return rows.map((r) => r.k).sort();
  }

  async reset(): Promise<void> {
    await this.db.exec('TRUNCATE hall_records, hall_rejections, hall_counters');
  }
}
