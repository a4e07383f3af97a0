/**
 * Driving re-drive jobs (src/store/queries/dead-letters.ts): the gateway's background runner, and
 * the loop `govgate deadletters redrive --all` runs in the foreground.
 *
 * A job is only a row (filter, position, counts, state); whoever runs a batch takes the row FOR
 * UPDATE SKIP LOCKED. So any number of gateway instances can run the runner, a CLI can drive a job
 * beside them, and a pause (an UPDATE of the same row) simply lands between two batches.
 */
import { getRedriveJob, runRedriveBatch, type RedriveBatchResult, type RedriveJob } from '../store/queries/dead-letters.js';
import type { Db } from '../store/db.js';

export interface RedriveLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RedriveRunnerOptions {
  readonly db: Db;
  readonly logger: RedriveLogger;
  /**
   * After every batch. The gateway passes `() => engine?.poke()` so requeued entries go out at once
   * rather than at the next poll.
   */
  readonly onProgress?: (result: RedriveBatchResult) => void;
  /** Sleep when no job is running. @defaultValue 2000 */
  readonly idleMs?: number;
  /** Pause between two batches, to spread a large re-drive over time. @defaultValue 0 */
  readonly gapMs?: number;
}

export interface RedriveRunner {
  start(): void;
  /** Lets the batch in progress commit, then stops. */
  stop(): Promise<void>;
  /** Looks for running jobs now (after one was created or resumed) instead of after the idle. */
  poke(): void;
}

export function createRedriveRunner(options: RedriveRunnerOptions): RedriveRunner {
  const { db, logger } = options;
  const idleMs = options.idleMs ?? 2000;
  const gapMs = options.gapMs ?? 0;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;

  const idle = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      wake = undefined;
      resolve();
    }
    wake = done;
  });

  async function run(): Promise<void> {
    while (running) {
      let result: RedriveBatchResult | undefined;
      try {
        result = await runRedriveBatch(db);
      } catch (err) {
        // The database is down or a statement failed: the batch rolled back whole; try again later.
        logger.warn({ err }, 're-drive batch failed; retrying shortly');
        await idle(Math.max(idleMs, 1000));
        continue;
      }
      if (result === undefined) {
        await idle(idleMs);
        continue;
      }
      try {
        options.onProgress?.(result);
      } catch (err) {
        logger.warn({ err }, 're-drive progress callback threw');
      }
      if (result.job.state === 'done') {
        logger.info({ job: result.job.id, actor: result.job.actor, requeued: result.job.requeued, superseded: result.job.superseded }, 're-drive job done');
      }
      if (gapMs > 0) await idle(gapMs);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      await loop;
      loop = undefined;
    },
    poke() {
      wake?.();
    },
  };
}

export interface DriveOptions {
  /** Aborting stops after the batch in progress (the caller then pauses the job). */
  readonly signal?: AbortSignal;
  readonly onBatch?: (result: RedriveBatchResult) => void;
  /** How often to look again while another runner holds the job. @defaultValue 250 */
  readonly waitMs?: number;
}

/**
 * Runs a job's batches in this process until it is done, paused (by anyone) or `signal` aborts.
 * Returns the job as it was left. When a gateway's runner holds the job at the same time, batches
 * are shared between them; this loop then waits and reports the job as it moves.
 */
export async function driveRedriveJob(db: Db, jobId: number, options: DriveOptions = {}): Promise<RedriveJob> {
  const waitMs = options.waitMs ?? 250;
  for (;;) {
    if (options.signal?.aborted) break;
    const result = await runRedriveBatch(db, jobId);
    if (result !== undefined) {
      options.onBatch?.(result);
      if (result.job.state !== 'running') return result.job;
      continue;
    }
    const job = await getRedriveJob(db, jobId);
    if (job === undefined || job.state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
  const job = await getRedriveJob(db, jobId);
  if (job === undefined) throw new Error(`re-drive job ${jobId} vanished`);
  return job;
}
