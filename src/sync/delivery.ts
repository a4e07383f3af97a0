/**
 * The delivery engine: per destination, `concurrency` workers that claim due outbox entries, send
 * them (one request per department), and settle every entry by the one classification
 * (src/adapters/types.ts `DeliveryClass`):
 *
 *   delivered  → done (logged in `deliveries`)
 *   rejected   → dead letter with the receiver's reason; no retry
 *   transient  → retry at a stored time: exponential backoff with jitter, survives restarts; after
 *                delivery.maxRetryHours of failing, a dead letter ("exhausted")
 *   auth       → pause the destination (in the database: every instance stops) and alert; the
 *   config       claimed entries are put back without counting the attempt
 *
 * A circuit breaker per destination and process stops claiming after `breakerThreshold`
 * consecutive failed requests, waits `breakerCooldownMs`, then lets one small probe through.
 * Several instances may run engines on one database: claims use FOR UPDATE SKIP LOCKED and
 * settling only counts leases still held, so each entry is sent by one worker at a time and its
 * acknowledgement recorded once; the receiver de-duplicates the rare resend (a lease that ran out
 * mid-request) by idempotency key.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DeliveryConfig } from '../config/schema.js';
import type { Db } from '../store/db.js';
import {
  claimDue, destinationStates, reclaimExpired, setDestinationPaused, settle,
  type ClaimedEntry, type Settlement,
} from '../store/queries/outbox.js';
import type { AdapterLogger, BatchVerdict, Destination, OutboundRecord } from '../adapters/types.js';
import type { BreakerState, GatewayMetrics } from '../metrics.js';

/** `<deptCode>:<recordType>:<version>:<businessKey>` — one per record version; the key last because it may contain ':'. */
export function idempotencyKeyOf(r: { deptCode: string; recordType: string; version: number; businessKey: string }): string {
  return `${r.deptCode}:${r.recordType}:${r.version}:${r.businessKey}`;
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random, so retries spread out but never bunch at 0. */
export function backoffMs(attempts: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export interface DeliveryEngineOptions {
  readonly db: Db;
  readonly destinations: readonly Destination[];
  readonly config: DeliveryConfig;
  readonly logger: AdapterLogger;
  readonly metrics?: GatewayMetrics;
  /** Names this process in leases; default host:pid:random. */
  readonly workerId?: string;
}

export interface DestinationStatus {
  readonly name: string;
  readonly kind: string;
  readonly breaker: BreakerState;
  readonly paused: boolean;
  readonly inFlight: number;
}

export interface DeliveryEngine {
  start(): void;
  /** Stops claiming, lets requests in flight finish (up to `graceMs`), then aborts the rest and puts their entries back. */
  stop(graceMs?: number): Promise<void>;
  status(): DestinationStatus[];
  /** Wakes idle workers (after a re-drive or a resume) instead of waiting for the poll interval. */
  poke(): void;
  readonly workerId: string;
}

interface Breaker {
  state: BreakerState;
  failures: number;
  openUntil: number;
  probing: boolean;
}

const PAUSE_CHECK_MS = 1000;
/** A probe after the cooldown sends at most this many records. */
const PROBE_SIZE = 10;

export function createDeliveryEngine(options: DeliveryEngineOptions): DeliveryEngine {
  const { db, config, logger, metrics } = options;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const abort = new AbortController();
  let running = false;
  const loops: Promise<void>[] = [];
  const breakers = new Map<string, Breaker>();
  const inFlight = new Map<string, number>();
  let paused = new Map<string, boolean>();
  let pausedReadAt = 0;
  let wake: (() => void)[] = [];
  let reaper: NodeJS.Timeout | undefined;

  for (const d of options.destinations) {
    breakers.set(d.name, { state: 'closed', failures: 0, openUntil: 0, probing: false });
    inFlight.set(d.name, 0);
    metrics?.breaker(d.name, 'closed');
  }

  function setBreaker(name: string, b: Breaker, state: BreakerState): void {
    if (b.state !== state) logger[state === 'open' ? 'warn' : 'info']({ destination: name, breaker: state }, `circuit breaker ${state}`);
    b.state = state;
    metrics?.breaker(name, state);
  }

  /** Sleeps until `ms` passed, a poke, or stop. */
  function idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = wake.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake.push(done);
    });
  }

  async function isPaused(name: string): Promise<boolean> {
    if (Date.now() - pausedReadAt > PAUSE_CHECK_MS) {
      pausedReadAt = Date.now();
      const states = await destinationStates(db);
      paused = new Map([...states].map(([k, v]) => [k, v.paused]));
    }
    return paused.get(name) === true;
  }

  function toOutbound(e: ClaimedEntry): OutboundRecord {
    let parsed: Record<string, unknown> | undefined;
    return {
      entryId: e.entryId, deptCode: e.deptCode, recordType: e.recordType, businessKey: e.businessKey, version: e.version,
      dataVer: e.dataVer, idempotencyKey: idempotencyKeyOf(e), contentJson: e.contentJson, receivedAt: e.recordAt,
      get content() {
        parsed ??= JSON.parse(e.contentJson) as Record<string, unknown>;
        return parsed;
      },
    };
  }

  function retryAt(e: ClaimedEntry, floorMs = 0): Date {
    return new Date(Date.now() + Math.max(floorMs, backoffMs(e.attempts, config.retryBaseMs, config.retryMaxMs)));
  }

  /** A transient failure, or a dead letter when the entry has been failing for longer than allowed. */
  function retryOrExhausted(e: ClaimedEntry, reason: unknown, answer: unknown, floorMs = 0): Settlement {
    const since = e.firstFailedAt?.getTime() ?? Date.now();
    if (Date.now() - since >= config.maxRetryHours * 3_600_000) {
      return { entry: e, kind: 'dead', cause: 'exhausted', reason, answer };
    }
    return { entry: e, kind: 'retry', nextAttemptAt: retryAt(e, floorMs), reason };
  }

  function settlementsFor(dest: Destination, entries: readonly ClaimedEntry[], verdict: BatchVerdict): Settlement[] {
    if (verdict.class !== 'ok') {
      const reason = { class: verdict.class, ...verdict.reason, answer: verdict.answer };
      if (verdict.class === 'transient') return entries.map((e) => retryOrExhausted(e, reason, verdict.answer, verdict.retryAfterMs));
      // auth / config: the entries are fine, the destination is not. Put them back uncounted.
      return entries.map((e) => ({ entry: e, kind: 'release', nextAttemptAt: new Date(Date.now() + config.retryBaseMs) }));
    }
    const byId = new Map(verdict.records.map((v) => [v.entryId, v]));
    return entries.map((e): Settlement => {
      const v = byId.get(e.entryId);
      if (v === undefined) {
        return retryOrExhausted(e, { class: 'transient', code: 'NO_VERDICT', message: { zh: `目的地 ${dest.name} 未给出该记录的结果`, en: `destination ${dest.name} gave no outcome for the record` } }, verdict.answer);
      }
      if (v.class === 'delivered') {
        return { entry: e, kind: 'delivered', outcome: v.reason?.code === 'DUPLICATE' ? 'duplicate' : 'new', idempotencyKey: idempotencyKeyOf(e), ...(v.receiverRef === undefined ? {} : { receiverRef: v.receiverRef }) };
      }
      if (v.class === 'rejected') return { entry: e, kind: 'dead', cause: 'rejected', reason: { class: 'rejected', ...v.reason }, answer: verdict.answer };
      return retryOrExhausted(e, { class: 'transient', ...v.reason }, verdict.answer);
    });
  }

  async function sendGroup(dest: Destination, entries: readonly ClaimedEntry[], breaker: Breaker): Promise<void> {
    let verdict: BatchVerdict;
    try {
      verdict = await dest.send(entries.map(toOutbound), abort.signal);
    } catch (err) {
      // A destination must classify everything the receiver does; a throw is a bug in it.
      logger.error({ err, destination: dest.name }, 'destination threw instead of answering with a verdict');
      verdict = { class: 'config', reason: { code: 'DESTINATION_BUG', message: { zh: '目的地适配器内部错误', en: 'internal error in the destination adapter' } }, answer: { error: (err as Error).message } };
    }
    if (abort.signal.aborted && verdict.class === 'transient') {
      // Aborted by stop(): not the receiver's fault, and the attempt does not count.
      await settle(db, workerId, entries.map((e) => ({ entry: e, kind: 'release', nextAttemptAt: new Date() })));
      return;
    }
    metrics?.deliveryRequest(dest.name, verdict.class);
    const settlements = settlementsFor(dest, entries, verdict);
    await settle(db, workerId, settlements);

    const now = Date.now();
    for (const s of settlements) {
      if (s.kind === 'delivered') {
        metrics?.deliveryOutcome(dest.name, s.outcome === 'duplicate' ? 'duplicate' : 'delivered');
        metrics?.deliveryLatency(dest.name, (now - s.entry.recordAt.getTime()) / 1000);
      } else if (s.kind === 'dead') metrics?.deliveryOutcome(dest.name, s.cause === 'exhausted' ? 'exhausted' : 'rejected');
      else if (s.kind === 'retry') metrics?.deliveryOutcome(dest.name, 'retry');
    }

    if (verdict.class === 'auth' || verdict.class === 'config') {
      const reason = { class: verdict.class, ...verdict.reason, answer: verdict.answer };
      await setDestinationPaused(db, dest.name, true, 'gateway', reason);
      paused.set(dest.name, true);
      logger.error({ destination: dest.name, reason }, `ALERT destination ${dest.name} paused: ${verdict.reason.message.en}; fix it, then resume it (govgate destinations resume ${dest.name})`);
      return;
    }
    if (verdict.class === 'transient') {
      breaker.failures++;
      if (breaker.state === 'half-open' || breaker.failures >= config.breakerThreshold) {
        breaker.openUntil = Date.now() + config.breakerCooldownMs;
        setBreaker(dest.name, breaker, 'open');
      }
    } else {
      breaker.failures = 0;
      if (breaker.state !== 'closed') setBreaker(dest.name, breaker, 'closed');
    }
  }

  async function workerLoop(dest: Destination): Promise<void> {
    const breaker = breakers.get(dest.name)!;
    while (running) {
      let probe = false;
      try {
        if (await isPaused(dest.name)) {
          await idle(PAUSE_CHECK_MS);
          continue;
        }
        if (breaker.state === 'open') {
          const wait = breaker.openUntil - Date.now();
          if (wait > 0) {
            await idle(Math.min(wait, config.breakerCooldownMs));
            continue;
          }
          setBreaker(dest.name, breaker, 'half-open');
        }
        if (breaker.state === 'half-open') {
          if (breaker.probing) {
            await idle(config.pollIntervalMs);
            continue;
          }
          breaker.probing = probe = true;
        }
        const entries = await claimDue(db, dest.name, probe ? Math.min(PROBE_SIZE, config.batchSize) : config.batchSize, config.leaseSeconds, workerId);
        if (entries.length === 0) {
          if (probe) breaker.probing = false;
          await idle(config.pollIntervalMs);
          continue;
        }
        inFlight.set(dest.name, inFlight.get(dest.name)! + entries.length);
        try {
          // One request per department, in claim order (oldest first).
          const byDept = new Map<string, ClaimedEntry[]>();
          for (const e of entries) {
            const list = byDept.get(e.deptCode);
            if (list) list.push(e);
            else byDept.set(e.deptCode, [e]);
          }
          for (const group of byDept.values()) {
            if (!running || paused.get(dest.name) === true || breaker.state === 'open') {
              // Stopped, paused or tripped while this claim was being worked through: hand the rest back.
              await settle(db, workerId, group.map((e) => ({ entry: e, kind: 'release', nextAttemptAt: new Date() })));
              continue;
            }
            await sendGroup(dest, group, breaker);
          }
        } finally {
          inFlight.set(dest.name, inFlight.get(dest.name)! - entries.length);
        }
      } catch (err) {
        // The database is down or a statement failed: leases held now run out and are reclaimed.
        logger.warn({ err, destination: dest.name }, 'delivery worker error; retrying shortly');
        await idle(Math.max(config.pollIntervalMs, 1000));
      } finally {
        if (probe) breaker.probing = false;
      }
    }
  }

  async function reap(): Promise<void> {
    try {
      const n = await reclaimExpired(db);
      if (n > 0) {
        logger.warn({ entries: n }, 'reclaimed outbox entries whose lease ran out (a worker was killed or hung)');
        for (const w of [...wake]) w();
      }
    } catch (err) {
      logger.warn({ err }, 'reclaiming expired leases failed; will retry');
    }
  }

  return {
    workerId,
    start() {
      if (running) return;
      running = true;
      for (const d of options.destinations) for (let i = 0; i < config.concurrency; i++) loops.push(workerLoop(d));
      const every = Math.max(1000, Math.floor((config.leaseSeconds * 1000) / 4));
      void reap();
      reaper = setInterval(() => void reap(), every);
      reaper.unref();
    },
    async stop(graceMs = 10_000) {
      if (!running) return;
      running = false;
      if (reaper) clearInterval(reaper);
      for (const w of [...wake]) w();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref());
      await Promise.race([Promise.all(loops), grace]);
      abort.abort();
      await Promise.all(loops);
      loops.length = 0;
    },
    status: () => options.destinations.map((d) => ({
      name: d.name, kind: d.kind, breaker: breakers.get(d.name)!.state, paused: paused.get(d.name) === true, inFlight: inFlight.get(d.name)!,
    })),
    poke() {
      pausedReadAt = 0;
      for (const w of [...wake]) w();
    },
  };
}
