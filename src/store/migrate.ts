/**
 * Forward-only migrations from numbered plain-SQL files (src/store/migrations/NNNN_name.sql, turned
 * into migrations.generated.ts by scripts/build-sql.mjs so dist/ needs no SQL files beside it).
 *
 * Each migration runs in its own transaction under a transaction-level advisory lock keyed by
 * schema, and re-checks govgate_migrations after taking the lock: when several instances start
 * together, one applies each migration and the others find it done. A failed migration rolls back
 * whole and leaves the ones before it applied.
 */
import { GovgateError } from '../errors.js';
import type { Db, StoreLogger } from './db.js';
import { migrations as bundled, type MigrationSource } from './migrations.generated.js';
import { DEFAULT_MONTHS_AHEAD, ensurePartitions } from './partitions.js';

/** First half of the advisory lock key: "gov" in ASCII; the second half is the schema's hash. */
const MIGRATE_LOCK_CLASS = 6778742;

export interface MigrateOptions {
  logger?: StoreLogger;
  /** @defaultValue 3 — partitions to create from this month on once the schema is current. */
  partitionMonths?: number;
  /** For tests of the migrator itself. @defaultValue the bundled migrations */
  migrations?: readonly MigrationSource[];
}

export interface MigrateResult {
  /** Names of the migrations this call applied (empty when another instance or an earlier run did). */
  readonly applied: string[];
  readonly version: number;
  readonly partitionsCreated: number;
}

const BOOTSTRAP = `
CREATE TABLE IF NOT EXISTS govgate_migrations (
  id         integer     PRIMARY KEY,
  name       text        NOT NULL,
  sha256     text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export async function migrate(db: Db, options: MigrateOptions = {}): Promise<MigrateResult> {
  const all = options.migrations ?? bundled;
  const applied: string[] = [];

  // Bootstrap under the same lock: CREATE SCHEMA/TABLE IF NOT EXISTS both race with a concurrent
  // creator (duplicate key in pg_namespace / pg_type) without it.
  let done = await db.transaction(async (tx) => {
    await lock(tx, db.schema);
    const { rows } = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [db.schema]);
    // Checked first, not IF NOT EXISTS: CREATE SCHEMA checks the CREATE privilege on the database
    // even when the schema exists, and a production role need not have it.
    if (rows.length === 0) await tx.exec(`CREATE SCHEMA ${db.schema}`);
    await tx.exec(BOOTSTRAP);
    return appliedIds(tx);
  });

  for (const m of all) {
    if (done.has(m.id)) continue;
    const ran = await db.transaction(async (tx) => {
      await lock(tx, db.schema);
      // Another instance may have applied it while we waited for the lock.
      const now = await appliedIds(tx);
      if (now.has(m.id)) return false;
      const started = Date.now();
      await tx.exec(m.sql);
      await tx.query('INSERT INTO govgate_migrations (id, name, sha256) VALUES ($1, $2, $3)', [m.id, m.name, m.sha256]);
      options.logger?.info({ migration: m.name, ms: Date.now() - started }, 'applied database migration');
      return true;
    });
    if (ran) applied.push(m.name);
    done = new Set([...done, m.id]);
  }

  const partitionsCreated = await ensurePartitions(db, { months: options.partitionMonths ?? DEFAULT_MONTHS_AHEAD });
  return { applied, version: all.at(-1)?.id ?? 0, partitionsCreated };
}

async function lock(tx: { query: Db['query'] }, schema: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))', [MIGRATE_LOCK_CLASS, schema]);
}

async function appliedIds(q: { query: Db['query'] }): Promise<Set<number>> {
  const { rows } = await q.query<{ id: number }>('SELECT id FROM govgate_migrations');
  return new Set(rows.map((r) => r.id));
}

export interface MigrationStatus {
  /** Highest applied migration number, 0 for an empty database. */
  readonly current: number;
  /** Highest migration number this build knows. */
  readonly expected: number;
  readonly pending: string[];
  /** Applied migrations this build does not know: the database was migrated by a newer release. */
  readonly unknown: number[];
  /** Applied migrations whose SQL differs from this build's: a released migration was edited. */
  readonly modified: string[];
  /** Nothing pending: safe to serve (what /readyz reports). */
  readonly ok: boolean;
}

export async function migrationStatus(db: Db, known: readonly MigrationSource[] = bundled): Promise<MigrationStatus> {
  const { rows: exists } = await db.query<{ t: string | null }>("SELECT to_regclass('govgate_migrations')::text AS t");
  const rows =
    exists[0]?.t == null
      ? []
      : (await db.query<{ id: number; sha256: string }>('SELECT id, sha256 FROM govgate_migrations ORDER BY id')).rows;
  const byId = new Map(rows.map((r) => [r.id, r.sha256]));
  const knownIds = new Set(known.map((m) => m.id));
  return {
    current: rows.reduce((max, r) => Math.max(max, r.id), 0),
    expected: known.at(-1)?.id ?? 0,
    pending: known.filter((m) => !byId.has(m.id)).map((m) => m.name),
    unknown: rows.filter((r) => !knownIds.has(r.id)).map((r) => r.id),
    modified: known.filter((m) => byId.has(m.id) && byId.get(m.id) !== m.sha256).map((m) => m.name),
    ok: known.every((m) => byId.has(m.id)),
  };
}

/** Throws GOVGATE_DB_NOT_MIGRATED unless every known migration is applied. */
export async function assertMigrated(db: Db): Promise<void> {
  const status = await migrationStatus(db);
  if (!status.ok) throw new GovgateError('GOVGATE_DB_NOT_MIGRATED', { found: status.current, expected: status.expected });
}
