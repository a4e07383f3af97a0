/**
 * The scheduler: node-cron ticks start jobs (pull adapters, their sweeps, housekeeping); the state
 * that matters lives in PostgreSQL, never in the timer.
 *
 * - A tick is only a trigger (reliability.md on node-cron: missed and repeated ticks around DST,
 *   busy event loops, restarts). A pull run reads from its stored cursor, so a missed tick is
 *   caught up by the next run, and at start a job whose last run is older than one interval runs
 *   at once ("catch-up").
 * - No overlapping runs: a job already running in this process is not started again, and across
 *   instances each run holds a transaction-scoped advisory lock
 *   (`pg_try_advisory_xact_lock(class, hashtext(schema:job))`) on a connection of its own for its
 *   whole duration. Whoever gets the lock is the leader for that run; the others skip the tick. A
 *   process that dies releases the lock with its connection. The lock transaction assigns no
 *   transaction id and holds no snapshot between statements, so keeping it open does not hold
 *   back vacuum. (Set `idle_in_transaction_session_timeout` above the longest run, or leave it 0.)
 * - PGlite is one connection for one process: there a run takes no lock (the connection would be
 *   needed by the run itself), and the in-process guard is the whole story.
 * - `stop()` stops the ticks, aborts running jobs through their AbortSignal (pull adapters stop
 *   between payloads; the payload in flight commits or rolls back whole) and waits for them.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Db } from '../store/db.js';
import { ensurePartitions } from '../store/partitions.js';
import { pruneNonces } from '../store/queries/nonces.js';
import { abandonRuns, finishRun, lastRunStart, startRun, type JsonValue, type RunTrigger } from '../store/queries/pull.js';
import type { AdapterLogger } from '../adapters/types.js';
import { isGovgateError } from '../errors.js';

/** First half of the advisory lock key: "sch" in ASCII; the second half is a hash of schema:job. */
const SCHEDULER_LOCK_CLASS = 7562088;

export interface Job {
  /** Unique; the run history and the lock are keyed by it. */
  readonly name: string;
  /** Cron expression (node-cron syntax, seconds allowed). */
  readonly schedule: string;
  /** Run at start when the last run is older than one interval. */
  readonly catchUp: boolean;
  /** Scheduled jobs run only when enabled; a disabled job can still be triggered by hand. */
  readonly enabled?: boolean;
  run(trigger: RunTrigger, signal: AbortSignal): Promise<unknown>;
}

export interface SchedulerOptions {
  readonly db: Db;
  readonly logger: AdapterLogger;
  readonly jobs: readonly Job[];
  /** IANA zone the cron expressions are read in. @defaultValue 'Asia/Shanghai' */
  readonly timezone?: string;
}

export type TriggerResult =
  | { readonly ran: true; readonly result: unknown }
  | { readonly ran: false; readonly reason: 'busy' | 'not-leader' | 'stopped' | 'unknown' };

export interface Scheduler {
  start(): Promise<void>;
  /** Runs a job now, unless it is running here or another instance holds its lock. */
  trigger(name: string, trigger?: RunTrigger): Promise<TriggerResult>;
  /** Names of the jobs running in this process. */
  running(): string[];
  stop(): Promise<void>;
}

/**
 * Runs `fn` holding the job's cluster-wide lock; `{ ran: false }` when another instance has it.
 * Used by the scheduler and by `govgate pull`, so a manual run never overlaps a scheduled one.
 */
export async function withJobLock<T>(db: Db, job: string, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
  if (db.engine === 'pglite') return { ran: true, value: await fn() };
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1::integer, hashtext($2::text)) AS ok', [SCHEDULER_LOCK_CLASS, `${db.schema}:${job}`]);
    if (rows[0]?.ok !== true) return { ran: false } as const;
    // Only the leader can be running the job, so runs still marked running are dead processes'.
    await abandonRuns(tx, job);
    return { ran: true, value: await fn() } as const;
  });
}

/** Milliseconds between the next two ticks of an expression (its nominal interval). */
function interval(task: ScheduledTask): number | undefined {
  const [a, b] = task.getNextRuns(2);
  return a === undefined || b === undefined ? undefined : b.getTime() - a.getTime();
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const { db, logger } = options;
  const timezone = options.timezone ?? 'Asia/Shanghai';
  const jobs = new Map(options.jobs.map((j) => [j.name, j]));
  const tasks = new Map<string, ScheduledTask>();
  const active = new Map<string, Promise<TriggerResult>>();
  const stopping = new AbortController();
  let stopped = false;

  async function trigger(name: string, how: RunTrigger = 'manual'): Promise<TriggerResult> {
    const job = jobs.get(name);
    if (job === undefined) return { ran: false, reason: 'unknown' };
    if (stopped) return { ran: false, reason: 'stopped' };
    if (active.has(name)) {
      logger.debug({ job: name, trigger: how }, 'job still running: tick skipped');
      return { ran: false, reason: 'busy' };
    }
    const p = (async (): Promise<TriggerResult> => {
      try {
        const r = await withJobLock(db, name, () => job.run(how, stopping.signal));
        if (!r.ran) {
          logger.debug({ job: name }, 'another instance holds the job lock: tick skipped');
          return { ran: false, reason: 'not-leader' };
        }
        return { ran: true, result: r.value };
      } catch (err) {
        // A job records its own failures; what arrives here is the database itself failing.
        logger.error({ job: name, err: isGovgateError(err) ? err.toJSON() : err }, 'scheduled job failed');
        return { ran: true, result: err };
      } finally {
        active.delete(name);
      }
    })();
    active.set(name, p);
    return p;
  }

  return {
    async start() {
      for (const job of jobs.values()) {
        if (job.enabled === false) continue;
        const task = cron.createTask(job.schedule, async () => { await trigger(job.name, 'schedule'); }, {
          name: job.name, timezone, noOverlap: true,
        });
        // node-cron reports ticks it could not fire on time (a blocked event loop): run at once.
        task.on('execution:missed', () => { void trigger(job.name, 'catch-up'); });
        tasks.set(job.name, task);
        await task.start();
      }
      for (const job of jobs.values()) {
        if (job.enabled === false || !job.catchUp) continue;
        const every = interval(tasks.get(job.name)!);
        const last = await lastRunStart(db, job.name).catch(() => undefined);
        if (last === undefined || (every !== undefined && Date.now() - last.getTime() > every)) {
          logger.info({ job: job.name, lastRun: last?.toISOString() ?? null }, 'catching up a missed run');
          void trigger(job.name, 'catch-up');
        }
      }
    },
    trigger,
    running: () => [...active.keys()],
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const task of tasks.values()) await task.destroy();
      tasks.clear();
      stopping.abort();
      await Promise.allSettled([...active.values()]);
    },
  };
}

// ── housekeeping jobs ────────────────────────────────────────────────────────────────────────────

/**
 * A job whose runs are recorded in job_runs like pull runs (no record counts; `detail` says what
 * it did).
 */
export function recordedJob(db: Db, instance: string, spec: { name: string; schedule: string; catchUp: boolean }, work: (signal: AbortSignal) => Promise<Record<string, JsonValue>>): Job {
  return {
    ...spec,
    async run(trigger, signal) {
      const startedAt = new Date();
      const id = await startRun(db, { job: spec.name, trigger, instance, startedAt });
      const zero = { seen: 0, accepted: 0, rejected: 0, unchanged: 0, payloads: 0 };
      try {
        const detail = await work(signal);
        await finishRun(db, id, { ...zero, status: 'ok', finishedAt: new Date(), durationMs: Date.now() - startedAt.getTime(), detail });
        return detail;
      } catch (err) {
        const error = isGovgateError(err) ? { code: err.code, message: { zh: err.messages.zh, en: err.messages.en } } : { code: 'GOVGATE_INTERNAL', message: { zh: String(err), en: String(err) } };
        await finishRun(db, id, { ...zero, status: 'failed', finishedAt: new Date(), durationMs: Date.now() - startedAt.getTime(), error });
        throw err;
      }
    },
  };
}

/** Daily partitions ahead (docs/storage.md) and the pruning of replay nonces. */
export function housekeepingJobs(db: Db, instance: string, options: { nonceTtlSeconds: number; partitionsSchedule?: string; noncesSchedule?: string }): Job[] {
  return [
    recordedJob(db, instance, { name: 'maintenance:partitions', schedule: options.partitionsSchedule ?? '17 3 * * *', catchUp: true }, async () => ({ partitionsCreated: await ensurePartitions(db) })),
    recordedJob(db, instance, { name: 'maintenance:nonces', schedule: options.noncesSchedule ?? '*/10 * * * *', catchUp: false }, async () => ({ noncesPruned: await pruneNonces(db, options.nonceTtlSeconds) })),
  ];
}
