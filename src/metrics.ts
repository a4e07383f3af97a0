/**
 * Prometheus metrics (prom-client), served at /metrics. One registry per gateway instance, so
 * tests running several gateways in one process do not mix their figures. The outbox figures are
 * read from the database at scrape time: they are shared by every instance, and a counter kept in
 * memory would be wrong after a restart.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from './store/db.js';
import { outboxDepth, destinationStates } from './store/queries/outbox.js';
import type { Receipt } from './store/queries/ingest.js';
import type { IntakePoolStats } from './pipeline/intake-pool.js';

export type BreakerState = 'closed' | 'half-open' | 'open';
const BREAKER_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export interface GatewayMetrics {
  readonly registry: Registry;
  /** Counts a stored submission's records (push or pull). */
  observeReceipt(receipt: Receipt): void;
  /** One request to a destination and how it ended (ok, transient, auth, config). */
  deliveryRequest(destination: string, outcome: string): void;
  /** One record's outcome at a destination (delivered, duplicate, rejected, retry, exhausted). */
  deliveryOutcome(destination: string, outcome: string, count?: number): void;
  /** Seconds from the gateway's receipt of a version to the destination's acknowledgement. */
  deliveryLatency(destination: string, seconds: number): void;
  breaker(destination: string, state: BreakerState): void;
  /** Reports the intake pool's reads (on a worker or the main thread) and lost workers, read at scrape time. */
  watchIntake(stats: () => IntakePoolStats): void;
}

export interface MetricsOptions {
  /** Where the outbox depth and destination state come from at scrape time. */
  readonly db?: Db;
  /** Destinations to always report (0 when idle), so a dashboard has every line from the start. */
  readonly destinations?: readonly string[];
  /** Process metrics (CPU, memory, event loop lag). @defaultValue true */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'govgate_' });

  const received = new Counter({ name: 'govgate_records_received_total', help: 'Records received, by department and record type', labelNames: ['dept', 'type'], registers: [registry] });
  const accepted = new Counter({ name: 'govgate_records_accepted_total', help: 'Records accepted (new, changed or unchanged)', labelNames: ['dept', 'type', 'outcome'], registers: [registry] });
  const rejected = new Counter({ name: 'govgate_records_rejected_total', help: 'Records rejected (including stale versions)', labelNames: ['dept', 'type'], registers: [registry] });
  const requests = new Counter({ name: 'govgate_delivery_requests_total', help: 'Requests to destinations, by outcome class', labelNames: ['destination', 'class'], registers: [registry] });
  const outcomes = new Counter({ name: 'govgate_delivery_outcomes_total', help: 'Record outcomes at destinations', labelNames: ['destination', 'outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'govgate_delivery_latency_seconds', help: 'From the gateway accepting a version to the destination acknowledging it',
    labelNames: ['destination'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600], registers: [registry],
  });
  const breakerState = new Gauge({ name: 'govgate_circuit_breaker_state', help: 'Circuit breaker per destination: 0 closed, 1 half-open, 2 open', labelNames: ['destination'], registers: [registry] });
  for (const d of options.destinations ?? []) breakerState.set({ destination: d }, 0);

  const db = options.db;
  if (db !== undefined) {
    const names = options.destinations ?? [];
    new Gauge({
      name: 'govgate_outbox_depth', help: 'Outbox entries not yet delivered, per destination and state', labelNames: ['destination', 'state'], registers: [registry],
      async collect() {
        this.reset();
        const depth = await outboxDepth(db).catch(() => undefined);
        if (depth === undefined) return;
        for (const n of names) for (const state of ['pending', 'leased']) this.set({ destination: n, state }, 0);
        for (const d of depth) {
          this.set({ destination: d.destination, state: 'pending' }, d.pending);
          this.set({ destination: d.destination, state: 'leased' }, d.leased);
        }
      },
    });
    new Gauge({
      name: 'govgate_outbox_oldest_age_seconds', help: 'Age of the oldest undelivered outbox entry per destination: how far behind the receiver is', labelNames: ['destination'], registers: [registry],
      async collect() {
        this.reset();
        const depth = await outboxDepth(db).catch(() => undefined);
        if (depth === undefined) return;
        for (const n of names) this.set({ destination: n }, 0);
        for (const d of depth) this.set({ destination: d.destination }, d.oldestAgeSeconds);
      },
    });
    new Gauge({
      name: 'govgate_destination_paused', help: 'Destinations paused by an authentication or configuration failure, or by an operator (1 = paused)', labelNames: ['destination'], registers: [registry],
      async collect() {
        this.reset();
        const states = await destinationStates(db).catch(() => undefined);
        if (states === undefined) return;
        for (const n of names) this.set({ destination: n }, states.get(n)?.paused === true ? 1 : 0);
      },
    });
  }

  return {
    registry,
    observeReceipt(receipt) {
      const dept = receipt.deptCode;
      for (const r of receipt.records) {
        const type = r.recordType ?? 'unknown';
        received.inc({ dept, type });
        if (r.outcome === 'rejected' || r.outcome === 'stale') rejected.inc({ dept, type });
        else accepted.inc({ dept, type, outcome: r.outcome });
      }
    },
    deliveryRequest: (destination, cls) => requests.inc({ destination, class: cls }),
    deliveryOutcome: (destination, outcome, count = 1) => outcomes.inc({ destination, outcome }, count),
    deliveryLatency: (destination, seconds) => latency.observe({ destination }, Math.max(0, seconds)),
    breaker: (destination, state) => breakerState.set({ destination }, BREAKER_VALUE[state]),
    watchIntake(stats) {
      new Counter({
        name: 'govgate_intake_payloads_total', help: 'Pushed payloads read, on an intake worker or on the main thread', labelNames: ['thread'], registers: [registry],
        collect() {
          const s = stats();
          this.reset();
          this.inc({ thread: 'worker' }, s.workerReads);
          this.inc({ thread: 'main' }, s.inlineReads);
        },
      });
      new Counter({
        name: 'govgate_intake_workers_lost_total', help: 'Intake workers that exited on their own (their payloads got 503)', registers: [registry],
        collect() {
          this.reset();
          this.inc(stats().workersLost);
        },
      });
    },
  };
}
