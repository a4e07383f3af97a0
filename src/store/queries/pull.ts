/**
 * Pull-adapter state (migration 0003): cursors, seen digests, the hand-shake ledger and the run
 * history. Rows travel as JSON arrays (json_to_recordset), one statement per batch of keys,
 * never one per row.
 */
import { GovgateError } from '../../errors.js';
import type { Queryable } from '../db.js';
import { pgJson } from './json.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

// ── cursors ──────────────────────────────────────────────────────────────────────────────────────

export interface StoredCursor {
  readonly cursor: JsonValue | undefined;
  /** 0 when the adapter has never stored one. */
  readonly generation: number;
  readonly updatedAt?: Date;
}

export async function readCursor(db: Queryable, adapter: string): Promise<StoredCursor> {
  const { rows } = await db.query<{ cursor: JsonValue | null; generation: number; updated_at: Date }>(
    'SELECT cursor, generation, updated_at FROM pull_cursors WHERE adapter = $1', [adapter]);
  const r = rows[0];
  return r === undefined ? { cursor: undefined, generation: 0 } : { cursor: r.cursor ?? undefined, generation: r.generation, updatedAt: r.updated_at };
}

/**
 * Stores the cursor if nobody moved it since `expected` was read; returns the new generation.
 * Meant for the ingest transaction's `inTransaction` hook: a conflict throws, which rolls the
 * payload back with it — better a repeated read than a cursor moved backwards over stored data.
 */
export async function writeCursor(db: Queryable, adapter: string, kind: string, cursor: JsonValue | undefined, expected: number): Promise<number> {
  const value = cursor === undefined ? null : pgJson(cursor);
  const { rows } = expected === 0
    ? await db.query<{ generation: number }>(
      `INSERT INTO pull_cursors (adapter, kind, cursor, generation) VALUES ($1, $2, $3::jsonb, 1)
       ON CONFLICT (adapter) DO NOTHING RETURNING generation`, [adapter, kind, value])
    : await db.query<{ generation: number }>(
      `UPDATE pull_cursors SET cursor = $3::jsonb, kind = $2, generation = generation + 1, updated_at = now()
       WHERE adapter = $1 AND generation = $4 RETURNING generation`, [adapter, kind, value, expected]);
  const g = rows[0]?.generation;
  if (g === undefined) throw new GovgateError('GOVGATE_PULL_CURSOR_CONFLICT', { adapter });
  return g;
}

/** Forgets an adapter's cursor (the next run starts from its configured start). */
export async function resetCursor(db: Queryable, adapter: string): Promise<void> {
  await db.query('DELETE FROM pull_cursors WHERE adapter = $1', [adapter]);
}

// ── seen digests ─────────────────────────────────────────────────────────────────────────────────

export interface SeenRow {
  readonly key: string;
  /** hex sha256 */
  readonly digest: string;
  readonly time?: string;
}

/** The stored digest (hex) of each of `keys` that has one. */
export async function seenDigests(db: Queryable, adapter: string, keys: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (keys.length === 0) return out;
  const { rows } = await db.query<{ source_key: string; digest: string }>(
    `SELECT s.source_key, encode(s.digest, 'hex') AS digest
       FROM unnest($2::text[]) AS k(key)
       JOIN pull_seen s ON s.adapter = $1 AND s.source_key = k.key`,
    [adapter, keys], { name: 'govgate_pull_seen_read' });
  for (const r of rows) out.set(r.source_key, r.digest);
  return out;
}

export async function recordSeen(db: Queryable, adapter: string, seen: readonly SeenRow[]): Promise<void> {
  if (seen.length === 0) return;
  // Sorted, so two writers of overlapping keys (a sweep and a run on another instance) take the
  // row locks in the same order rather than deadlock.
  const sorted = [...seen].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const json = `[${sorted.map((s) => `{"k":${JSON.stringify(s.key)},"g":"${s.digest}","t":${s.time === undefined ? 'null' : JSON.stringify(s.time)}}`).join(',')}]`;
  await db.query(
    `INSERT INTO pull_seen (adapter, source_key, digest, source_time)
     SELECT $1, x.k, decode(x.g, 'hex'), x.t FROM json_to_recordset($2::json) AS x(k text, g text, t text)
     ON CONFLICT (adapter, source_key) DO UPDATE
       SET digest = EXCLUDED.digest, source_time = EXCLUDED.source_time, seen_at = now()`,
    [adapter, json], { name: 'govgate_pull_seen_write' });
}

// ── ledger ───────────────────────────────────────────────────────────────────────────────────────

export interface LedgerEntry {
  readonly itemKey: string;
  /** hex sha256 of the item's content */
  readonly digest: string;
  readonly outcome: 'accepted' | 'rejected';
  readonly reason?: string;
  readonly receiptId: string;
  readonly acked?: boolean;
}

/** Ledger entries of these items, by `itemKey + ' ' + digest`. */
export async function ledgerLookup(db: Queryable, adapter: string, itemKeys: readonly string[]): Promise<Map<string, LedgerEntry>> {
  const out = new Map<string, LedgerEntry>();
  if (itemKeys.length === 0) return out;
  const { rows } = await db.query<{ item_key: string; digest: string; outcome: 'accepted' | 'rejected'; reason: string | null; receipt_id: string; acked: boolean }>(
    `SELECT item_key, encode(digest, 'hex') AS digest, outcome, reason, receipt_id, acked_at IS NOT NULL AS acked
       FROM pull_ledger WHERE adapter = $1 AND item_key = ANY($2::text[])`, [adapter, itemKeys]);
  for (const r of rows) {
    out.set(`${r.item_key} ${r.digest}`, {
      itemKey: r.item_key, digest: r.digest, outcome: r.outcome, receiptId: r.receipt_id, acked: r.acked,
      ...(r.reason === null ? {} : { reason: r.reason }),
    });
  }
  return out;
}

export async function ledgerInsert(db: Queryable, adapter: string, entries: readonly LedgerEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const json = pgJson(entries.map((e) => ({ k: e.itemKey, g: e.digest, o: e.outcome, r: e.reason ?? null, c: e.receiptId })));
  await db.query(
    `INSERT INTO pull_ledger (adapter, item_key, digest, outcome, reason, receipt_id)
     SELECT $1, x.k, decode(x.g, 'hex'), x.o, x.r, x.c FROM json_to_recordset($2::json) AS x(k text, g text, o text, r text, c text)
     ORDER BY x.k
     ON CONFLICT (adapter, item_key, digest) DO NOTHING`,
    [adapter, json]);
}

export async function ledgerAck(db: Queryable, adapter: string, entries: readonly { itemKey: string; digest: string }[]): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `UPDATE pull_ledger l SET acked_at = now()
       FROM json_to_recordset($2::json) AS x(k text, g text)
      WHERE l.adapter = $1 AND l.item_key = x.k AND l.digest = decode(x.g, 'hex') AND l.acked_at IS NULL`,
    [adapter, pgJson(entries.map((e) => ({ k: e.itemKey, g: e.digest })))]);
}

/** Entries whose second step has not been confirmed: to repeat before anything new is taken. */
export async function ledgerUnacked(db: Queryable, adapter: string, limit = 10_000): Promise<LedgerEntry[]> {
  const { rows } = await db.query<{ item_key: string; digest: string; outcome: 'accepted' | 'rejected'; reason: string | null; receipt_id: string }>(
    `SELECT item_key, encode(digest, 'hex') AS digest, outcome, reason, receipt_id
       FROM pull_ledger WHERE adapter = $1 AND acked_at IS NULL ORDER BY taken_at, item_key LIMIT $2`, [adapter, limit]);
  return rows.map((r) => ({ itemKey: r.item_key, digest: r.digest, outcome: r.outcome, receiptId: r.receipt_id, acked: false, ...(r.reason === null ? {} : { reason: r.reason }) }));
}

// ── runs ─────────────────────────────────────────────────────────────────────────────────────────

export type RunTrigger = 'schedule' | 'catch-up' | 'manual' | 'backfill' | 'sweep';
export type RunStatus = 'running' | 'ok' | 'failed' | 'aborted';

export interface RunCounts {
  readonly seen: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly unchanged: number;
  readonly payloads: number;
}

export interface RunRow extends RunCounts {
  readonly id: number;
  readonly job: string;
  readonly adapter?: string;
  readonly trigger: RunTrigger;
  readonly instance: string;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
  readonly durationMs?: number;
  readonly status: RunStatus;
  readonly error?: JsonValue;
  readonly detail?: JsonValue;
}

export async function startRun(db: Queryable, run: { job: string; adapter?: string; trigger: RunTrigger; instance: string; startedAt: Date }): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO job_runs (job, adapter, trigger, instance, started_at, status) VALUES ($1, $2, $3, $4, $5, 'running') RETURNING id`,
    [run.job, run.adapter ?? null, run.trigger, run.instance, run.startedAt.toISOString()]);
  return rows[0]!.id;
}

export async function finishRun(db: Queryable, id: number, outcome: RunCounts & { status: Exclude<RunStatus, 'running'>; finishedAt: Date; durationMs: number; error?: JsonValue; detail?: JsonValue }): Promise<void> {
  await db.query(
    `UPDATE job_runs SET status = $2, finished_at = $3, duration_ms = $4, seen = $5, accepted = $6, rejected = $7, unchanged = $8,
            payloads = $9, error = $10::jsonb, detail = $11::jsonb
      WHERE id = $1`,
    [id, outcome.status, outcome.finishedAt.toISOString(), outcome.durationMs, outcome.seen, outcome.accepted, outcome.rejected,
      outcome.unchanged, outcome.payloads, outcome.error === undefined ? null : pgJson(outcome.error), outcome.detail === undefined ? null : pgJson(outcome.detail)]);
}

/**
 * Runs of `job` still marked running: their process ended mid-run. Called by the leader of a job
 * (nobody else can be running it), so they are closed as aborted.
 */
export async function abandonRuns(db: Queryable, job: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE job_runs SET status = 'aborted', finished_at = now(),
            error = '{"code":"GOVGATE_PULL_ABORTED","message":{"zh":"运行期间进程结束","en":"the process ended during the run"}}'::jsonb
      WHERE job = $1 AND status = 'running'`, [job]);
  return rowCount;
}

function runRow(r: Record<string, unknown>): RunRow {
  return {
    id: r.id as number, job: r.job as string, trigger: r.trigger as RunTrigger, instance: r.instance as string,
    startedAt: r.started_at as Date, status: r.status as RunStatus,
    seen: r.seen as number, accepted: r.accepted as number, rejected: r.rejected as number, unchanged: r.unchanged as number, payloads: r.payloads as number,
    ...(r.adapter == null ? {} : { adapter: r.adapter as string }),
    ...(r.finished_at == null ? {} : { finishedAt: r.finished_at as Date }),
    ...(r.duration_ms == null ? {} : { durationMs: r.duration_ms as number }),
    ...(r.error == null ? {} : { error: r.error as JsonValue }),
    ...(r.detail == null ? {} : { detail: r.detail as JsonValue }),
  };
}

/** The latest runs, newest first; of one job when given. */
export async function listRuns(db: Queryable, options: { job?: string; limit?: number } = {}): Promise<RunRow[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT * FROM job_runs WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC, id DESC LIMIT $2`,
    [options.job ?? null, options.limit ?? 50]);
  return rows.map(runRow);
}

/** When the last run of `job` that was not aborted started (the catch-up check). */
export async function lastRunStart(db: Queryable, job: string): Promise<Date | undefined> {
  const { rows } = await db.query<{ started_at: Date }>(
    `SELECT started_at FROM job_runs WHERE job = $1 AND status IN ('ok', 'running') ORDER BY started_at DESC LIMIT 1`, [job]);
  return rows[0]?.started_at;
}
