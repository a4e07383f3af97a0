/**
 * Dead letters and what operators do about them: list and inspect (with the record version and the
 * raw payload it came in), re-drive one or every one matching a filter (in batches that can be
 * paused), and pause or resume a destination. All the SQL behind the admin API (src/http/admin.ts)
 * and `govgate deadletters …` / `govgate destinations …` (src/cli/admin.ts).
 *
 * Lock order: whatever locks both an outbox entry and its dead letters locks the outbox row first,
 * the same order the delivery engine's settle statement takes them in (UPDATE outbox, then
 * INSERT/UPDATE dead_letters). A re-drive running beside a worker settling the same entry then
 * waits for it instead of deadlocking with it.
 *
 * Every re-drive, requeued or found superseded, appends a row to `redrives` (append-only: who, when,
 * which job) in the same transaction that changes the dead letter and the outbox entry.
 */
import iconv from 'iconv-lite';
import { GovgateError } from '../../errors.js';
import type { Db, Queryable, Tx } from '../db.js';
import { RECORD_TYPES } from './ingest.js';
import { destinationStates, outboxDepth, setDestinationPaused, type DestinationState, type OutboxDepth } from './outbox.js';

// ── types ──────────────────────────────────────────────────────────────────────────────────────────

export const DEAD_LETTER_CAUSES = ['rejected', 'exhausted'] as const;
export type DeadLetterCause = (typeof DEAD_LETTER_CAUSES)[number];
export const DEAD_LETTER_STATES = ['open', 'redriven', 'superseded'] as const;
export type DeadLetterState = (typeof DEAD_LETTER_STATES)[number];

/** Which dead letters. Every field narrows; an absent field does not. */
export interface DeadLetterFilter {
  readonly destination?: string;
  readonly deptCode?: string;
  readonly recordType?: string;
  readonly cause?: DeadLetterCause;
  /** @defaultValue `'open'` when listing; `'any'` for every state. Re-drive jobs always take open ones. */
  readonly state?: DeadLetterState | 'any';
  /** created_at ≥ since (RFC 3339 with an offset). */
  readonly since?: string;
  /** created_at < until. */
  readonly until?: string;
  /** The receiver's reason code: `reason->>'code'`, e.g. `HTTP_503` or the receiver's finding code. */
  readonly reasonCode?: string;
}

/** The filter of a re-drive job: a job only ever re-drives open dead letters. */
export type RedriveFilter = Omit<DeadLetterFilter, 'state'>;

export interface DeadLetter {
  readonly id: number;
  readonly outboxId: number;
  readonly destination: string;
  readonly deptCode: string;
  readonly recordType: string;
  readonly businessKey: string;
  readonly version: number;
  readonly recordId: number;
  readonly recordAt: Date;
  readonly cause: DeadLetterCause;
  /** Why: `{ class, code, message: { zh, en }, findings?, answer? }` as the engine classified it. */
  readonly reason: unknown;
  /** The receiver's own answer (status, body excerpt, transport error), when there was one. */
  readonly answer: unknown;
  /** Attempts at this version when it was given up. */
  readonly attempts: number;
  readonly createdAt: Date;
  readonly state: DeadLetterState;
  readonly resolvedAt: Date | null;
  readonly resolvedBy: string | null;
}

export interface ListOptions {
  /** @defaultValue 100; at most 500. */
  readonly limit?: number;
  /** Keyset cursor: ids after this one in `order` (asc: greater, desc: smaller). */
  readonly after?: number;
  /** @defaultValue `'asc'` (oldest first: the order a re-drive job takes them in). */
  readonly order?: 'asc' | 'desc';
}

export interface DeadLetterPage {
  readonly items: DeadLetter[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: number | null;
}

export interface RecordVersion {
  readonly id: number;
  readonly receivedAt: Date;
  readonly version: number;
  readonly dataVer: number | null;
  /** Hex sha256 of the canonical JSON. */
  readonly digest: string;
  readonly content: unknown;
  readonly warnings: unknown;
  readonly rawId: number;
  /** The record's position in its payload, from 0. */
  readonly recordIndex: number;
}

export interface RawPayload {
  readonly id: number;
  readonly receiptId: string;
  readonly source: string;
  readonly batchId: string | null;
  readonly receivedAt: Date;
  readonly contentType: string;
  readonly declaredEncoding: string | null;
  readonly size: number;
  /** Hex. */
  readonly sha256: string;
  /** The bytes exactly as received. */
  readonly body: Buffer;
  /** The body as text when it decodes (UTF-8, or the GB family when declared so); null when it does not. */
  readonly text: string | null;
  /** The decoder used for `text`. */
  readonly textEncoding: 'utf-8' | 'gb18030' | null;
}

export interface OutboxEntry {
  readonly id: number;
  readonly destination: string;
  readonly state: 'pending' | 'leased' | 'done';
  readonly attempts: number;
  readonly wantedVersion: number;
  readonly settledVersion: number | null;
  readonly lastError: unknown;
  readonly nextAttemptAt: Date;
  readonly firstFailedAt: Date | null;
  readonly leaseUntil: Date | null;
  readonly leasedBy: string | null;
  readonly enqueuedAt: Date;
}

export interface Redrive {
  readonly id: number;
  readonly jobId: number | null;
  readonly deadLetterId: number;
  readonly actor: string;
  readonly at: Date;
  readonly result: 'requeued' | 'superseded';
}

export interface DeadLetterDetail {
  readonly deadLetter: DeadLetter;
  /** The refused version; undefined only if its partition was dropped by retention. */
  readonly record: RecordVersion | undefined;
  readonly raw: RawPayload | undefined;
  readonly entry: OutboxEntry | undefined;
  readonly redrives: Redrive[];
}

export interface RedriveOutcome {
  readonly deadLetterId: number;
  readonly result: 'requeued' | 'superseded';
  readonly redrive: Redrive;
  /** The outbox entry after the re-drive. */
  readonly entry: OutboxEntry;
}

export type RedriveJobState = 'running' | 'paused' | 'done';

export interface RedriveJob {
  readonly id: number;
  readonly filter: RedriveFilter;
  readonly actor: string;
  readonly state: RedriveJobState;
  readonly batchSize: number;
  readonly afterId: number;
  readonly upToId: number;
  readonly requeued: number;
  readonly superseded: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RedriveBatchResult {
  readonly job: RedriveJob;
  /** Dead letters this batch looked at (some may have been resolved meanwhile and skipped). */
  readonly examined: number;
  readonly requeued: number;
  readonly superseded: number;
}

// ── filters ────────────────────────────────────────────────────────────────────────────────────────

const NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const FILTER_KEYS = ['destination', 'deptCode', 'recordType', 'cause', 'state', 'since', 'until', 'reasonCode'] as const;

const invalid = (zh: string, en: string) => new GovgateError('GOVGATE_REQUEST_INVALID', { detail: zh, detailEn: en });

/**
 * A timestamp for since/until: RFC 3339 with an offset, or a bare date meaning midnight China
 * Standard Time (the calendar operators and the monthly partitions speak in). Returns ISO UTC.
 */
export function parseFilterTime(name: string, value: string): string {
  const d = DATE_ONLY.exec(value);
  const text = d !== null ? `${value}T00:00:00+08:00` : value;
  const at = new Date(text);
  if ((d === null && !DATE_TIME.test(value)) || Number.isNaN(at.getTime())) {
    throw invalid(`${name} 应为带时区的时间（如 2026-03-01T08:00:00+08:00）或日期（2026-03-01），实际为 ${JSON.stringify(value)}`,
      `${name} must be a timestamp with an offset (e.g. 2026-03-01T08:00:00+08:00) or a date (2026-03-01), found ${JSON.stringify(value)}`);
  }
  return at.toISOString();
}

/**
 * Checks an untrusted filter (query string, JSON body, CLI flags) and returns it cleaned: unknown
 * keys, wrong types and values outside the known sets are a GOVGATE_REQUEST_INVALID naming the
 * key. `allowState: false` for re-drive jobs, which only take open dead letters.
 */
export function checkDeadLetterFilter(input: Readonly<Record<string, unknown>>, options: { allowState?: boolean } = {}): DeadLetterFilter {
  const allowState = options.allowState ?? true;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (!(FILTER_KEYS as readonly string[]).includes(key) || (key === 'state' && !allowState)) {
      const known = FILTER_KEYS.filter((k) => allowState || k !== 'state').join(', ');
      throw invalid(`未知的筛选条件 ${key}：可用 ${known}`, `unknown filter ${key}: use ${known}`);
    }
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
      throw invalid(`筛选条件 ${key} 应为非空字符串`, `the filter ${key} must be a non-empty string`);
    }
    out[key] = value;
  }
  const oneOf = (key: string, allowed: readonly string[]) => {
    const v = out[key];
    if (v !== undefined && !allowed.includes(v)) throw invalid(`${key} 应为 ${allowed.join(' | ')} 之一，实际为 ${v}`, `${key} must be one of ${allowed.join(' | ')}, found ${v}`);
  };
  if (out['destination'] !== undefined && !NAME.test(out['destination'])) {
    throw invalid(`destination 应符合 ${NAME.source}，实际为 ${out['destination']}`, `destination must match ${NAME.source}, found ${out['destination']}`);
  }
  if (out['deptCode'] !== undefined && !/^[\x21-\x7e]{1,64}$/.test(out['deptCode'])) {
    throw invalid('deptCode 应为 1–64 个可见 ASCII 字符', 'deptCode must be 1–64 visible ASCII characters');
  }
  if (out['reasonCode'] !== undefined && !/^[\x21-\x7e]{1,128}$/.test(out['reasonCode'])) {
    throw invalid('reasonCode 应为 1–128 个可见 ASCII 字符', 'reasonCode must be 1–128 visible ASCII characters');
  }
  oneOf('recordType', RECORD_TYPES);
  oneOf('cause', DEAD_LETTER_CAUSES);
  oneOf('state', [...DEAD_LETTER_STATES, 'any']);
  if (out['since'] !== undefined) out['since'] = parseFilterTime('since', out['since']);
  if (out['until'] !== undefined) out['until'] = parseFilterTime('until', out['until']);
  if (out['since'] !== undefined && out['until'] !== undefined && out['since'] >= out['until']) {
    throw invalid('since 应早于 until', 'since must be before until');
  }
  return out as DeadLetterFilter;
}

/**
 * WHERE clauses for a filter, as constant fragments with numbered parameters: only the values
 * travel as parameters, so nothing from a request is ever spliced into SQL text. Each present
 * field adds a fragment, which lets the planner use dead_letters_open for the common
 * destination/department filters instead of a catch-all `($1 IS NULL OR …)` plan.
 */
function whereOf(filter: DeadLetterFilter, defaultState: DeadLetterState | 'any', params: unknown[]): string[] {
  const clauses: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  const state = filter.state ?? defaultState;
  if (state !== 'any') add('state = ?', state);
  if (filter.destination !== undefined) add('destination = ?', filter.destination);
  if (filter.deptCode !== undefined) add('dept_code = ?', filter.deptCode);
  if (filter.recordType !== undefined) add('record_type = ?', filter.recordType);
  if (filter.cause !== undefined) add('cause = ?', filter.cause);
  if (filter.since !== undefined) add('created_at >= ?::timestamptz', filter.since);
  if (filter.until !== undefined) add('created_at < ?::timestamptz', filter.until);
  if (filter.reasonCode !== undefined) add("reason->>'code' = ?", filter.reasonCode);
  return clauses;
}

// ── rows ───────────────────────────────────────────────────────────────────────────────────────────

const DL_COLUMNS = `id, outbox_id, destination, dept_code, record_type, business_key, version, record_id, record_at, cause,
  reason, answer, attempts, created_at, state, resolved_at, resolved_by`;

interface DeadLetterRow {
  id: number; outbox_id: number; destination: string; dept_code: string; record_type: string; business_key: string; version: number;
  record_id: number; record_at: Date; cause: DeadLetterCause; reason: unknown; answer: unknown; attempts: number; created_at: Date;
  state: DeadLetterState; resolved_at: Date | null; resolved_by: string | null;
}

const deadLetterOf = (r: DeadLetterRow): DeadLetter => ({
  id: Number(r.id), outboxId: Number(r.outbox_id), destination: r.destination, deptCode: r.dept_code, recordType: r.record_type,
  businessKey: r.business_key, version: r.version, recordId: Number(r.record_id), recordAt: r.record_at, cause: r.cause, reason: r.reason,
  answer: r.answer, attempts: r.attempts, createdAt: r.created_at, state: r.state, resolvedAt: r.resolved_at, resolvedBy: r.resolved_by,
});

const ENTRY_COLUMNS = `id, destination, state, attempts, wanted_version, settled_version, last_error, next_attempt_at, first_failed_at,
  lease_until, leased_by, enqueued_at`;

interface EntryRow {
  id: number; destination: string; state: OutboxEntry['state']; attempts: number; wanted_version: number; settled_version: number | null;
  last_error: unknown; next_attempt_at: Date; first_failed_at: Date | null; lease_until: Date | null; leased_by: string | null; enqueued_at: Date;
}

const entryOf = (r: EntryRow): OutboxEntry => ({
  id: Number(r.id), destination: r.destination, state: r.state, attempts: r.attempts, wantedVersion: r.wanted_version,
  settledVersion: r.settled_version, lastError: r.last_error, nextAttemptAt: r.next_attempt_at, firstFailedAt: r.first_failed_at,
  leaseUntil: r.lease_until, leasedBy: r.leased_by, enqueuedAt: r.enqueued_at,
});

interface RedriveRow { id: number; job_id: number | null; dead_letter_id: number; actor: string; at: Date; result: Redrive['result'] }

const redriveOf = (r: RedriveRow): Redrive => ({
  id: Number(r.id), jobId: r.job_id === null ? null : Number(r.job_id), deadLetterId: Number(r.dead_letter_id), actor: r.actor, at: r.at, result: r.result,
});

const JOB_COLUMNS = 'id, filter, actor, state, batch_size, after_id, up_to_id, requeued, superseded, created_at, updated_at';

interface JobRow {
  id: number; filter: RedriveFilter; actor: string; state: RedriveJobState; batch_size: number; after_id: number; up_to_id: number;
  requeued: number; superseded: number; created_at: Date; updated_at: Date;
}

const jobOf = (r: JobRow): RedriveJob => ({
  id: Number(r.id), filter: r.filter, actor: r.actor, state: r.state, batchSize: r.batch_size, afterId: Number(r.after_id),
  upToId: Number(r.up_to_id), requeued: r.requeued, superseded: r.superseded, createdAt: r.created_at, updatedAt: r.updated_at,
});

// ── list, count, get ───────────────────────────────────────────────────────────────────────────────

export const MAX_LIST_LIMIT = 500;

export async function listDeadLetters(db: Queryable, filter: DeadLetterFilter = {}, options: ListOptions = {}): Promise<DeadLetterPage> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), MAX_LIST_LIMIT);
  const order = options.order ?? 'asc';
  const params: unknown[] = [];
  const where = whereOf(filter, 'open', params);
  if (options.after !== undefined) {
    params.push(options.after);
    where.push(`id ${order === 'asc' ? '>' : '<'} $${params.length}`);
  }
  // One more than asked, to know whether there is a next page without a second query.
  params.push(limit + 1);
  const { rows } = await db.query<DeadLetterRow>(
    `SELECT ${DL_COLUMNS} FROM dead_letters ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}
     ORDER BY id ${order === 'asc' ? 'ASC' : 'DESC'} LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit).map(deadLetterOf);
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

export async function countDeadLetters(db: Queryable, filter: DeadLetterFilter = {}): Promise<number> {
  const params: unknown[] = [];
  const where = whereOf(filter, 'open', params);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM dead_letters ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`}`,
    params,
  );
  return rows[0]?.n ?? 0;
}

/** Open dead letters per destination (for the destinations overview). */
export async function openDeadLettersByDestination(db: Queryable): Promise<Map<string, number>> {
  const { rows } = await db.query<{ destination: string; n: number }>(
    "SELECT destination, count(*)::integer AS n FROM dead_letters WHERE state = 'open' GROUP BY destination",
  );
  return new Map(rows.map((r) => [r.destination, r.n]));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The raw body as text for a person to read. UTF-8 only when it decodes cleanly; the GB family
 * through iconv-lite's gb18030 (a superset of GBK and GB2312, and what GBK senders actually send)
 * when the payload declared it. Ingest refused payloads that did not decode, so a stored GB body
 * decodes; this is display only, the bytes stay the evidence.
 */
export function payloadText(body: Buffer, declaredEncoding: string | null): { text: string | null; encoding: 'utf-8' | 'gb18030' | null } {
  const declared = declaredEncoding?.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (declared === 'gbk' || declared === 'gb2312' || declared === 'gb18030') {
    return { text: iconv.decode(body, 'gb18030'), encoding: 'gb18030' };
  }
  try {
    return { text: utf8.decode(body), encoding: 'utf-8' };
  } catch {
    return { text: null, encoding: null };
  }
}

export async function getDeadLetter(db: Queryable, id: number): Promise<DeadLetterDetail | undefined> {
  const { rows } = await db.query<DeadLetterRow>(`SELECT ${DL_COLUMNS} FROM dead_letters WHERE id = $1`, [id]);
  if (rows[0] === undefined) return undefined;
  const deadLetter = deadLetterOf(rows[0]);
  // Both by primary key (id, received_at), so one partition is probed for each.
  const [rec, entry, redrives] = await Promise.all([
    db.query<{ id: number; received_at: Date; version: number; data_ver: number | null; digest: string; content: unknown; warnings: unknown; raw_id: number; record_index: number }>(
      `SELECT id, received_at, version, data_ver, encode(digest, 'hex') AS digest, content, warnings, raw_id, record_index
       FROM records WHERE id = $1 AND received_at = $2`,
      [deadLetter.recordId, deadLetter.recordAt],
    ),
    db.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM outbox WHERE id = $1`, [deadLetter.outboxId]),
    db.query<RedriveRow>('SELECT id, job_id, dead_letter_id, actor, at, result FROM redrives WHERE dead_letter_id = $1 ORDER BY id', [id]),
  ]);
  const r = rec.rows[0];
  const record: RecordVersion | undefined = r === undefined ? undefined : {
    id: Number(r.id), receivedAt: r.received_at, version: r.version, dataVer: r.data_ver, digest: r.digest, content: r.content,
    warnings: r.warnings, rawId: Number(r.raw_id), recordIndex: r.record_index,
  };
  let raw: RawPayload | undefined;
  if (record !== undefined) {
    const { rows: rawRows } = await db.query<{
      id: number; receipt_id: string; source: string; batch_id: string | null; received_at: Date; content_type: string;
      declared_encoding: string | null; size_bytes: number; sha256: string; body: Uint8Array;
    }>(
      `SELECT id, receipt_id, source, batch_id, received_at, content_type, declared_encoding, size_bytes, encode(sha256, 'hex') AS sha256, body
       FROM raw_inbox WHERE id = $1 AND received_at = $2`,
      [record.rawId, record.receivedAt],
    );
    const w = rawRows[0];
    if (w !== undefined) {
      const body = Buffer.isBuffer(w.body) ? w.body : Buffer.from(w.body.buffer, w.body.byteOffset, w.body.byteLength);
      const decoded = payloadText(body, w.declared_encoding);
      raw = {
        id: Number(w.id), receiptId: w.receipt_id, source: w.source, batchId: w.batch_id, receivedAt: w.received_at, contentType: w.content_type,
        declaredEncoding: w.declared_encoding, size: w.size_bytes, sha256: w.sha256, body, text: decoded.text, textEncoding: decoded.encoding,
      };
    }
  }
  return {
    deadLetter, record, raw,
    entry: entry.rows[0] === undefined ? undefined : entryOf(entry.rows[0]),
    redrives: redrives.rows.map(redriveOf),
  };
}

// ── re-drive ───────────────────────────────────────────────────────────────────────────────────────

interface Decided { readonly id: number; readonly outboxId: number; readonly result: 'requeued' | 'superseded' }

/**
 * Re-drives the given dead letters that are still open, inside the caller's transaction; returns
 * what became of each (ids no longer open are left out). One statement locks the entries, one the
 * dead letters, one writes everything.
 */
async function redriveLocked(tx: Tx, ids: readonly number[], actor: string, jobId: number | null): Promise<{ decided: Decided[]; redrives: Redrive[] }> {
  if (ids.length === 0) return { decided: [], redrives: [] };
  // Entries first (see the lock order above). Sorted, so two re-drives of overlapping sets queue.
  await tx.query(
    `SELECT id FROM outbox WHERE id IN (SELECT outbox_id FROM dead_letters WHERE id = ANY($1::bigint[])) ORDER BY id FOR UPDATE`,
    [ids],
  );
  // Under READ COMMITTED a row another transaction resolved meanwhile is re-checked after its lock
  // is granted and drops out of `state = 'open'`: it is never re-driven twice.
  const { rows } = await tx.query<{ id: number; outbox_id: number; version: number; wanted_version: number }>(
    `SELECT d.id, d.outbox_id, d.version, o.wanted_version
     FROM dead_letters d JOIN outbox o ON o.id = d.outbox_id
     WHERE d.id = ANY($1::bigint[]) AND d.state = 'open'
     ORDER BY d.id
     FOR UPDATE OF d`,
    [ids],
  );
  // A newer version has been or will be sent (wanted_version moved on): this one must not be sent
  // again, or the receiver would get an older version after a newer one.
  const decided: Decided[] = rows.map((r) => ({ id: Number(r.id), outboxId: Number(r.outbox_id), result: r.wanted_version > r.version ? 'superseded' : 'requeued' }));
  if (decided.length === 0) return { decided, redrives: [] };
  const requeue = [...new Set(decided.filter((d) => d.result === 'requeued').map((d) => d.outboxId))];
  // Data-modifying CTEs always run to completion whether or not the final INSERT reads them.
  const { rows: logged } = await tx.query<RedriveRow>(
    `WITH x AS (
       SELECT * FROM unnest($1::bigint[], $2::text[]) AS x(id, result)
     ), dl AS (
       UPDATE dead_letters d SET state = CASE WHEN x.result = 'superseded' THEN 'superseded' ELSE 'redriven' END,
         resolved_at = now(), resolved_by = $3
       FROM x WHERE d.id = x.id
       RETURNING d.id
     ), ob AS (
       -- Due now, with a fresh retry budget. A leased entry is in flight: its worker settles it,
       -- and settling a version older than wanted_version makes it due again by itself.
       -- settled_version stays: the receiver did answer for it.
       UPDATE outbox SET state = 'pending', next_attempt_at = now(), attempts = 0, first_failed_at = NULL
       WHERE id = ANY($4::bigint[]) AND state <> 'leased'
       RETURNING id
     )
     INSERT INTO redrives (job_id, dead_letter_id, actor, result)
     SELECT $5::bigint, x.id, $3, x.result FROM x
     ORDER BY x.id
     RETURNING id, job_id, dead_letter_id, actor, at, result`,
    [decided.map((d) => d.id), decided.map((d) => d.result), actor, requeue, jobId],
  );
  return { decided, redrives: logged.map(redriveOf) };
}

function notFound(what: 'deadLetter' | 'job' | 'destination', found: string | number): GovgateError {
  const names = { deadLetter: ['死信', 'dead letter'], job: ['重新投递任务', 're-drive job'], destination: ['目的地', 'destination'] }[what];
  return new GovgateError('GOVGATE_NOT_FOUND', { what: names[0], whatEn: names[1], found: String(found) });
}

/**
 * Sends one dead letter again (or finds it superseded by a newer version), recording who asked.
 * Throws GOVGATE_NOT_FOUND (404) or GOVGATE_DEADLETTER_NOT_OPEN (409).
 */
export async function redriveDeadLetter(db: Db, id: number, actor: string): Promise<RedriveOutcome> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ state: DeadLetterState; resolved_at: Date | null; resolved_by: string | null }>(
      'SELECT state, resolved_at, resolved_by FROM dead_letters WHERE id = $1', [id],
    );
    if (rows[0] === undefined) throw notFound('deadLetter', id);
    const { decided, redrives } = await redriveLocked(tx, [id], actor, null);
    if (decided.length === 0) {
      // Not open — already, or by the time its lock was granted.
      const { rows: now } = await tx.query<{ state: DeadLetterState; resolved_at: Date | null; resolved_by: string | null }>(
        'SELECT state, resolved_at, resolved_by FROM dead_letters WHERE id = $1', [id],
      );
      const s = now[0] ?? rows[0];
      throw new GovgateError('GOVGATE_DEADLETTER_NOT_OPEN', {
        id, found: s.state, resolvedBy: s.resolved_by, resolvedAt: s.resolved_at?.toISOString() ?? null,
      });
    }
    const { rows: entry } = await tx.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM outbox WHERE id = $1`, [decided[0]!.outboxId]);
    return { deadLetterId: id, result: decided[0]!.result, redrive: redrives[0]!, entry: entryOf(entry[0]!) };
  });
}

// ── re-drive jobs ──────────────────────────────────────────────────────────────────────────────────

export const DEFAULT_REDRIVE_BATCH = 100;

export interface CreateRedriveJob {
  readonly filter: RedriveFilter;
  readonly actor: string;
  /** @defaultValue 100; 1–10000. */
  readonly batchSize?: number;
}

/**
 * A job over every open dead letter matching `filter` that exists now: `up_to_id` fixes its end, so
 * a receiver that keeps refusing cannot make the job chase its own tail (a re-driven letter that
 * is refused again becomes a new, higher id).
 */
export async function createRedriveJob(db: Queryable, input: CreateRedriveJob): Promise<RedriveJob> {
  const batchSize = input.batchSize ?? DEFAULT_REDRIVE_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw invalid(`batchSize 应为 1–10000 的整数，实际为 ${batchSize}`, `batchSize must be an integer from 1 to 10000, found ${batchSize}`);
  }
  const filter = checkDeadLetterFilter(input.filter as Record<string, unknown>, { allowState: false });
  const { rows } = await db.query<JobRow>(
    `INSERT INTO redrive_jobs (filter, actor, batch_size, up_to_id)
     VALUES ($1::jsonb, $2, $3, (SELECT coalesce(max(id), 0) FROM dead_letters))
     RETURNING ${JOB_COLUMNS}`,
    [JSON.stringify(filter), input.actor, batchSize],
  );
  return jobOf(rows[0]!);
}

export async function getRedriveJob(db: Queryable, id: number): Promise<RedriveJob | undefined> {
  const { rows } = await db.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM redrive_jobs WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : jobOf(rows[0]);
}

export async function listRedriveJobs(db: Queryable, options: { state?: RedriveJobState; limit?: number; after?: number } = {}): Promise<{ items: RedriveJob[]; next: number | null }> {
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), MAX_LIST_LIMIT);
  const params: unknown[] = [];
  const where: string[] = [];
  if (options.state !== undefined) {
    params.push(options.state);
    where.push(`state = $${params.length}`);
  }
  if (options.after !== undefined) {
    params.push(options.after);
    where.push(`id < $${params.length}`);
  }
  params.push(limit + 1);
  // Newest first: the job just started is the one an operator looks for.
  const { rows } = await db.query<JobRow>(
    `SELECT ${JOB_COLUMNS} FROM redrive_jobs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit).map(jobOf);
  return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
}

/** Open dead letters the job has still to look at (0 when done). */
export async function redriveJobRemaining(db: Queryable, job: RedriveJob): Promise<number> {
  if (job.state === 'done') return 0;
  const params: unknown[] = [];
  const where = whereOf(job.filter, 'open', params);
  params.push(job.afterId, job.upToId);
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM dead_letters WHERE ${[...where, `id > $${params.length - 1}`, `id <= $${params.length}`].join(' AND ')}`,
    params,
  );
  return rows[0]?.n ?? 0;
}

/**
 * Runs one batch of a running job: `jobId`'s, or any running job's when absent. The job row is
 * taken FOR UPDATE SKIP LOCKED, so any number of runners in any number of instances (and a CLI)
 * can drive jobs side by side: each batch is run by one of them, and a pause waits for the batch
 * in progress to commit. Returns undefined when there was no running job free to run.
 */
export async function runRedriveBatch(db: Db, jobId?: number): Promise<RedriveBatchResult | undefined> {
  return db.transaction(async (tx) => {
    const { rows: jobs } = await tx.query<JobRow>(
      `SELECT ${JOB_COLUMNS} FROM redrive_jobs WHERE state = 'running' ${jobId === undefined ? '' : 'AND id = $1'}
       ORDER BY updated_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      jobId === undefined ? [] : [jobId],
    );
    // Least recently advanced first: several running jobs take turns batch by batch.
    const row = jobs[0];
    if (row === undefined) return undefined;
    const job = jobOf(row);
    const params: unknown[] = [];
    const where = whereOf(job.filter, 'open', params);
    params.push(job.afterId, job.upToId, job.batchSize);
    const n = params.length;
    const { rows: candidates } = await tx.query<{ id: number }>(
      `SELECT id FROM dead_letters WHERE ${[...where, `id > $${n - 2}`, `id <= $${n - 1}`].join(' AND ')} ORDER BY id LIMIT $${n}`,
      params,
    );
    const ids = candidates.map((c) => Number(c.id));
    const { decided } = await redriveLocked(tx, ids, job.actor, job.id);
    const requeued = decided.filter((d) => d.result === 'requeued').length;
    const superseded = decided.length - requeued;
    // Fewer than a batch means nothing is left: letters only ever leave `open`, and up_to_id is fixed.
    const done = ids.length < job.batchSize;
    const { rows: updated } = await tx.query<JobRow>(
      `UPDATE redrive_jobs SET after_id = $2, requeued = requeued + $3, superseded = superseded + $4,
         state = CASE WHEN $5 THEN 'done' ELSE state END, updated_at = now()
       WHERE id = $1 RETURNING ${JOB_COLUMNS}`,
      [job.id, ids.length === 0 ? job.afterId : ids[ids.length - 1]!, requeued, superseded, done],
    );
    return { job: jobOf(updated[0]!), examined: ids.length, requeued, superseded };
  });
}

async function setJobState(db: Queryable, id: number, from: RedriveJobState, to: RedriveJobState, action: readonly [string, string]): Promise<RedriveJob> {
  // Waits for a batch in progress (it holds the row) and then applies: a pause is never lost.
  const { rows } = await db.query<JobRow>(
    `UPDATE redrive_jobs SET state = $3, updated_at = now() WHERE id = $1 AND state = $2 RETURNING ${JOB_COLUMNS}`,
    [id, from, to],
  );
  if (rows[0] !== undefined) return jobOf(rows[0]);
  const job = await getRedriveJob(db, id);
  if (job === undefined) throw notFound('job', id);
  // Asking for the state it is already in is not an error: a retried request must not fail.
  if (job.state === to) return job;
  throw new GovgateError('GOVGATE_REDRIVE_JOB_STATE', { id, found: job.state, expected: from, action: action[0], actionEn: action[1] });
}

/** Stops a running job after its current batch; GOVGATE_REDRIVE_JOB_STATE (409) when it is done. */
export function pauseRedriveJob(db: Queryable, id: number): Promise<RedriveJob> {
  return setJobState(db, id, 'running', 'paused', ['暂停', 'paused']);
}

/** Lets a paused job go on from where it stopped; GOVGATE_REDRIVE_JOB_STATE (409) when it is done. */
export function resumeRedriveJob(db: Queryable, id: number): Promise<RedriveJob> {
  return setJobState(db, id, 'paused', 'running', ['继续', 'resumed']);
}

// ── destinations ───────────────────────────────────────────────────────────────────────────────────

export interface DestinationOverview {
  readonly name: string;
  /** Absent for a name known only from the database (a destination since removed from the config). */
  readonly kind?: string;
  readonly enabled?: boolean;
  readonly configured: boolean;
  readonly paused: boolean;
  readonly pausedReason: unknown;
  readonly pausedAt: Date | null;
  readonly pausedBy: string | null;
  readonly depth: Omit<OutboxDepth, 'destination'>;
  readonly openDeadLetters: number;
}

/** Configured destinations (in config order) with their paused state, outbox depth and open dead letters; then any others the database knows. */
export async function listDestinations(db: Queryable, configured: readonly { name: string; kind: string; enabled: boolean }[]): Promise<DestinationOverview[]> {
  const [states, depths, dead] = await Promise.all([destinationStates(db), outboxDepth(db), openDeadLettersByDestination(db)]);
  const depthOf = new Map(depths.map((d) => [d.destination, d]));
  const view = (name: string, c?: { kind: string; enabled: boolean }): DestinationOverview => {
    const s: DestinationState | undefined = states.get(name);
    const d = depthOf.get(name);
    return {
      name, ...(c === undefined ? {} : { kind: c.kind, enabled: c.enabled }), configured: c !== undefined,
      paused: s?.paused ?? false, pausedReason: s?.pausedReason ?? null, pausedAt: s?.pausedAt ?? null, pausedBy: s?.pausedBy ?? null,
      depth: { pending: d?.pending ?? 0, leased: d?.leased ?? 0, oldestAgeSeconds: d?.oldestAgeSeconds ?? 0 },
      openDeadLetters: dead.get(name) ?? 0,
    };
  };
  const names = new Set(configured.map((c) => c.name));
  const others = [...new Set([...states.keys(), ...depthOf.keys(), ...dead.keys()])].filter((n) => !names.has(n)).sort();
  return [...configured.map((c) => view(c.name, c)), ...others.map((n) => view(n))];
}

/**
 * Pauses a destination in the database: every instance's workers stop claiming for it within a
 * second (the engine re-reads destination_state), entries keep queueing.
 */
export async function pauseDestination(db: Queryable, name: string, actor: string, note?: string): Promise<DestinationState> {
  await setDestinationPaused(db, name, true, actor, {
    class: 'operator', code: 'PAUSED_BY_OPERATOR',
    message: { zh: `由 ${actor} 暂停${note === undefined ? '' : `：${note}`}`, en: `paused by ${actor}${note === undefined ? '' : `: ${note}`}` },
  });
  return (await destinationStates(db)).get(name)!;
}

export async function resumeDestination(db: Queryable, name: string, actor: string): Promise<DestinationState> {
  await setDestinationPaused(db, name, false, actor);
  return (await destinationStates(db)).get(name)!;
}
