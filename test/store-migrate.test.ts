/** Migrations (forward-only, one transaction each, under an advisory lock) and monthly partitions. */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDb } from '../src/store/db.js';
import { assertMigrated, migrate, migrationStatus } from '../src/store/migrate.js';
import { migrations } from '../src/store/migrations.generated.js';
import { ensurePartitions, partitionMonth } from '../src/store/partitions.js';
import { ingest } from '../src/store/queries/ingest.js';
import { engineName, onServer, newSchemaName, TEST_DATABASE_URL, testDb } from './helpers/db.js';

const root = fileURLToPath(new URL('../', import.meta.url));

t.test('the generated migrations module matches the .sql files', async (t) => {
  const r = spawnSync(process.execPath, ['scripts/build-sql.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr || 'fresh');
  t.ok(migrations.length >= 1);
  t.same(migrations.map((m) => m.id), migrations.map((_, i) => i + 1), 'numbered 1, 2, 3 … without gaps');
});

t.test(`migrate is idempotent and reports status (${engineName})`, async (t) => {
  const db = await testDb(t, { migrate: false });
  const before = await migrationStatus(db);
  t.same([before.ok, before.current, before.pending], [false, 0, migrations.map((m) => m.name)]);
  await t.rejects(assertMigrated(db), { code: 'GOVGATE_DB_NOT_MIGRATED' });

  const first = await migrate(db);
  t.same(first.applied, migrations.map((m) => m.name));
  t.equal(first.partitionsCreated, 15, 'this month and the next two, for five tables');
  const second = await migrate(db);
  t.same([second.applied, second.partitionsCreated], [[], 0], 'nothing to do the second time');

  const after = await migrationStatus(db);
  t.same([after.ok, after.current, after.expected, after.pending, after.unknown, after.modified], [true, migrations.length, migrations.length, [], [], []]);
  await assertMigrated(db);

  const edited = migrations.map((m) => (m.id === 1 ? { ...m, sha256: '0'.repeat(64) } : m));
  t.same((await migrationStatus(db, edited)).modified, ['0001_init'], 'an edited released migration is reported');
  t.same((await migrationStatus(db, [])).unknown, migrations.map((m) => m.id), 'a database ahead of this build is reported');
});

t.test('a failing migration rolls back whole and is not recorded', async (t) => {
  const db = await testDb(t, { migrate: false });
  const bad = [...migrations, { id: migrations.length + 1, name: '9999_bad', sha256: 'x', sql: 'CREATE TABLE half_done (a int); SELECT 1/0;' }];
  await t.rejects(migrate(db, { migrations: bad }), { code: '22012' });
  const status = await migrationStatus(db, bad);
  t.same([status.current, status.pending], [migrations.length, ['9999_bad']], 'the good ones stay applied');
  const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('half_done')::text AS t");
  t.equal(rows[0]!.t, null, 'nothing of the failed migration remains');
});

t.test('two instances migrating at once apply each migration once', async (t) => {
  if (!onServer) {
    // One PGlite, two concurrent callers: still exactly once.
    const db = await testDb(t, { migrate: false });
    const [a, b] = await Promise.all([migrate(db), migrate(db)]);
    t.same([...a.applied, ...b.applied], migrations.map((m) => m.name));
    return;
  }
  const schema = newSchemaName();
  const a = await testDb(t, { migrate: false, schema });
  const b = await testDb(t, { migrate: false, schema });
  t.teardown(() => openDb({ url: TEST_DATABASE_URL!, schema }).then(async (d) => {
    await d.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await d.close();
  }));
  const results = await Promise.all([migrate(a), migrate(b), migrate(a), migrate(b)]);
  // Each migration takes the lock on its own, so the callers may share the work in any order.
  t.same(results.flatMap((r) => r.applied).sort(), migrations.map((m) => m.name), 'applied once between them');
  const { rows } = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM govgate_migrations');
  t.equal(rows[0]!.n, migrations.length);
});

t.test('migrate waits for the advisory lock held by another migrator', { skip: !onServer && 'needs two connections' }, async (t) => {
  const db = await testDb(t, { migrate: false });
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(6778742, hashtext($1::text))', [db.schema]);
    locked();
    await held;
  });
  await isLocked;
  let finished = false;
  const run = migrate(db).then((r) => ((finished = true), r));
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(finished, 'blocked while the lock is held');
  t.notOk((await migrationStatus(db)).ok);
  release();
  await holder;
  t.same((await run).applied, migrations.map((m) => m.name));
});

t.test('partitions: China Standard Time months, created ahead and on demand', async (t) => {
  t.equal(partitionMonth(new Date('2026-11-30T15:59:59.999Z')), '2026-11-01');
  t.equal(partitionMonth(new Date('2026-11-30T16:00:00.000Z')), '2026-12-01', 'midnight in Beijing starts December');
  t.equal(partitionMonth(new Date('2026-12-31T16:00:00.000Z')), '2027-01-01');

  const db = await testDb(t);
  const { rows } = await db.query<{ name: string }>(
    "SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'raw_inbox'::regclass ORDER BY 1",
  );
  t.ok(rows.some((r) => r.name === `raw_inbox_y${partitionMonth(new Date()).slice(0, 7).replace('-', 'm')}`), 'this month exists');
  t.equal(await ensurePartitions(db), 0, 'idempotent');

  // A payload received in a month nobody prepared for still goes in, into its own partition.
  const at = new Date('2031-04-30T16:30:00Z'); // 2031-05-01 00:30 in Beijing
  const res = await ingest(db, {
    deptCode: 'D', source: 'file-drop', receivedAt: at,
    raw: { body: Buffer.from('{}'), contentType: 'application/json' },
    records: [{ index: 0, recordType: 'case', businessKey: 'K', dataVer: 1, status: 'accepted', content: { k: 1 } }],
  });
  const where = async (table: string, col = 'received_at') =>
    (await db.query<{ p: string }>(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE ${col} = $1::timestamptz`, [at.toISOString()])).rows[0]?.p;
  t.equal(await where('raw_inbox'), 'raw_inbox_y2031m05');
  t.equal(await where('records'), 'records_y2031m05');
  t.equal(await where('receipts', 'created_at'), 'receipts_y2031m05');
  t.equal(res.receipt.receivedAt, at.toISOString());
  const { rows: bounds } = await db.query<{ b: string }>(
    "SELECT pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_class c WHERE c.relname = 'raw_inbox_y2031m05'",
  );
  t.match(bounds[0]!.b, /2031-04-30 16:00:00\+00|2031-05-01 00:00:00\+08/, 'the month starts at midnight Beijing time');
});

t.test('raw bodies and receipts: lz4 on every partition, present and future, where the server has it', async (t) => {
  const db = await testDb(t);
  const compression = async () => (await db.query<{ t: string; c: string }>(
    `SELECT a.attrelid::regclass::text AS t, a.attcompression AS c FROM pg_attribute a
     WHERE a.attname = 'body' AND (a.attrelid IN ('raw_inbox'::regclass, 'receipts'::regclass)
       OR a.attrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent IN ('raw_inbox'::regclass, 'receipts'::regclass)))`,
  )).rows;
  await ensurePartitions(db, { from: new Date('2033-01-15T00:00:00Z'), months: 1 });
  const rows = await compression();
  t.ok(rows.some((r) => r.t.endsWith('raw_inbox_y2033m01')), 'a partition created after the migration is among them');
  // PGlite is built without lz4: the migration keeps pglz there (attcompression '' = the default).
  const expected = onServer ? 'l' : '';
  t.same(rows.filter((r) => r.c !== expected), [], `every body column is ${onServer ? 'lz4' : 'left at the default'}`);
  const { rows: types } = await db.query<{ t: string }>(
    "SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'records'::regclass AND attname = 'content'");
  t.equal(types[0]!.t, 'json', 'record contents are kept as written (json)');
});
