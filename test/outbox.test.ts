/**
 * The outbox: entries written by ingest in the same transaction as the record version, claimed
 * with SKIP LOCKED, settled by the worker that holds the lease, coalesced per key, reclaimed after
 * a lease runs out. Runs on PGlite, and on a real PostgreSQL server when GOVGATE_TEST_DATABASE_URL
 * is set.
 */
import t from 'tap';
import { contentDigest } from '../src/schemas/canonical.js';
import type { Db } from '../src/store/db.js';
import { ingest, ingestMany, type IngestInput, type IngestRecordInput, type Router } from '../src/store/queries/ingest.js';
import { claimDue, outboxDepth, reclaimExpired, settle, type ClaimedEntry } from '../src/store/queries/outbox.js';
import { compileRoutes } from '../src/sync/routing.js';
import { backoffMs, idempotencyKeyOf } from '../src/sync/delivery.js';
import { testDb } from './helpers/db.js';

const A = '330100-SJ';
const B = '330100-GA';

function rec(index: number, key: string, dataVer: number, extra: Record<string, unknown> = {}, recordType = 'case'): IngestRecordInput {
  const content = { caseNo: key, dataVer, applicant: '张三', ...extra };
  return { index, recordType, businessKey: key, dataVer, status: 'accepted', content, digest: contentDigest(content) };
}

function payload(records: IngestRecordInput[], deptCode = A): IngestInput {
  return { deptCode, source: 'test', raw: { body: Buffer.from(JSON.stringify(records.map((r) => r.content))), contentType: 'application/json' }, records };
}

const toHall: Router = () => ['hall'];

async function rows(db: Db, sql: string): Promise<Record<string, unknown>[]> {
  return (await db.query<Record<string, unknown>>(sql)).rows;
}

const delivered = (e: ClaimedEntry) => ({ entry: e, kind: 'delivered' as const, outcome: 'new' as const, idempotencyKey: idempotencyKeyOf(e) });

t.test('ingest writes one outbox entry per destination with the version, in the same transaction', async (t) => {
  const db = await testDb(t);
  const route = compileRoutes(
    [{ destination: 'hall' }, { destination: 'province', recordTypes: ['case'], departments: [A] }, { destination: 'hall', recordTypes: ['case'] }],
    [{ name: 'hall', kind: 'standard', enabled: true, options: {} }, { name: 'province', kind: 'standard', enabled: true, options: {} }],
  )!;
  t.same(route(A, 'case', {}), ['hall', 'province'], 'a destination matched twice is listed once');
  t.same(route(B, 'case', {}), ['hall']);

  await ingest(db, payload([rec(0, 'K1', 1), rec(1, 'K2', 1)]), { route });
  await ingest(db, payload([rec(0, 'K9', 1)], B), { route });
  const entries = await rows(db, 'SELECT destination, dept_code, business_key, wanted_version, state FROM outbox ORDER BY destination, dept_code, business_key');
  t.same(entries, [
    { destination: 'hall', dept_code: B, business_key: 'K9', wanted_version: 1, state: 'pending' },
    { destination: 'hall', dept_code: A, business_key: 'K1', wanted_version: 1, state: 'pending' },
    { destination: 'hall', dept_code: A, business_key: 'K2', wanted_version: 1, state: 'pending' },
    { destination: 'province', dept_code: A, business_key: 'K1', wanted_version: 1, state: 'pending' },
    { destination: 'province', dept_code: A, business_key: 'K2', wanted_version: 1, state: 'pending' },
  ]);

  // An identical resend is `unchanged`: no new version, so nothing to forward again.
  await ingest(db, payload([rec(0, 'K1', 1)]), { route });
  t.equal((await rows(db, "SELECT count(*)::int AS n FROM outbox WHERE wanted_version > 1"))[0]!['n'], 0);

  // A hook that throws rolls everything back, outbox entries included.
  await t.rejects(ingest(db, payload([rec(0, 'K3', 1)]), { route, inTransaction: async () => { throw new Error('boom'); } }));
  t.equal((await rows(db, "SELECT count(*)::int AS n FROM outbox WHERE business_key = 'K3'"))[0]!['n'], 0, 'no entry without its record');
});

t.test('power items route by category', async (t) => {
  const route = compileRoutes([{ destination: 'hall', categories: ['01'] }], [{ name: 'hall', kind: 'standard', enabled: true, options: {} }])!;
  t.same(route(A, 'powerItem', { category: '01' }), ['hall']);
  t.same(route(A, 'powerItem', { category: '02' }), []);
  t.same(route(A, 'case', {}), ['hall'], 'categories do not filter cases');
  t.throws(() => compileRoutes([{ destination: 'nowhere' }], []), { code: 'GOVGATE_CONFIG_INVALID' });
  t.equal(compileRoutes([], []), undefined, 'no routes: nothing is forwarded');
});

t.test('versions coalesce per key: the same key twice in one group, and a version arriving while queued', async (t) => {
  const db = await testDb(t);
  await ingestMany(db, [payload([rec(0, 'K1', 1)]), payload([rec(0, 'K1', 2, { step: 2 })])], { route: toHall });
  let entries = await rows(db, 'SELECT wanted_version, state FROM outbox');
  t.same(entries, [{ wanted_version: 2, state: 'pending' }], 'one entry, the newer version');

  await ingest(db, payload([rec(0, 'K1', 3, { step: 3 })]), { route: toHall });
  entries = await rows(db, 'SELECT wanted_version, state FROM outbox');
  t.same(entries, [{ wanted_version: 3, state: 'pending' }]);

  const claimed = await claimDue(db, 'hall', 10, 60, 'w1');
  t.equal(claimed.length, 1);
  t.equal(claimed[0]!.version, 3, 'only the newest version is sent');
  t.equal((JSON.parse(claimed[0]!.contentJson) as { step?: number }).step, 3, 'with its content');
});

t.test('a version arriving while its predecessor is in flight waits, then goes next', async (t) => {
  const db = await testDb(t);
  await ingest(db, payload([rec(0, 'K1', 1)]), { route: toHall });
  const [first] = await claimDue(db, 'hall', 10, 60, 'w1');
  t.equal(first!.version, 1);

  await ingest(db, payload([rec(0, 'K1', 2, { more: true })]), { route: toHall });
  t.same(await claimDue(db, 'hall', 10, 60, 'w2'), [], 'the key is in flight: version 2 is not claimable beside it');

  const res = await settle(db, 'w1', [delivered(first!)]);
  t.same(res, { settled: 1, delivered: 1, dead: 0, superseded: 0 });
  const [second] = await claimDue(db, 'hall', 10, 60, 'w2');
  t.equal(second!.version, 2, 'due again at once with the newer version');
  await settle(db, 'w2', [delivered(second!)]);
  t.same(await rows(db, 'SELECT state, settled_version FROM outbox'), [{ state: 'done', settled_version: 2 }]);
  t.same(await rows(db, 'SELECT version, outcome, idempotency_key FROM deliveries ORDER BY version'), [
    { version: 1, outcome: 'new', idempotency_key: `${A}:case:1:K1` },
    { version: 2, outcome: 'new', idempotency_key: `${A}:case:2:K1` },
  ]);
});

t.test('claims do not overlap, and a settle by a worker whose lease was taken over is ignored', async (t) => {
  const db = await testDb(t);
  await ingest(db, payload(Array.from({ length: 10 }, (_, i) => rec(i, `K${i}`, 1))), { route: toHall });
  const [a, b] = await Promise.all([claimDue(db, 'hall', 6, 60, 'wa'), claimDue(db, 'hall', 6, 60, 'wb')]);
  const ids = [...a, ...b].map((e) => e.entryId);
  t.equal(ids.length, 10);
  t.equal(new Set(ids).size, 10, 'no entry claimed twice');

  // wa's lease runs out (killed worker); the reaper makes its entries due again; wc takes them.
  await db.query("UPDATE outbox SET lease_until = now() - interval '1 second' WHERE leased_by = 'wa'");
  t.equal(await reclaimExpired(db), a.length);
  const c = await claimDue(db, 'hall', 20, 60, 'wc');
  t.equal(c.length, a.length);
  t.equal(c[0]!.attempts, 2, 'the lost attempt counts');

  const late = await settle(db, 'wa', a.map(delivered));
  t.equal(late.settled, 0, 'the old worker answering late changes nothing');
  const now = await settle(db, 'wc', c.map(delivered));
  t.equal(now.delivered, a.length);
  t.equal((await rows(db, 'SELECT count(*)::int AS n FROM deliveries'))[0]!['n'], a.length, 'each acknowledgement logged once');
});

t.test('retry, dead letter and release', async (t) => {
  const db = await testDb(t);
  await ingest(db, payload([rec(0, 'R', 1), rec(1, 'D', 1), rec(2, 'L', 1)]), { route: toHall });
  const claimed = await claimDue(db, 'hall', 10, 60, 'w');
  const by = (k: string) => claimed.find((e) => e.businessKey === k)!;
  const later = new Date(Date.now() + 60_000);
  await settle(db, 'w', [
    { entry: by('R'), kind: 'retry', nextAttemptAt: later, reason: { code: 'HTTP_503' } },
    { entry: by('D'), kind: 'dead', cause: 'rejected', reason: { code: 'HALL_REJECTED' }, answer: { status: 200 } },
    { entry: by('L'), kind: 'release', nextAttemptAt: new Date() },
  ]);
  const state = await rows(db, 'SELECT business_key, state, attempts, (first_failed_at IS NOT NULL) AS failing, settled_version FROM outbox ORDER BY business_key');
  t.same(state, [
    { business_key: 'D', state: 'done', attempts: 0, failing: false, settled_version: 1 },
    { business_key: 'L', state: 'pending', attempts: 0, failing: false, settled_version: null },
    { business_key: 'R', state: 'pending', attempts: 1, failing: true, settled_version: null },
  ]);
  const again = await claimDue(db, 'hall', 10, 60, 'w');
  t.same(again.map((e) => e.businessKey), ['L'], 'the retry waits for its time; the released entry is due now');
  t.same(await rows(db, "SELECT business_key, version, cause, reason->>'code' AS code, state FROM dead_letters"), [
    { business_key: 'D', version: 1, cause: 'rejected', code: 'HALL_REJECTED', state: 'open' },
  ]);
  const depth = await outboxDepth(db);
  t.equal(depth[0]!.destination, 'hall');
  t.equal(depth[0]!.pending + depth[0]!.leased, 2);

  // A newer version delivered supersedes the older dead letter.
  await settle(db, 'w', again.map(delivered));
  await ingest(db, payload([rec(0, 'D', 2, { fixed: true })]), { route: toHall });
  const [d2] = await claimDue(db, 'hall', 10, 60, 'w');
  t.equal(d2!.version, 2);
  const res = await settle(db, 'w', [delivered(d2!)]);
  t.equal(res.superseded, 1);
  t.same(await rows(db, 'SELECT state, resolved_by FROM dead_letters'), [{ state: 'superseded', resolved_by: 'gateway' }]);
});

t.test('backoff grows exponentially with jitter and stays within its cap', async (t) => {
  t.equal(backoffMs(1, 1000, 300_000, () => 0), 500);
  t.equal(backoffMs(1, 1000, 300_000, () => 1), 1000);
  t.equal(backoffMs(4, 1000, 300_000, () => 1), 8000);
  t.equal(backoffMs(50, 1000, 300_000, () => 1), 300_000, 'capped');
  t.equal(backoffMs(50, 1000, 300_000, () => 0), 150_000, 'never bunched at zero');
});

t.test('the config refuses a request timeout the lease does not outlast, and unknown destinations', async (t) => {
  const { loadConfig } = await import('../src/config/load.js');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'govgate-fwd-config-'));
  const write = (text: string) => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    return file;
  };
  const dest = 'destinations:\n  - name: hall\n    kind: standard\n    options:\n      url: http://127.0.0.1:9/\n      keyId: k1\n      secret: 0123456789abcdef0123456789abcdef\n';
  const ok = loadConfig({ file: write(dest), env: {} });
  t.equal(ok.destinations[0]!.options['timeoutMs'], 30_000, 'the kind\'s defaults are filled in');
  t.throws(() => loadConfig({ file: write(`${dest}      timeoutMs: 90000\n`), env: {} }), { code: 'GOVGATE_CONFIG_INVALID', details: { path: 'destinations[0].options.timeoutMs', line: 8 } });
  t.throws(() => loadConfig({ file: write(`${dest}routes:\n  - destination: hal\n`), env: {} }), { code: 'GOVGATE_CONFIG_INVALID', details: { path: 'routes[0].destination' } });
  t.throws(() => loadConfig({ file: write(dest.replace('kind: standard', 'kind: carrier-pigeon')), env: {} }), { code: 'GOVGATE_CONFIG_INVALID', details: { path: 'destinations[0].kind' } });
  t.throws(() => loadConfig({ file: write(dest.replace('      secret: 0123456789abcdef0123456789abcdef\n', '      secretEnv: NOT_SET_ANYWHERE\n')), env: {} }), { code: 'GOVGATE_CONFIG_INVALID', details: { path: 'destinations[0].options.secretEnv' } });
  // Each destination is checked on its own: a mistake in the first does not hide one in the second.
  const second = dest.replace('destinations:\n', '').replace('name: hall', 'name: province').replace('      secret: 0123456789abcdef0123456789abcdef\n', '      secretEnv: NOT_SET_ANYWHERE\n');
  try {
    loadConfig({ file: write(`${dest.replace('kind: standard', 'kind: carrier-pigeon')}${second}`), env: {} });
    t.fail('expected an error');
  } catch (err) {
    const paths = ((err as { details: { problems: { path: string }[] } }).details.problems).map((p) => p.path);
    t.same(paths, ['destinations[0].kind', 'destinations[1].options.secretEnv']);
  }
});

t.test('claims and settles are planned on every run, never from a plan cached while the tables were empty', async (t) => {
  // One connection, so the session that ran the claims is the one asked. A named (prepared)
  // statement would sit in pg_prepared_statements, and after five runs on empty tables its cached
  // generic plan scans outbox and records sequentially for as long as the connection lives.
  const db = await testDb(t, { poolSize: 1 });
  for (let i = 0; i < 8; i++) await claimDue(db, 'hall', 50, 60, 'w1');
  await ingest(db, payload([rec(0, 'P1', 1)]), { route: toHall });
  const [entry] = await claimDue(db, 'hall', 50, 60, 'w1');
  t.ok(entry, 'claimed');
  for (let i = 0; i < 6; i++) await settle(db, 'w1', i === 0 ? [delivered(entry!)] : []);
  const cached = await rows(db, "SELECT name FROM pg_prepared_statements WHERE statement LIKE '%leased%' OR statement LIKE '%json_to_recordset($1::json) AS x(id bigint%'");
  t.same(cached, [], 'no prepared claim or settle statement on the session');
});
