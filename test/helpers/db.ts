/**
 * A fresh, isolated database per call, torn down with the test that asked for it.
 *
 * - Default: an in-memory PGlite, opened from a snapshot taken once per test process (initdb plus
 *   migrations cost ~3 s; a copy from the snapshot ~0.6 s).
 * - With GOVGATE_TEST_DATABASE_URL set (e.g. postgres://postgres@127.0.0.1:5432/postgres): a new
 *   schema `gg_test_<random>` on that server, dropped afterwards — the real engine, with real
 *   concurrency, and no interference between test files running in parallel.
 */
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

export const TEST_DATABASE_URL = process.env.GOVGATE_TEST_DATABASE_URL || undefined;
export const onServer = TEST_DATABASE_URL !== undefined;
export const engineName = onServer ? 'postgres' : 'pglite';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestDbOptions {
  /** @defaultValue true */
  migrate?: boolean;
  /** Server mode only: reuse this schema name (to open a second Db on the same schema). */
  schema?: string;
  poolSize?: number;
}

const snapshots = new Map<boolean, Promise<Blob>>();

function pgliteSnapshot(migrated: boolean): Promise<Blob> {
  let snap = snapshots.get(migrated);
  if (!snap) {
    snap = (async () => {
      const db = await openDb({});
      try {
        if (migrated) await migrate(db);
        return await db.snapshot!();
      } finally {
        await db.close();
      }
    })();
    snapshots.set(migrated, snap);
  }
  return snap;
}

export function newSchemaName(): string {
  return `gg_test_${randomBytes(6).toString('hex')}`;
}

export async function testDb(t: Teardown, options: TestDbOptions = {}): Promise<Db> {
  const wantMigrated = options.migrate ?? true;
  if (TEST_DATABASE_URL === undefined) {
    const db = await openDb({ pgliteSnapshot: await pgliteSnapshot(wantMigrated) });
    t.teardown(() => db.close());
    return db;
  }
  const schema = options.schema ?? newSchemaName();
  const db = await openDb({ url: TEST_DATABASE_URL, schema, poolSize: options.poolSize ?? 10 });
  t.teardown(async () => {
    // `<schema>_hallsim` is where a demo-mode gateway on this schema keeps its embedded hall simulator.
    if (options.schema === undefined) await db.exec(`DROP SCHEMA IF EXISTS ${schema}, ${schema}_hallsim CASCADE`).catch(() => undefined);
    await db.close();
  });
  if (wantMigrated) await migrate(db);
  return db;
}
