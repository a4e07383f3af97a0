/**
 * The admin API over real HTTP: authentication, dead letters (list, show, re-drive, jobs),
 * destinations (list, pause, resume, check), input checking, and one run end to end — a department
 * pushes, the engine forwards to a real hall simulator that refuses a record, an operator re-drives
 * it through the API once the hall is fixed, and the hall gets it.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { loadDepartments } from '../src/config/departments.js';
import type { Config, DestinationConfig } from '../src/config/schema.js';
import { buildApp } from '../src/http/app.js';
import { adminRoutes, createRedriveRunner, type AdminDeps } from '../src/http/admin.js';
import { createPushStore } from '../src/store/push-store.js';
import { createValidator } from '../src/schemas/validate.js';
import { compileRoutes } from '../src/sync/routing.js';
import { createDeliveryEngine } from '../src/sync/delivery.js';
import { createDestinations } from '../src/adapters/index.js';
import { startHallSim, HALL_DEMO_KEY } from '../src/hall-sim/index.js';
import { GovgateClient } from '../src/client/index.js';
import { claimDue } from '../src/store/queries/outbox.js';
import type { Db } from '../src/store/db.js';
import { testDb, type Teardown } from './helpers/db.js';
import { DEPT_A, DEPT_B, makeDeadLetters, one, store } from './helpers/dead-letters.js';
import { batch, caseRecord, DEPT, DEPT_KEY } from './helpers/forwarding.js';

const departmentsDir = fileURLToPath(new URL('../config/departments/', import.meta.url));
const TOKEN = 'admin-token-for-tests-0123456789abcdef';
const HALL: DestinationConfig = { name: 'hall', kind: 'standard', enabled: true, options: {} };
const PROVINCE: DestinationConfig = { name: 'province', kind: 'standard', enabled: false, options: {} };

interface Api {
  readonly url: string;
  readonly db: Db;
  call(method: string, path: string, options?: { body?: unknown; token?: string | null; raw?: string }): Promise<{ status: number; body: any }>;
}

async function api(t: Teardown, options: { tokens?: string[]; deps?: Partial<AdminDeps>; db?: Db; config?: Partial<Config> } = {}): Promise<Api> {
  const base = loadConfig({ env: {} });
  const config: Config = { ...base, admin: { tokens: options.tokens ?? [TOKEN] }, ...options.config };
  const db = options.db ?? await testDb(t);
  const app = await buildApp({
    config, departments: loadDepartments(departmentsDir, {}, { allowInlineSecrets: true }), validator: createValidator(), store: createPushStore(db),
    plugins: [adminRoutes({ db, destinations: [HALL, PROVINCE], ...options.deps })],
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return {
    url, db,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = {};
      const token = o.token === undefined ? TOKEN : o.token;
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      let body: string | undefined;
      if (o.raw !== undefined) body = o.raw;
      else if (o.body !== undefined) body = JSON.stringify(o.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${url}/admin/v1${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
    },
  };
}

t.test('every route needs the admin token: none → 401, wrong → 401, right → 200; no tokens configured → off', async (t) => {
  const a = await api(t);
  const routes: Array<[string, string]> = [
    ['GET', '/dead-letters'], ['GET', '/dead-letters/1'], ['POST', '/dead-letters/1/redrive'], ['POST', '/redrive-jobs'], ['GET', '/redrive-jobs'],
    ['GET', '/redrive-jobs/1'], ['POST', '/redrive-jobs/1/pause'], ['POST', '/redrive-jobs/1/resume'], ['GET', '/destinations'],
    ['POST', '/destinations/hall/pause'], ['POST', '/destinations/hall/resume'], ['POST', '/destinations/hall/check'],
  ];
  for (const [m, p] of routes) {
    const none = await a.call(m, p, { token: null });
    t.equal(none.status, 401, `${m} ${p} without a token`);
    t.equal(none.body.code, 'GOVGATE_ADMIN_AUTH_REQUIRED');
    const wrong = await a.call(m, p, { token: 'not-the-token-not-the-token-000000' });
    t.equal(wrong.status, 401, `${m} ${p} with a wrong token`);
    t.match(wrong.body.message, { zh: /令牌无效/, en: /the token is not valid/ });
  }
  t.equal((await a.call('GET', '/dead-letters')).status, 200);
  t.equal((await a.call('GET', '/destinations')).status, 200);
  t.equal((await a.call('GET', '/dead-letters/1')).status, 404, 'authenticated, then not found');

  const off = await api(t, { tokens: [] });
  const r = await off.call('GET', '/dead-letters');
  t.equal(r.status, 401);
  t.match(r.body.message.en, /admin\.tokens is not configured/);
});

t.test('dead letters: list with filters and pages, show with the raw payload, re-drive one, 409 when not open', async (t) => {
  const a = await api(t);
  await makeDeadLetters(a.db, [{ key: 'A1' }, { key: 'A2', gbk: true }, { key: 'A3', code: 'ITEM_UNKNOWN' }, { key: 'B1', dept: DEPT_B }, { key: 'X1', cause: 'exhausted', code: 'HTTP_503' }]);

  let r = await a.call('GET', '/dead-letters');
  t.equal(r.status, 200);
  t.equal(r.body.count, 5);
  t.equal(r.body.next, null);
  const ids: number[] = r.body.items.map((d: { id: number }) => d.id);
  t.match(r.body.items[0], { businessKey: 'A1', destination: 'hall', deptCode: DEPT_A, recordType: 'case', version: 1, cause: 'rejected', state: 'open', attempts: 1, resolvedAt: null, reason: { code: 'HALL_REJECTED' } });
  t.match(r.body.items[0].createdAt, /^\d{4}-\d{2}-\d{2}T.*Z$/);

  r = await a.call('GET', `/dead-letters?deptCode=${DEPT_A}&cause=rejected&limit=1`);
  t.same([r.body.count, r.body.items.length, r.body.next], [3, 1, ids[0]]);
  r = await a.call('GET', `/dead-letters?deptCode=${DEPT_A}&cause=rejected&limit=2&after=${ids[0]}`);
  t.same(r.body.items.map((d: { businessKey: string }) => d.businessKey), ['A2', 'A3']);
  r = await a.call('GET', '/dead-letters?reasonCode=HTTP_503');
  t.same(r.body.items.map((d: { businessKey: string }) => d.businessKey), ['X1']);
  r = await a.call('GET', '/dead-letters?order=desc&limit=2');
  t.same(r.body.items.map((d: { id: number }) => d.id), [ids[4], ids[3]]);
  r = await a.call('GET', `/dead-letters?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
  t.same([r.body.count, r.body.items], [0, []]);

  r = await a.call('GET', `/dead-letters/${ids[1]}`);
  t.equal(r.status, 200);
  t.match(r.body, {
    deadLetter: { id: ids[1], businessKey: 'A2' },
    record: { version: 1, dataVer: 1, content: { caseNo: 'A2' }, recordIndex: 0 },
    raw: { declaredEncoding: 'gbk', textEncoding: 'gb18030', contentType: 'application/xml; charset=GBK' },
    entry: { state: 'done', wantedVersion: 1, settledVersion: 1, lastError: { code: 'HALL_REJECTED' } },
    redrives: [],
  });
  t.match(r.body.raw.text, /<applicant>张三<\/applicant>/);
  t.equal(Buffer.from(r.body.raw.body, 'base64').length, r.body.raw.size);
  t.match(r.body.raw.sha256, /^[0-9a-f]{64}$/);

  r = await a.call('POST', `/dead-letters/${ids[0]}/redrive`);
  t.equal(r.status, 200);
  t.match(r.body, { deadLetterId: ids[0], result: 'requeued', redrive: { actor: /^admin:[0-9a-f]{8}$/, result: 'requeued', jobId: null }, entry: { state: 'pending', attempts: 0 } });
  const actor = r.body.redrive.actor;
  t.match(await one(a.db, 'SELECT state, resolved_by FROM dead_letters WHERE id = $1', [ids[0]]), { state: 'redriven', resolved_by: actor });
  const [claimed] = await claimDue(a.db, 'hall', 10, 60, 'w');
  t.equal(claimed!.businessKey, 'A1', 'due now');

  r = await a.call('POST', `/dead-letters/${ids[0]}/redrive`);
  t.equal(r.status, 409);
  t.equal(r.body.code, 'GOVGATE_DEADLETTER_NOT_OPEN');
  t.match(r.body.message, { zh: /状态为 redriven/, en: /only an open dead letter can be re-driven/ });
  r = await a.call('GET', `/dead-letters/${ids[0]}`);
  t.match(r.body.redrives, [{ actor, result: 'requeued' }]);
  t.match(r.body.deadLetter, { state: 'redriven', resolvedBy: actor });
  r = await a.call('GET', '/dead-letters?state=any');
  t.equal(r.body.count, 5);
  r = await a.call('GET', '/dead-letters?state=redriven');
  t.same(r.body.items.map((d: { id: number }) => d.id), [ids[0]]);
});

t.test('bad input: clear 400s (GOVGATE_REQUEST_INVALID) naming the parameter; unknown ids 404', async (t) => {
  const a = await api(t);
  const bad: Array<[string, string, RegExp, unknown?]> = [
    ['GET', '/dead-letters?limit=501', /limit is at most 500/],
    ['GET', '/dead-letters?limit=abc', /limit must be a positive integer/],
    ['GET', '/dead-letters?cause=lost', /cause must be one of rejected \| exhausted/],
    ['GET', '/dead-letters?destination=Hall', /destination must match/],
    ['GET', '/dead-letters?since=yesterday', /since must be a timestamp with an offset/],
    ['GET', '/dead-letters?colour=red', /unknown query parameter colour/],
    ['GET', '/dead-letters?cause=rejected&cause=exhausted', /may appear only once/],
    ['GET', '/dead-letters?order=up', /order must be asc or desc/],
    ['GET', '/dead-letters/0', /id must be a positive integer/],
    ['GET', '/dead-letters/1e3', /id must be a positive integer/],
    ['GET', '/dead-letters/99999999999999999999', /id must be a positive integer/],
    ['POST', '/destinations/Bad Name/pause', /a destination name must match/],
    ['GET', '/redrive-jobs?state=lost', /state must be running, paused or done/],
  ];
  for (const [m, p, en] of bad) {
    const r = await a.call(m, p);
    t.equal(r.status, 400, `${m} ${p}`);
    t.equal(r.body.code, 'GOVGATE_REQUEST_INVALID');
    t.match(r.body.message.en, en, `${m} ${p}`);
    t.ok(r.body.message.zh.length > 0);
  }
  const bodies: Array<[string, string, RegExp]> = [
    ['/redrive-jobs', '{"filter":', /the body is not valid JSON/],
    ['/redrive-jobs', '[1]', /the body must be a JSON object/],
    ['/redrive-jobs', '{"filter":{},"filter":{}}', /not valid JSON: duplicate key/],
    ['/redrive-jobs', '{"filter":{"state":"open"}}', /unknown filter state/],
    ['/redrive-jobs', '{"filter":{"cause":"lost"}}', /cause must be one of/],
    ['/redrive-jobs', '{"filter":[]}', /filter must be a JSON object/],
    ['/redrive-jobs', '', /filter is missing/],
    ['/redrive-jobs', '{"filter":{},"batchSize":0}', /batchSize must be an integer from 1 to 10000/],
    ['/redrive-jobs', '{"filter":{},"batchSize":"10"}', /batchSize must be an integer/],
    ['/redrive-jobs', '{"filters":{}}', /unknown field filters in the body/],
    ['/dead-letters/1/redrive', '{"why":"x"}', /this route takes no body/],
    ['/destinations/hall/pause', '{"note":5}', /note must be a string/],
  ];
  for (const [p, raw, en] of bodies) {
    const r = await a.call('POST', p, { raw });
    t.equal(r.status, 400, `${p} ${raw}`);
    t.equal(r.body.code, 'GOVGATE_REQUEST_INVALID');
    t.match(r.body.message.en, en, `${p} ${raw}`);
  }
  for (const p of ['/dead-letters/77', '/redrive-jobs/77']) {
    const r = await a.call('GET', p);
    t.equal(r.status, 404);
    t.equal(r.body.code, 'GOVGATE_NOT_FOUND');
  }
  t.match((await a.call('POST', '/destinations/nowhere/pause')).body, { code: 'GOVGATE_NOT_FOUND', message: { en: 'destination not found: nowhere' } });
});

t.test('re-drive jobs: created over a filter, run in batches of 2 by the runner, paused and resumed, with counts', async (t) => {
  const pokes: string[] = [];
  const db = await testDb(t);
  const runner = createRedriveRunner({ db, logger: { info() {}, warn() {}, error() {} }, idleMs: 60_000 });
  const a = await api(t, { db, deps: { redriveRunner: { poke: () => { pokes.push('runner'); runner.poke(); } } } });
  await makeDeadLetters(db, [{ key: 'J1' }, { key: 'J2' }, { key: 'J3' }, { key: 'J4' }, { key: 'J5' }, { key: 'O1', dept: DEPT_B }]);
  await store(db, [{ key: 'J2', dataVer: 2 }]);

  // Created before the runner starts, so batches can be watched one at a time.
  let r = await a.call('POST', '/redrive-jobs', { body: { filter: { destination: 'hall', deptCode: DEPT_A }, batchSize: 2 } });
  t.equal(r.status, 201);
  t.match(r.body, { state: 'running', batchSize: 2, requeued: 0, superseded: 0, remaining: 5, actor: /^admin:/, filter: { destination: 'hall', deptCode: DEPT_A } });
  const id = r.body.id;
  t.same(pokes, ['runner']);

  r = await a.call('POST', `/redrive-jobs/${id}/pause`);
  t.match(r.body, { state: 'paused', remaining: 5 });
  runner.start();
  t.teardown(() => runner.stop());
  await new Promise((res) => setTimeout(res, 100));
  r = await a.call('GET', `/redrive-jobs/${id}`);
  t.match(r.body, { state: 'paused', requeued: 0, remaining: 5 }, 'a paused job is left alone');

  r = await a.call('POST', `/redrive-jobs/${id}/resume`);
  t.equal(r.body.state, 'running');
  const deadline = Date.now() + 20_000;
  while ((await a.call('GET', `/redrive-jobs/${id}`)).body.state !== 'done' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
  r = await a.call('GET', `/redrive-jobs/${id}`);
  t.match(r.body, { state: 'done', requeued: 4, superseded: 1, remaining: 0 });

  r = await a.call('GET', '/redrive-jobs');
  t.match(r.body, { items: [{ id, state: 'done' }], next: null });
  r = await a.call('GET', '/redrive-jobs?state=running');
  t.same(r.body.items, []);
  r = await a.call('POST', `/redrive-jobs/${id}/pause`);
  t.equal(r.status, 409);
  t.equal(r.body.code, 'GOVGATE_REDRIVE_JOB_STATE');
  t.match(r.body.message.en, /is done and cannot be paused/);

  r = await a.call('GET', '/dead-letters');
  t.same(r.body.items.map((d: { businessKey: string }) => d.businessKey), ['O1'], 'only the letter outside the filter is left');
  const log = (await db.query<{ job_id: number; result: string }>('SELECT job_id, result FROM redrives ORDER BY id')).rows;
  t.equal(log.length, 5);
  t.ok(log.every((x) => x.job_id === id));
});

t.test('destinations: list with state and backlog, pause and resume (who is recorded), check', async (t) => {
  const checked: string[] = [];
  const a = await api(t, { deps: { checkDestination: async (name) => { checked.push(name); return { ok: false, message: { zh: `${name}：连接被拒绝`, en: `${name}: connection refused` }, detail: { error: 'ECONNREFUSED' } }; } } });
  await makeDeadLetters(a.db, [{ key: 'D1' }]);
  await store(a.db, [{ key: 'D2' }]);

  let r = await a.call('GET', '/destinations');
  t.equal(r.status, 200);
  t.match(r.body.items, [
    { name: 'hall', kind: 'standard', enabled: true, configured: true, paused: false, openDeadLetters: 1, depth: { pending: 1, leased: 0 }, engine: null },
    { name: 'province', kind: 'standard', enabled: false, paused: false, openDeadLetters: 0 },
  ]);

  r = await a.call('POST', '/destinations/hall/pause', { body: { note: '大厅维护 maintenance' } });
  t.equal(r.status, 200);
  t.match(r.body, { name: 'hall', paused: true, pausedBy: /^admin:[0-9a-f]{8}$/, pausedReason: { code: 'PAUSED_BY_OPERATOR', message: { zh: /大厅维护/ } } });
  t.match(await one(a.db, "SELECT paused, paused_by FROM destination_state WHERE destination = 'hall'"), { paused: true, paused_by: r.body.pausedBy });
  r = await a.call('POST', '/destinations/hall/resume');
  t.match(r.body, { name: 'hall', paused: false });

  r = await a.call('POST', '/destinations/hall/check');
  t.same(r.body, { destination: 'hall', ok: false, message: { zh: 'hall：连接被拒绝', en: 'hall: connection refused' }, detail: { error: 'ECONNREFUSED' } });
  t.same(checked, ['hall']);

  const noCheck = await api(t, { db: a.db });
  r = await noCheck.call('POST', '/destinations/hall/check');
  t.equal(r.status, 503);
  t.equal(r.body.code, 'GOVGATE_ADMIN_FEATURE_UNAVAILABLE');
});

t.test('the OpenAPI document lists the admin routes with their security and summaries', async (t) => {
  const a = await api(t);
  const doc = (await (await fetch(`${a.url}/docs/json`)).json()) as { paths: Record<string, Record<string, { tags: string[]; security: unknown; summary: string; requestBody?: unknown }>> };
  for (const p of ['/admin/v1/dead-letters', '/admin/v1/dead-letters/{id}', '/admin/v1/dead-letters/{id}/redrive', '/admin/v1/redrive-jobs', '/admin/v1/destinations/{name}/check']) {
    t.ok(doc.paths[p], p);
  }
  const op = doc.paths['/admin/v1/dead-letters/{id}/redrive']!['post']!;
  t.same(op.tags, ['admin']);
  t.same(op.security, [{ adminToken: [] }]);
  t.match(op.summary, /重新投递一条死信.*\/ re-drive one dead letter/);
  t.ok(doc.paths['/admin/v1/redrive-jobs']!['post']!.requestBody, 'the job body is documented');
});

t.test('end to end: the hall refuses a record, the operator re-drives it through the API after the fix, the hall has it', async (t) => {
  const hallDb = await testDb(t, { migrate: false });
  const hall = await startHallSim({ db: hallDb, faults: { rejectKeys: ['E2E-BAD', 'E2E-BAD2'] } });
  t.teardown(() => hall.close());
  const db = await testDb(t);
  const hallConfig: DestinationConfig = {
    name: 'hall', kind: 'standard', enabled: true,
    options: { url: hall.url, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_KEY.secret, algorithm: HALL_DEMO_KEY.algorithm, timeoutMs: 2000, maxSockets: 4 },
  };
  const base = loadConfig({ env: {} });
  const config: Config = { ...base, admin: { tokens: [TOKEN] }, destinations: [hallConfig], routes: [{ destination: 'hall' }] };
  const logger = pino({ level: 'silent' });
  const destinations = createDestinations([hallConfig], { logger, env: {} });
  t.teardown(() => Promise.all(destinations.map((d) => d.close())));
  const engine = createDeliveryEngine({
    db, destinations, logger,
    config: { ...config.delivery, pollIntervalMs: 20, retryBaseMs: 50, retryMaxMs: 500, leaseSeconds: 5 },
  });
  const runner = createRedriveRunner({ db, logger, idleMs: 50, onProgress: () => engine.poke() });
  const route = compileRoutes(config.routes, config.destinations)!;
  const app = await buildApp({
    config, departments: loadDepartments(departmentsDir, {}, { allowInlineSecrets: true }), validator: createValidator(),
    store: createPushStore(db, { groupCommit: { route } }),
    plugins: [adminRoutes({ db, destinations: [hallConfig], engine, checkDestination: (name) => destinations.find((d) => d.name === name)!.check(), redriveRunner: runner })],
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  engine.start();
  runner.start();
  t.teardown(async () => {
    await app.close();
    await runner.stop();
    await engine.stop(1000);
  });
  const until = async (what: string, done: () => Promise<boolean>) => {
    const end = Date.now() + 20_000;
    while (!(await done())) {
      if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return { status: res.status, body: (await res.json()) as any };
  };

  const client = new GovgateClient({ baseUrl: url, ...DEPT_KEY });
  await client.submitBatch(batch([caseRecord('E2E-OK'), caseRecord('E2E-BAD'), caseRecord('E2E-BAD2')]));
  await until('two dead letters', async () => (await admin('GET', '/dead-letters')).body.count === 2);
  await until('the good one at the hall', async () => (await hall.storedKeys()).length === 1);

  let r = await admin('GET', '/dead-letters');
  const [bad] = r.body.items;
  t.match(bad, { businessKey: 'E2E-BAD', deptCode: DEPT, cause: 'rejected', reason: { code: 'HALL_REJECTED' }, answer: { status: 200 } });
  r = await admin('GET', `/dead-letters/${bad.id}`);
  t.match(r.body.raw, { contentType: /application\/json/, textEncoding: 'utf-8' });
  t.match(r.body.raw.text, /E2E-BAD/, 'the payload the department sent');

  r = await admin('GET', '/destinations');
  t.match(r.body.items, [{ name: 'hall', openDeadLetters: 2, engine: { breaker: 'closed', inFlight: 0, paused: false } }]);
  r = await admin('POST', '/destinations/hall/check');
  t.match(r.body, { destination: 'hall', ok: true });

  // The hall fixes its catalogue. hall-sim, like the hall, refuses a key for good once refused, so
  // clearing its state (which also forgets E2E-OK) stands in for the fix. The operator then
  // re-drives one letter by hand and the other through a job.
  hall.setFaults({ rejectKeys: [] });
  await hall.reset();
  r = await admin('POST', `/dead-letters/${bad.id}/redrive`);
  t.equal(r.body.result, 'requeued');
  await until('E2E-BAD at the hall', async () => (await hall.storedKeys()).includes(`${DEPT}:case:1:E2E-BAD`));
  r = await admin('POST', '/redrive-jobs', { filter: { destination: 'hall', reasonCode: 'HALL_REJECTED' }, batchSize: 10 });
  t.equal(r.status, 201);
  await until('E2E-BAD2 at the hall', async () => (await hall.storedKeys()).includes(`${DEPT}:case:1:E2E-BAD2`));
  t.equal((await admin('GET', `/redrive-jobs/${r.body.id}`)).body.state, 'done');
  t.equal((await admin('GET', '/dead-letters')).body.count, 0);
  t.same(await hall.storedKeys(), [`${DEPT}:case:1:E2E-BAD`, `${DEPT}:case:1:E2E-BAD2`]);
  t.match(await one(db, "SELECT count(*)::int AS n FROM outbox WHERE state <> 'done'"), { n: 0 });
});
