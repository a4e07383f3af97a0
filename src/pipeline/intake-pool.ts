/**
 * Where pushed payloads are read (readPayload: decode, parse, map, validate, encode): on the main
 * thread, or on intake worker threads.
 *
 * Why workers: the gateway's main thread was its bottleneck for batches. It answers HTTP, checks
 * signatures, runs the group commit and delivery; reading a JSON batch of 100 cases costs it
 * another ≈ 3.3 ms (≈ 6.8 ms as XML), during which the commit pipeline waits for the event loop.
 * A worker does that work on another core and hands back plain data: the records' metadata
 * (cloned) and their stored JSON (transferred, not copied). docs/performance.md has the figures.
 *
 * Why not every payload: a hand-off costs each thread a wake-up, which on the 2-vCPU VM of
 * docs/performance.md is dear. Single records sent to a worker raised the gateway's CPU per
 * request from ≈ 275 to ≈ 325 µs and did not raise throughput.
 *
 * How: payloads of at least `minBytes` go to the worker with the fewest jobs; small ones (a single
 * record) are read inline, where the round trip to a worker would cost more than it saves. Workers
 * start with the first large payload and read inline until they are ready. When every worker
 * already has `MAX_QUEUED` jobs, the main thread reads the payload itself rather than queue it.
 *
 * Failure: a job that throws in a worker rejects like an inline read would. A worker that exits
 * (out of memory, a crash) fails its jobs with GOVGATE_INTAKE_WORKER_LOST (503, retry: nothing was
 * stored) and is started again for a later payload, no sooner than `RESTART_DELAY_MS`.
 */
import { Worker } from 'node:worker_threads';
import { GovgateError } from '../errors.js';
import type { Department } from '../config/departments.js';
import type { RecordType } from '../schemas/spec/index.js';
import type { Validator } from '../schemas/validate.js';
import type { IntakeLimits } from './intake.js';
import type { CompiledMapping } from './mapping.js';
import { readPayload, type ReadPayload } from './read-payload.js';
import type { ValidatorRecipe } from './validator-recipe.js';

export interface ReadJob {
  readonly contentType: string;
  /** The department whose mapping (if it has one) reads the payload: the signer's. */
  readonly deptCode: string;
  /** Set by the typed routes (POST /cases …): a record of another type is rejected. */
  readonly expectedType?: RecordType;
}

export interface PayloadReader {
  read(bytes: Uint8Array, job: ReadJob): Promise<ReadPayload>;
  /** Stops the workers; reads still running are failed. */
  close(): Promise<void>;
}

/** What a worker builds its validator and mappings from: plain data. */
export interface IntakeRecipe {
  readonly validator: ValidatorRecipe;
  readonly limits: IntakeLimits;
  /** Department code → its mapping as written in its file (Department.mappingSource). */
  readonly mappings: Readonly<Record<string, unknown>>;
}

/** @internal main → worker */
export interface WorkerJob extends ReadJob {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** @internal worker → main */
export type WorkerMessage =
  | { readonly ready: true }
  | { readonly id: number; readonly result: ReadPayload }
  | { readonly id: number; readonly error: { readonly message: string; readonly stack?: string } };

export interface IntakePoolStats {
  /** Payloads read on a worker, and on the main thread. */
  readonly workerReads: number;
  readonly inlineReads: number;
  /** Workers that exited on their own (crash, out of memory, a failed start). */
  readonly workersLost: number;
}

export interface IntakePool extends PayloadReader {
  stats(): IntakePoolStats;
  /** Starts every worker not running; resolves once each is ready or has failed. */
  warm(): Promise<void>;
}

export interface PoolLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface IntakePoolOptions {
  /** Worker threads; 0 reads everything inline. */
  readonly workers: number;
  /** Smaller payloads are read inline. */
  readonly minBytes: number;
  readonly recipe: IntakeRecipe;
  /** Reads what no worker takes. */
  readonly inline: PayloadReader;
  readonly logger?: PoolLogger;
}

// A worker with this many jobs waiting is overwhelmed: the main thread reads the next payload
// itself rather than queue it. Not much lower: the main thread is the scarcer one (with 4, it read
// a tenth of the payloads of the JSON-batch bench itself, and the worker sat idle a quarter of
// the time).
const MAX_QUEUED = 64;
const RESTART_DELAY_MS = 1000;

/** Reads on the calling thread. */
export function inlineReader(options: { validator: Validator; limits: IntakeLimits; departments: readonly Department[] }): PayloadReader {
  const mappings = new Map<string, CompiledMapping>();
  for (const d of options.departments) if (d.mapping !== undefined) mappings.set(d.code, d.mapping);
  return {
    read: async (bytes, job) => {
      const mapping = mappings.get(job.deptCode);
      return readPayload(bytes, {
        contentType: job.contentType, validator: options.validator, limits: options.limits,
        ...(mapping === undefined ? {} : { mapping }),
        ...(job.expectedType === undefined ? {} : { expectedType: job.expectedType }),
      });
    },
    close: async () => undefined,
  };
}

/** The recipe for workers reading like `inlineReader` with these departments. */
export function intakeRecipe(validator: ValidatorRecipe, limits: IntakeLimits, departments: readonly Department[]): IntakeRecipe {
  const mappings: Record<string, unknown> = {};
  for (const d of departments) if (d.mappingSource !== undefined) mappings[d.code] = d.mappingSource;
  return { validator, limits, mappings };
}

interface Pending {
  readonly resolve: (result: ReadPayload) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  readonly pending: Map<number, Pending>;
}

// Under the test runner this module is TypeScript run through a loader, which worker threads
// inherit (execArgv); built, it is JavaScript next to a JavaScript worker.
const WORKER_URL = new URL(`./intake-worker.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);

export function createIntakePool(options: IntakePoolOptions): IntakePool {
  const slots: (Slot | undefined)[] = new Array(Math.max(0, options.workers)).fill(undefined);
  const restartAt: number[] = new Array(slots.length).fill(0);
  let nextId = 0;
  let closed = false;
  let workerReads = 0;
  let inlineReads = 0;
  let workersLost = 0;
  let settled: (() => void)[] = [];

  function spawn(i: number): void {
    const worker = new Worker(WORKER_URL, { workerData: options.recipe });
    const slot: Slot = { worker, ready: false, pending: new Map() };
    slots[i] = slot;
    worker.on('message', (m: WorkerMessage) => {
      if ('ready' in m) {
        slot.ready = true;
        // An idle worker never keeps the process alive (close() ends the workers, and so does the
        // process); a starting one or one with jobs must, someone is waiting for it.
        worker.unref();
        notify();
        return;
      }
      const p = slot.pending.get(m.id);
      if (p === undefined) return;
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if ('result' in m) p.resolve(m.result);
      else p.reject(Object.assign(new Error(`intake worker: ${m.error.message}`), m.error.stack === undefined ? {} : { workerStack: m.error.stack }));
    });
    worker.on('error', (err) => options.logger?.error({ err }, 'an intake worker failed'));
    worker.on('exit', (code) => {
      if (slots[i] === slot) slots[i] = undefined;
      restartAt[i] = Date.now() + RESTART_DELAY_MS;
      if (!closed) {
        workersLost++;
        options.logger?.warn({ code, jobs: slot.pending.size }, 'an intake worker exited; its payloads were not stored and get 503');
      }
      const lost = new GovgateError('GOVGATE_INTAKE_WORKER_LOST', { retryAfter: 1 });
      for (const p of slot.pending.values()) p.reject(lost);
      slot.pending.clear();
      notify();
    });
  }

  function notify(): void {
    if (slots.some((s) => s !== undefined && !s.ready)) return;
    const waiters = settled;
    settled = [];
    for (const w of waiters) w();
  }

  function inline(bytes: Uint8Array, job: ReadJob): Promise<ReadPayload> {
    inlineReads++;
    return options.inline.read(bytes, job);
  }

  /** The ready worker with the fewest jobs, if it has room; starts missing workers. */
  function pick(): Slot | undefined {
    let best: Slot | undefined;
    const now = Date.now();
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (s === undefined) {
        if (now >= restartAt[i]!) spawn(i);
        continue;
      }
      if (s.ready && s.pending.size < MAX_QUEUED && (best === undefined || s.pending.size < best.pending.size)) best = s;
    }
    return best;
  }

  return {
    read(bytes, job) {
      if (closed || slots.length === 0 || bytes.byteLength < options.minBytes) return inline(bytes, job);
      const slot = pick();
      if (slot === undefined) return inline(bytes, job);
      workerReads++;
      const id = nextId++;
      return new Promise<ReadPayload>((resolve, reject) => {
        if (slot.pending.size === 0) slot.worker.ref();
        slot.pending.set(id, { resolve, reject });
        // The caller keeps its bytes for the raw inbox, so the worker gets a copy, transferred:
        // cheaper than letting postMessage clone them (107 against 135 µs for a 166 kB batch).
        const copy = new Uint8Array(bytes);
        slot.worker.postMessage({ id, bytes: copy, ...job } satisfies WorkerJob, [copy.buffer]);
      });
    },
    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s?.worker.terminate()));
    },
    stats: () => ({ workerReads, inlineReads, workersLost }),
    warm() {
      if (closed) return Promise.resolve();
      for (let i = 0; i < slots.length; i++) if (slots[i] === undefined) spawn(i);
      return new Promise<void>((resolve) => {
        settled.push(resolve);
        notify();
      });
    },
  };
}
