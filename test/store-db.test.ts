/** openDb: the two engines behave alike, secrets never leak, unsafe servers are refused. */
import t from 'tap';
import { inspect } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../src/store/migrate.js';
import { ingest } from '../src/store/queries/ingest.js';
import { getReceipt } from '../src/store/queries/receipts.js';
import { verifyChain } from '../src/store/queries/verify-chain.js';
import { GovgateError } from '../src/errors.js';
import { openDb, redactUrl, sanitizeError, type StoreLogger } from '../src/store/db.js';
import { pgJson } from '../src/store/queries/json.js';
import { engineName, onServer, TEST_DATABASE_URL, testDb } from './helpers/db.js';

const SECRET = 'S3cr3t-Pa55w0rd';

/** Everything a log line or an error report could show of an error. */
function everything(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  return [String(e), e.stack ?? '', inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e), inspect(e.cause, { depth: 10, showHidden: true })].join('\n');
}

function recorder(): StoreLogger & { lines: Array<{ level: string; obj: object; msg?: string }> } {
  const lines: Array<{ level: string; obj: object; msg?: string }> = [];
  const log = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, ...(msg === undefined ? {} : { msg }) });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

t.test('redactUrl hides the password in every spelling', async (t) => {
  t.equal(redactUrl(`postgres://govgate:${SECRET}@db:5432/govgate`), 'postgres://govgate:***@db:5432/govgate');
  t.equal(redactUrl(`postgresql://u:${encodeURIComponent('p@ss:/w')}@h/d`), 'postgresql://u:***@h/d');
  t.equal(redactUrl(`postgres://h/d?user=u&password=${SECRET}&sslmode=require`), 'postgres://h/d?user=u&password=***&sslmode=require');
  t.equal(redactUrl('postgres://h/d'), 'postgres://h/d');
});

t.test('an invalid URL is refused without echoing the password', async (t) => {
  for (const url of [`postgres://u:${SECRET}@[bad-host/db`, `mysql://u:${SECRET}@h/db`]) {
    const err = await openDb({ url }).then(() => undefined, (e: unknown) => e);
    t.ok(err instanceof GovgateError && err.code === 'GOVGATE_DB_URL_INVALID', url.split(':')[0]!);
    t.notMatch(everything(err), SECRET);
  }
});

t.test('an unreachable server is GOVGATE_DB_UNAVAILABLE, and no error or log line carries the password', async (t) => {
  const logger = recorder();
  const err = await openDb({ url: `postgres://govgate:${SECRET}@127.0.0.1:1/govgate`, logger, connectTimeoutMs: 2000 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof GovgateError, 'a GovgateError');
  t.equal((err as GovgateError).code, 'GOVGATE_DB_UNAVAILABLE');
  t.equal((err as GovgateError).statusCode, 503);
  t.notMatch(everything(err), SECRET);
  t.notMatch(inspect(logger.lines, { depth: 10 }), SECRET);
});

t.test('sanitizeError keeps the useful fields and drops everything else', async (t) => {
  const raw = Object.assign(new Error(`connect failed for password ${SECRET}`), {
    code: '28P01', detail: `pw=${SECRET}`, table: 'raw_inbox', client: { password: SECRET, connectionParameters: { password: SECRET } },
  });
  const clean = sanitizeError(raw, [SECRET]);
  t.equal(clean.code, '28P01');
  t.equal(clean.table, 'raw_inbox');
  t.equal(clean.message, 'connect failed for password ***');
  t.notMatch(everything(clean), SECRET);
});

t.test('a server that could lose acknowledged commits is refused', { skip: !onServer && 'needs a real server' }, async (t) => {
  const url = new URL(TEST_DATABASE_URL!);
  url.searchParams.set('options', '-c synchronous_commit=off');
  const err = await openDb({ url: url.toString() }).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof GovgateError);
  t.equal((err as GovgateError).code, 'GOVGATE_DB_UNSAFE_SETTING');
  t.same((err as GovgateError).details, { setting: 'synchronous_commit', found: 'off', expected: 'on' });
  // A URL's own options are kept, and search_path is added to them.
  url.searchParams.set('options', '-c statement_timeout=12345');
  const db = await openDb({ url: url.toString(), schema: 'gg_opt_probe' });
  t.teardown(() => db.close());
  const { rows } = await db.query<{ st: string; sp: string }>("SELECT current_setting('statement_timeout') AS st, current_setting('search_path') AS sp");
  t.same(rows[0], { st: '12345ms', sp: 'gg_opt_probe' });
});

t.test('a server without autovacuum is used, with a warning that says what it costs', { skip: !onServer && 'needs a real server' }, async (t) => {
  const logger = recorder();
  const db = await openDb({ url: TEST_DATABASE_URL!, schema: 'gg_autovacuum_probe', logger });
  t.teardown(() => db.close());
  // autovacuum cannot be set per session, so the test follows the server it is given (this
  // project's CI server runs with it off).
  const { rows } = await db.query<{ on: string }>("SELECT current_setting('autovacuum') AS on");
  const warned = logger.lines.filter((l) => l.level === 'warn' && /autovacuum is off/.test(l.msg ?? ''));
  t.equal(warned.length, rows[0]!.on === 'off' ? 1 : 0, `autovacuum is ${rows[0]!.on}`);
});

t.test('PGlite warns at open that it is not durable', async (t) => {
  const logger = recorder();
  const db = await openDb({ logger });
  t.teardown(() => db.close());
  t.equal(db.engine, 'pglite');
  t.equal(logger.lines.length, 1);
  t.equal(logger.lines[0]!.level, 'warn');
  t.match(logger.lines[0]!.msg, /no fsync.*demos, tests and trials only/);
});

t.test('PGlite in a data directory keeps its data across restarts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-pglite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let db = await openDb({ dataDir: dir, schema: 'govgate' });
  await migrate(db);
  const res = await ingest(db, {
    deptCode: 'D1', source: 'file-drop', raw: { body: Buffer.from('<r/>'), contentType: 'application/xml' },
    records: [{ index: 0, recordType: 'case', businessKey: 'K1', dataVer: 1, status: 'accepted', content: { k: 'K1' } }],
  });
  await db.close();
  db = await openDb({ dataDir: dir, schema: 'govgate' });
  t.teardown(() => db.close());
  t.same((await migrate(db)).applied, [], 'already migrated');
  t.same(await getReceipt(db, res.receipt.receiptId, 'D1'), res.receipt);
  t.same((await verifyChain(db)).map((r) => [r.dept, r.ok, r.entries]), [['D1', true, 1]]);
});

t.test('schema names are plain identifiers', async (t) => {
  for (const schema of ['Bad', 'a-b', 'x; DROP TABLE y', '', 'a'.repeat(64)]) {
    await t.rejects(openDb({ schema }), TypeError, JSON.stringify(schema));
  }
});

t.test(`both engines return the same JS types (${engineName})`, async (t) => {
  const db = await testDb(t, { migrate: false });
  const { rows } = await db.query<{ i8: unknown; i4: unknown; b: unknown; ts: unknown; j: unknown; n: unknown }>(
    "SELECT 9007199254740991::int8 AS i8, 7::int4 AS i4, '\\x00ff'::bytea AS b, '2026-01-02T03:04:05.678Z'::timestamptz AS ts, '{\"a\":[1]}'::jsonb AS j, NULL::text AS n",
  );
  const r = rows[0]!;
  t.equal(r.i8, 9007199254740991);
  t.equal(r.i4, 7);
  t.ok(r.b instanceof Uint8Array);
  t.same([...(r.b as Uint8Array)], [0, 255]);
  t.ok(r.ts instanceof Date);
  t.equal((r.ts as Date).toISOString(), '2026-01-02T03:04:05.678Z');
  t.same(r.j, { a: [1] });
  t.equal(r.n, null);
  const { rowCount } = await db.query('SELECT generate_series(1, 3)');
  t.equal(rowCount, 3);
});

t.test('a transaction handle is dead once its transaction ends; errors roll back', async (t) => {
  const db = await testDb(t, { migrate: false });
  let kept: { query: (s: string) => Promise<unknown> } | undefined;
  await db.transaction(async (tx) => {
    kept = tx;
    await tx.query('SELECT 1');
  });
  await t.rejects(kept!.query('SELECT 1'), /transaction ended/);
  await db.exec(`CREATE SCHEMA IF NOT EXISTS ${db.schema}; CREATE TABLE tx_probe (a int)`);
  await t.rejects(db.transaction(async (tx) => {
    await tx.query('INSERT INTO tx_probe VALUES (1)');
    await tx.query('SELECT * FROM no_such_table');
  }), { code: '42P01' });
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM tx_probe');
  t.equal(rows[0]!.n, 0);
  await db.exec('DROP TABLE tx_probe');
});

t.test('pgJson makes text jsonb accepts', async (t) => {
  t.equal(pgJson({ a: 'x\u0000y', ['k\ud800']: ['\udc00', '😀'] }), '{"a":"x\ufffdy","k\ufffd":["\ufffd","😀"]}');
  t.equal(pgJson({ a: 'plain' }), '{"a":"plain"}');
  t.equal(pgJson('\\u0000 literal'), '"\\\\u0000 literal"', 'an escaped backslash is left alone');
  const db = await testDb(t, { migrate: false });
  const { rows } = await db.query<{ j: unknown }>('SELECT $1::jsonb AS j', [pgJson({ ['__proto__']: 'x\u0000' })]);
  t.same(Object.keys(rows[0]!.j as object), ['__proto__']);
});
