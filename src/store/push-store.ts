/**
 * The store as the push API sees it (`PushStore` in src/http/push.ts): ingest with the request's
 * nonce in the same transaction, receipts by id, readiness for /readyz. A thin adapter; the work is
 * in queries/ingest.ts, and concurrent requests share one transaction through the group committer
 * (group-commit.ts).
 */
import type { PushStore } from '../http/push.js';
import type { Db, StoreLogger } from './db.js';
import { migrationStatus } from './migrate.js';
import { createGroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
import { pruneNonces } from './queries/nonces.js';
import { getReceipt } from './queries/receipts.js';
import type { Receipt } from './queries/ingest.js';

export interface PushStoreOptions {
  logger?: StoreLogger;
  /** Nonces older than this are forgotten. @defaultValue 600 (auth.nonceTtlSeconds' default) */
  nonceTtlSeconds?: number;
  /** Prune at most this often, piggy-backed on ingests. @defaultValue 60000 */
  pruneEveryMs?: number;
  /** Group commit limits (payloads, records, bytes per group; groups in flight) and routing. */
  groupCommit?: Omit<GroupCommitOptions, 'logger'>;
  /** Told about every stored submission (metrics). */
  onReceipt?: (receipt: Receipt) => void;
}

export interface ReadyState {
  ok: boolean;
  detail: Record<string, unknown>;
}

export function createPushStore(db: Db, options: PushStoreOptions = {}): PushStore & { ready(): Promise<ReadyState>; groupStats(): GroupCommitStats } {
  const ttl = options.nonceTtlSeconds ?? 600;
  const every = options.pruneEveryMs ?? 60_000;
  let lastPrune = Date.now();
  let pruning = false;
  const committer = createGroupCommitter(db, { ...options.groupCommit, ...(options.logger === undefined ? {} : { logger: options.logger }) });

  // Until the scheduler owns it, pruning rides on ingest traffic: without traffic nothing grows.
  function maybePrune(): void {
    if (pruning || Date.now() - lastPrune < every) return;
    pruning = true;
    lastPrune = Date.now();
    pruneNonces(db, ttl)
      .catch((err: unknown) => options.logger?.warn({ err }, 'pruning replay nonces failed; will retry'))
      .finally(() => {
        pruning = false;
      });
  }

  return {
    async ingest(req) {
      const { receipt } = await committer.submit(req);
      options.onReceipt?.(receipt);
      maybePrune();
      return receipt;
    },
    getReceipt: (receiptId, deptCode) => getReceipt(db, receiptId, deptCode),
    groupStats: () => committer.stats(),
    async ready() {
      const s = await migrationStatus(db);
      return {
        ok: s.ok,
        detail: { database: db.engine, schema: db.schema, migrations: { current: s.current, expected: s.expected, pending: s.pending } },
      };
    },
  };
}
