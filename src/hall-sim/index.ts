/**
 * The hall simulator: a real HTTP server speaking the upstream protocol of the unified government
 * hall (docs/hall-sim.md), with its own storage and injectable faults, for department sandboxes,
 * demos and the tests that prove the gateway's delivery (idempotency, retries, reconciliation).
 *
 *   const hall = await startHallSim({ faults: { errorRate: 0.1, faultPhase: 'after' } });
 *   … point the gateway at hall.url with HALL_DEMO_KEY …
 *   await hall.stats(); await hall.storedKeys(); await hall.close();
 */
import pino from 'pino';
import { KEY_ID_PATTERN, SIGNING_ALGORITHMS } from '../client/sign.js';
import { openDb, type Db } from '../store/db.js';
import { HallError } from './errors.js';
import { DEFAULT_FAULTS, checkFaults, mergeFaults, type Faults } from './faults.js';
import { createHallServer, type HallSimKey, type InjectedCounts } from './server.js';
import { HallStore, type DeptCounts, type RejectedRecord, type StoredRecord } from './store.js';

export { DEFAULT_FAULTS, checkFaults, rejectScore } from './faults.js';
export type { Faults, FaultPhase, OutageMode, OutageWindow } from './faults.js';
export { businessKeyOf, defaultIdempotencyKey } from './server.js';
export type { HallSimKey, HallReceipt, HallRecordReceipt, HallFinding, Reconciliation, InjectedCounts } from './server.js';
export { HALL_SIM_SCHEMA_SQL, keysDigest } from './store.js';
export type { DeptCounts, RejectedRecord, StoredRecord, HallOutcome, HallRecordType } from './store.js';
export { HALL_ERRORS, HallError, type HallErrorCode, type HallErrorBody } from './errors.js';

/** The demo key: printed by `govgate hall-sim`, usable by the gateway demo. Never for production. */
export const HALL_DEMO_KEY_ID = 'hall-demo';
export const HALL_DEMO_SECRET = 'demo-only-hall-secret-330000-do-not-use-in-prod';
export const HALL_DEMO_ALGORITHM = 'hmac-sha256' as const;
export const HALL_DEMO_KEY: HallSimKey = { keyId: HALL_DEMO_KEY_ID, secret: HALL_DEMO_SECRET, algorithm: HALL_DEMO_ALGORITHM };

export const DEFAULT_HALL_SCHEMA = 'hallsim';
export const DEFAULT_HALL_BODY_LIMIT = 10 * 1024 * 1024;

export interface HallSimOptions {
  /** @defaultValue `'127.0.0.1'` */
  readonly host?: string;
  /** @defaultValue 0 (any free port; the CLI defaults to 9090) */
  readonly port?: number;
  /** Keys that may sign requests, each for any department. @defaultValue `[HALL_DEMO_KEY]` */
  readonly keys?: readonly HallSimKey[];
  /** PostgreSQL server. Neither this nor `dataDir` nor `db` → PGlite in memory. */
  readonly databaseUrl?: string;
  /** PGlite data directory. */
  readonly dataDir?: string;
  /** @defaultValue `'hallsim'` (ignored with `db`, whose schema is used) */
  readonly schema?: string;
  /** An open database to use instead of opening one; the simulator neither migrates nor closes it. */
  readonly db?: Db;
  readonly faults?: Partial<Faults>;
  /** @defaultValue 10 MiB */
  readonly bodyLimitBytes?: number;
  /** @defaultValue 300 */
  readonly clockSkewSeconds?: number;
  /** @defaultValue 600 */
  readonly nonceTtlSeconds?: number;
  /** @defaultValue a pino logger at `logLevel` */
  readonly logger?: pino.Logger;
  /** @defaultValue `'silent'` */
  readonly logLevel?: pino.LevelWithSilent;
  /** The hall's clock (store times, signature window). @defaultValue the system clock */
  readonly now?: () => Date;
  /** Random source of the fault decisions, for reproducible runs. @defaultValue Math.random */
  readonly random?: () => number;
}

export interface HallSimStats extends DeptCounts {
  readonly injected: InjectedCounts;
  /** Whether an outage is in force now. */
  readonly outage: boolean;
  readonly byDept: Readonly<Record<string, DeptCounts>>;
}

export interface HallSim {
  /** Base URL, e.g. `http://127.0.0.1:9090`; the protocol lives under `${url}/api/v1/`. */
  readonly url: string;
  readonly db: Db;
  stats(): Promise<HallSimStats>;
  faults(): Faults;
  /** Lays `partial` over the current faults (lists replace); throws HallError HALL_FAULTS_INVALID. */
  setFaults(partial: Partial<Faults>): Faults;
  /** An outage from now on, for `durationSec` seconds. */
  startOutage(durationSec: number): void;
  /** Every record refused, oldest first. */
  rejected(): Promise<RejectedRecord[]>;
  /** The idempotency keys stored, sorted (JS order). */
  storedKeys(filter?: { deptCode?: string; recordType?: string }): Promise<string[]>;
  records(filter?: { deptCode?: string; recordType?: string; limit?: number; offset?: number; content?: boolean }): Promise<{ total: number; records: StoredRecord[] }>;
  /** Clears stored records, rejections and counters (faults stay as they are). */
  reset(): Promise<void>;
  /** Stops accepting, finishes requests in flight, drops held sockets, closes the database it opened. */
  close(): Promise<void>;
}

function checkKeys(keys: readonly HallSimKey[]): void {
  if (keys.length === 0) throw new TypeError('hall-sim: at least one key is needed');
  const ids = new Set<string>();
  for (const k of keys) {
    if (!KEY_ID_PATTERN.test(k.keyId)) throw new TypeError(`hall-sim: the key id ${JSON.stringify(k.keyId)} is not valid (1–64 letters, digits, _ . : -)`);
    if (ids.has(k.keyId)) throw new TypeError(`hall-sim: the key id ${k.keyId} appears twice`);
    ids.add(k.keyId);
    if (typeof k.secret !== 'string' || k.secret.length === 0) throw new TypeError(`hall-sim: the key ${k.keyId} has no secret`);
    if (k.algorithm !== undefined && !SIGNING_ALGORITHMS.includes(k.algorithm)) throw new TypeError(`hall-sim: the key ${k.keyId} has an unknown algorithm ${String(k.algorithm)}`);
  }
}

export async function startHallSim(options: HallSimOptions = {}): Promise<HallSim> {
  const keys = options.keys ?? [HALL_DEMO_KEY];
  checkKeys(keys);
  const checked = checkFaults(options.faults ?? {});
  if (!checked.ok) throw new TypeError(`hall-sim: invalid faults: ${checked.problems.join('; ')}`);
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_HALL_BODY_LIMIT;
  if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1) throw new TypeError('hall-sim: bodyLimitBytes must be a positive integer');
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'silent' });

  const owned = options.db === undefined;
  const db = options.db ?? await openDb({
    ...(options.databaseUrl !== undefined ? { url: options.databaseUrl } : options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    schema: options.schema ?? DEFAULT_HALL_SCHEMA,
    logger,
  });
  try {
    const store = new HallStore(db);
    await store.init();
    const server = await createHallServer({
      store,
      keys,
      faults: mergeFaults(DEFAULT_FAULTS, checked.value),
      bodyLimitBytes,
      clockSkewSeconds: options.clockSkewSeconds ?? 300,
      nonceTtlSeconds: options.nonceTtlSeconds ?? 600,
      logger,
      now: options.now ?? (() => new Date()),
      random: options.random ?? Math.random,
    });
    let url: string;
    try {
      url = await server.app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    } catch (err) {
      await server.close().catch(() => undefined);
      throw err;
    }
    logger.warn({ url }, 'hall-sim: the control endpoints /_sim/* are open to anyone who can reach this address (no authentication)');
    let closing: Promise<void> | undefined;
    return {
      url,
      db,
      async stats() {
        const s = await store.stats();
        return { ...s.total, injected: server.injected(), outage: server.outageNow(), byDept: s.byDept };
      },
      faults: () => server.faults(),
      setFaults(partial) {
        try {
          return server.setFaults(partial);
        } catch (err) {
          throw err instanceof HallError ? new TypeError(`hall-sim: ${err.messages.en}`) : err;
        }
      },
      startOutage(durationSec) {
        try {
          server.startOutage(durationSec);
        } catch (err) {
          throw err instanceof HallError ? new TypeError(`hall-sim: ${err.messages.en}`) : err;
        }
      },
      rejected: () => store.rejected(),
      storedKeys: (filter) => store.storedKeys(filter),
      records: (filter = {}) => store.records({
        ...(filter.deptCode === undefined ? {} : { deptCode: filter.deptCode }),
        ...(filter.recordType === undefined ? {} : { recordType: filter.recordType }),
        limit: filter.limit ?? 100, offset: filter.offset ?? 0, content: filter.content ?? false,
      }),
      async reset() {
        await store.reset();
        server.resetInjected();
      },
      close() {
        closing ??= (async () => {
          try {
            await server.close();
          } finally {
            if (owned) await db.close();
          }
        })();
        return closing;
      },
    };
  } catch (err) {
    if (owned) await db.close().catch(() => undefined);
    throw err;
  }
}
