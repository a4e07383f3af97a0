/** The storage layer's public surface: the only place in govgate with SQL. */
export { openDb, redactUrl, DbError, type Db, type Tx, type Queryable, type QueryResult, type OpenDbOptions, type StoreLogger } from './db.js';
export { migrate, migrationStatus, assertMigrated, type MigrateOptions, type MigrateResult, type MigrationStatus } from './migrate.js';
export { ensurePartitions, partitionMonth, DEFAULT_MONTHS_AHEAD } from './partitions.js';
export { chainHash, chainMetaJson, GENESIS_HASH, type ChainMeta } from './chain.js';
export { newReceiptId, receiptTime } from './ids.js';
export {
  ingest, ingestMany, summarizeReceipt, RECORD_TYPES,
  type IngestInput, type IngestOutcome, type IngestRecordInput, type IngestResult, type IngestOptions,
  type Receipt, type RecordReceipt, type RecordOutcome, type ReceiptStatus, type ReceiptCounts,
} from './queries/ingest.js';
export { getReceipt } from './queries/receipts.js';
export { verifyChain, assertChainsIntact, type ChainReport, type ChainBreak } from './queries/verify-chain.js';
export { rememberNonce, pruneNonces } from './queries/nonces.js';
export { createPushStore, type PushStoreOptions, type ReadyState } from './push-store.js';
export { createGroupCommitter, type GroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
