/**
 * Dead letters: list, inspect, re-drive one, re-drive jobs in batches with pause and resume, the
 * background runner, destination pause/resume, and `govgate deadletters …` / `govgate destinations …`
 * against a real database directory. Dead letters are made by the real ingest + claim + settle.
 * Runs on PGlite, and on a real PostgreSQL server when GOVGATE_TEST_DATABASE_URL is set.
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkDeadLetterFilter, countDeadLetters, createRedriveJob, getDeadLetter, getRedriveJob, listDeadLetters, listDestinations,
  pauseDestination, pauseRedriveJob, redriveDeadLetter, redriveJobRemaining, resumeDestination, resumeRedriveJob, runRedriveBatch,
} from '../src/store/queries/dead-letters.js';
import { claimDue, destinationStates, settle } from '../src/store/queries/outbox.js';
import { createRedriveRunner, driveRedriveJob } from '../src/sync/redrive.js';
import { openDb, type Db } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { runCli } from './helpers/cli.js';
import { TEST_DATABASE_URL, testDb } from './helpers/db.js';
import { DEPT_A, DEPT_B, delivered, makeDeadLetters, one, store } from './helpers/dead-letters.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const idsOf = (items: readonly { id: number }[]) => items.map((i) => i.id);
const silent = { info() {}, warn() {}, error() {} };

t.test('list: filters, states, keyset pagination and a count', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [
    { key: 'A1' }, { key: 'A2', code: 'ITEM_UNKNOWN' }, { key: 'A3', type: 'powerItem' },
    { key: 'B1', dept: DEPT_B }, { key: 'X1', cause: 'exhausted', code: 'HTTP_503' },
    { key: 'P1', destinations: ['province'] },
  ]);
  const all = await listDeadLetters(db);
  t.equal(all.items.length, 6);
  t.equal(all.next, null);
  t.same(all.items.map((d) => d.state), Array(6).fill('open'));
  t.ok(all.items.every((d, i) => i === 0 || d.id > all.items[i - 1]!.id), 'oldest first');

  const key = async (f: Parameters<typeof listDeadLetters>[1]) => (await listDeadLetters(db, f)).items.map((d) => d.businessKey).sort();
  t.same(await key({ destination: 'province' }), ['P1']);
  t.same(await key({ deptCode: DEPT_B }), ['B1']);
  t.same(await key({ recordType: 'powerItem' }), ['A3']);
  t.same(await key({ cause: 'exhausted' }), ['X1']);
  t.same(await key({ reasonCode: 'ITEM_UNKNOWN' }), ['A2']);
  t.same(await key({ destination: 'hall', deptCode: DEPT_A, cause: 'rejected', recordType: 'case' }), ['A1', 'A2']);
  t.same(await key({ since: new Date(Date.now() - 60_000).toISOString() }), ['A1', 'A2', 'A3', 'B1', 'P1', 'X1']);
  t.same(await key({ until: new Date(Date.now() - 60_000).toISOString() }), []);
  t.equal(await countDeadLetters(db, { destination: 'hall' }), 5);

  // Pages of 2, forwards and backwards.
  const seen: number[] = [];
  let after: number | undefined;
  for (;;) {
    const page = await listDeadLetters(db, {}, { limit: 2, ...(after === undefined ? {} : { after }) });
    seen.push(...idsOf(page.items));
    if (page.next === null) break;
    after = page.next;
  }
  t.same(seen, idsOf(all.items), 'every id once, in order');
  const desc = await listDeadLetters(db, {}, { limit: 4, order: 'desc' });
  t.same(idsOf(desc.items), idsOf(all.items).reverse().slice(0, 4));
  t.same(idsOf((await listDeadLetters(db, {}, { order: 'desc', after: desc.next! })).items), idsOf(all.items).reverse().slice(4));

  // States: a re-driven letter leaves the default (open) list.
  await redriveDeadLetter(db, all.items[0]!.id, 'tester');
  t.equal((await listDeadLetters(db)).items.length, 5);
  t.same(idsOf((await listDeadLetters(db, { state: 'redriven' })).items), [all.items[0]!.id]);
  t.equal((await listDeadLetters(db, { state: 'any' })).items.length, 6);
});

t.test('filters are checked: unknown keys, values, times', async (t) => {
  t.same(checkDeadLetterFilter({ destination: 'hall', since: '2026-03-01' }), { destination: 'hall', since: '2026-02-28T16:00:00.000Z' }, 'a date is midnight China time');
  t.same(checkDeadLetterFilter({ until: '2026-03-01T08:00:00+08:00' }), { until: '2026-03-01T00:00:00.000Z' });
  for (const bad of [{ nope: 'x' }, { destination: 'Hall!' }, { cause: 'lost' }, { recordType: 'thing' }, { state: 'closed' }, { since: 'yesterday' },
    { since: '2026-03-01T08:00:00' }, { since: '2026-03-02', until: '2026-03-01' }, { deptCode: 3 }]) {
    t.throws(() => checkDeadLetterFilter(bad as Record<string, unknown>), { code: 'GOVGATE_REQUEST_INVALID' }, JSON.stringify(bad));
  }
  t.throws(() => checkDeadLetterFilter({ state: 'open' }, { allowState: false }), { code: 'GOVGATE_REQUEST_INVALID' }, 'jobs take open letters only');
  try {
    checkDeadLetterFilter({ cause: 'lost' });
  } catch (err) {
    t.match((err as { messages: { zh: string; en: string } }).messages, { zh: /cause 应为 rejected \| exhausted/, en: /cause must be one of rejected \| exhausted, found lost/ });
  }
});

t.test('show: the dead letter, its record version, the raw payload (UTF-8 and GBK), its entry and re-drives', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [{ key: 'J1' }, { key: 'G1', gbk: true }]);
  const [j1, g1] = (await listDeadLetters(db)).items;

  const d = (await getDeadLetter(db, j1!.id))!;
  t.match(d.deadLetter, { businessKey: 'J1', version: 1, cause: 'rejected', state: 'open', attempts: 1, destination: 'hall', deptCode: DEPT_A });
  t.match(d.deadLetter.reason, { code: 'HALL_REJECTED', message: { zh: /大厅拒收/ } });
  t.match(d.deadLetter.answer, { status: 200 });
  t.match(d.record, { version: 1, dataVer: 1, content: { caseNo: 'J1', applicant: '张三' }, recordIndex: 0 });
  t.match(d.record!.digest, /^[0-9a-f]{64}$/);
  t.match(d.raw, { contentType: 'application/json', textEncoding: 'utf-8', declaredEncoding: null });
  t.same(JSON.parse(d.raw!.text!), d.record!.content, 'the raw body as sent');
  t.equal(d.raw!.size, d.raw!.body.length);
  t.match(d.raw!.receiptId, /^rcpt_/);
  t.match(d.entry, { state: 'done', wantedVersion: 1, settledVersion: 1, attempts: 0 });
  t.match(d.entry!.lastError, { code: 'HALL_REJECTED' });
  t.same(d.redrives, []);

  const g = (await getDeadLetter(db, g1!.id))!;
  t.match(g.raw, { declaredEncoding: 'gbk', textEncoding: 'gb18030' });
  t.match(g.raw!.text, /<applicant>张三<\/applicant>/, 'GBK decoded for reading');
  t.notOk(g.raw!.body.includes(Buffer.from('张三')), 'the bytes themselves are GBK, kept as sent');

  t.equal(await getDeadLetter(db, 999_999), undefined);
});

t.test('re-drive one: entry due now with a fresh budget, letter redriven, who and when logged; the worker sends it again', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [{ key: 'R1' }]);
  const [dl] = (await listDeadLetters(db)).items;
  const before = await one<{ settled_version: number }>(db, 'SELECT settled_version FROM outbox');

  const out = await redriveDeadLetter(db, dl!.id, 'admin:1234abcd');
  t.equal(out.result, 'requeued');
  t.match(out.entry, { state: 'pending', attempts: 0, firstFailedAt: null, wantedVersion: 1, settledVersion: before.settled_version });
  t.ok(out.entry.nextAttemptAt.getTime() <= Date.now() + 1000, 'due now');
  t.match(out.redrive, { deadLetterId: dl!.id, actor: 'admin:1234abcd', result: 'requeued', jobId: null });

  const after = (await getDeadLetter(db, dl!.id))!;
  t.match(after.deadLetter, { state: 'redriven', resolvedBy: 'admin:1234abcd' });
  t.ok(after.deadLetter.resolvedAt instanceof Date);
  t.same(after.redrives.map((r) => [r.actor, r.result]), [['admin:1234abcd', 'requeued']]);

  const [again] = await claimDue(db, 'hall', 10, 60, 'w');
  t.match(again, { businessKey: 'R1', version: 1, attempts: 1 }, 'the worker leases the dead version again');
  await settle(db, 'w', [delivered(again!)]);
  t.match(await one(db, 'SELECT state, settled_version FROM outbox'), { state: 'done', settled_version: 1 });
  t.equal((await one<{ n: number }>(db, 'SELECT count(*)::int AS n FROM deliveries')).n, 1);
});

t.test('re-drive when a newer version exists: superseded, nothing resent', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [{ key: 'S1' }]);
  const [dl] = (await listDeadLetters(db)).items;
  await store(db, [{ key: 'S1', dataVer: 2 }]);
  t.match(await one(db, 'SELECT wanted_version, state FROM outbox'), { wanted_version: 2, state: 'pending' });

  const out = await redriveDeadLetter(db, dl!.id, 'tester');
  t.equal(out.result, 'superseded');
  t.match(out.redrive, { result: 'superseded', actor: 'tester' });
  t.match((await getDeadLetter(db, dl!.id))!.deadLetter, { state: 'superseded', resolvedBy: 'tester' });
  const [next] = await claimDue(db, 'hall', 10, 60, 'w');
  t.equal(next!.version, 2, 'only the newer version goes out');
});

t.test('re-drive of a letter that is not open: 409 GOVGATE_DEADLETTER_NOT_OPEN; unknown: 404', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [{ key: 'N1' }]);
  const [dl] = (await listDeadLetters(db)).items;
  await redriveDeadLetter(db, dl!.id, 'first');
  await t.rejects(redriveDeadLetter(db, dl!.id, 'second'), { code: 'GOVGATE_DEADLETTER_NOT_OPEN', statusCode: 409, details: { found: 'redriven', resolvedBy: 'first' } });
  await t.rejects(redriveDeadLetter(db, 424242, 'x'), { code: 'GOVGATE_NOT_FOUND', statusCode: 404 });
  t.equal((await one<{ n: number }>(db, 'SELECT count(*)::int AS n FROM redrives')).n, 1, 'the refused attempt logged nothing');
});

t.test('concurrent re-drives of one letter: exactly one wins', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [{ key: 'C1' }]);
  const [dl] = (await listDeadLetters(db)).items;
  const results = await Promise.allSettled([redriveDeadLetter(db, dl!.id, 'a'), redriveDeadLetter(db, dl!.id, 'b'), redriveDeadLetter(db, dl!.id, 'c')]);
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  t.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.code === 'GOVGATE_DEADLETTER_NOT_OPEN'));
  t.equal((await one<{ n: number }>(db, 'SELECT count(*)::int AS n FROM redrives')).n, 1);
});

t.test('a job over a filter in batches of 2, paused and resumed, with a fixed end and correct counts', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [
    { key: 'J1' }, { key: 'J2' }, { key: 'J3' }, { key: 'J4' }, { key: 'J5' },
    { key: 'O1', dept: DEPT_B }, { key: 'O2', destinations: ['province'] },
  ]);
  // J3 has a newer version queued: the job must mark it superseded, not resend it.
  await store(db, [{ key: 'J3', dataVer: 2 }]);

  const job = await createRedriveJob(db, { filter: { destination: 'hall', deptCode: DEPT_A }, actor: 'cli:ops', batchSize: 2 });
  t.match(job, { state: 'running', batchSize: 2, afterId: 0, requeued: 0, superseded: 0, filter: { destination: 'hall', deptCode: DEPT_A } });
  t.equal(await redriveJobRemaining(db, job), 5);
  // Refused again after the job started: a new dead letter beyond up_to_id, not part of this job.
  await makeDeadLetters(db, [{ key: 'LATE' }]);

  const b1 = (await runRedriveBatch(db, job.id))!;
  t.match(b1, { examined: 2, requeued: 2, superseded: 0, job: { state: 'running', requeued: 2 } });
  t.equal(await redriveJobRemaining(db, b1.job), 3);

  const paused = await pauseRedriveJob(db, job.id);
  t.equal(paused.state, 'paused');
  t.equal(await runRedriveBatch(db, job.id), undefined, 'a paused job runs no batch');
  t.equal(await runRedriveBatch(db), undefined, 'nor does a runner looking for any job');
  t.same((await pauseRedriveJob(db, job.id)).state, 'paused', 'pausing twice is harmless');

  await resumeRedriveJob(db, job.id);
  const b2 = (await runRedriveBatch(db, job.id))!;
  t.match(b2, { examined: 2, requeued: 1, superseded: 1 }, 'J3 superseded, J4 requeued');
  const b3 = (await runRedriveBatch(db, job.id))!;
  t.match(b3, { examined: 1, requeued: 1, superseded: 0, job: { state: 'done', requeued: 4, superseded: 1 } });
  t.equal(await runRedriveBatch(db, job.id), undefined);

  const left = (await listDeadLetters(db)).items.map((d) => d.businessKey).sort();
  t.same(left, ['LATE', 'O1', 'O2'], 'outside the filter or after the job started: still open');
  const log = (await db.query<{ job_id: number; actor: string; result: string }>('SELECT job_id, actor, result FROM redrives ORDER BY id')).rows;
  t.equal(log.length, 5);
  t.ok(log.every((r) => r.job_id === job.id && r.actor === 'cli:ops'), 'each re-drive logged with the job and its actor');

  await t.rejects(pauseRedriveJob(db, job.id), { code: 'GOVGATE_REDRIVE_JOB_STATE', statusCode: 409 });
  await t.rejects(resumeRedriveJob(db, job.id), { code: 'GOVGATE_REDRIVE_JOB_STATE' });
  await t.rejects(pauseRedriveJob(db, 9999), { code: 'GOVGATE_NOT_FOUND' });
  await t.rejects(createRedriveJob(db, { filter: {}, actor: 'x', batchSize: 0 }), { code: 'GOVGATE_REQUEST_INVALID' });
});

t.test('the background runner drives running jobs; a foreground drive stops when aborted', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, Array.from({ length: 7 }, (_, i) => ({ key: `K${i}` })));
  const job = await createRedriveJob(db, { filter: {}, actor: 'admin:x', batchSize: 3 });
  const progress: number[] = [];
  const runner = createRedriveRunner({ db, logger: silent, idleMs: 50, onProgress: (r) => progress.push(r.examined) });
  runner.start();
  t.teardown(() => runner.stop());
  const deadline = Date.now() + 20_000;
  while ((await getRedriveJob(db, job.id))!.state !== 'done' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await runner.stop();
  t.match(await getRedriveJob(db, job.id), { state: 'done', requeued: 7 });
  t.same(progress, [3, 3, 1]);

  // Foreground: abort after the first batch; the loop returns the job still running.
  await makeDeadLetters(db, Array.from({ length: 4 }, (_, i) => ({ key: `F${i}` })));
  const fg = await createRedriveJob(db, { filter: {}, actor: 'cli:x', batchSize: 1 });
  const abort = new AbortController();
  const left = await driveRedriveJob(db, fg.id, { signal: abort.signal, onBatch: () => abort.abort() });
  t.match(left, { state: 'running', requeued: 1 });
});

t.test('destinations: pause and resume by an operator, listed with backlog and open dead letters', async (t) => {
  const db = await testDb(t);
  await makeDeadLetters(db, [{ key: 'D1' }]);
  await store(db, [{ key: 'D2' }, { key: 'D3' }]);
  const cfg = [{ name: 'hall', kind: 'standard', enabled: true }, { name: 'province', kind: 'standard', enabled: false }];

  const paused = await pauseDestination(db, 'hall', 'admin:abcd1234', 'hall maintenance');
  t.match(paused, { paused: true, pausedBy: 'admin:abcd1234', pausedReason: { code: 'PAUSED_BY_OPERATOR', message: { en: /hall maintenance/ } } });
  t.equal((await destinationStates(db)).get('hall')?.paused, true, 'the row every engine checks before claiming');

  let list = await listDestinations(db, cfg);
  t.match(list, [
    { name: 'hall', kind: 'standard', enabled: true, configured: true, paused: true, openDeadLetters: 1 },
    { name: 'province', enabled: false, paused: false, openDeadLetters: 0, depth: { pending: 0, leased: 0 } },
  ]);
  t.match(list[0]!.depth, { pending: 2, leased: 0 });

  const resumed = await resumeDestination(db, 'hall', 'cli:ops');
  t.match(resumed, { paused: false, pausedBy: 'cli:ops' });
  list = await listDestinations(db, []);
  t.match(list, [{ name: 'hall', configured: false }], 'a destination known only to the database is still shown');
});

t.test('CLI: deadletters list / show / redrive / redrive --all / jobs and destinations, on a database directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-dl-'));
  const server = TEST_DATABASE_URL === undefined ? undefined : await testDb(t, { migrate: false });
  const config = join(dir, 'govgate.yaml');
  writeFileSync(config, [
    `departments:\n  dir: ${join(root, 'config/departments')}`,
    'log:\n  level: warn',
    server === undefined ? `database:\n  dataDir: ${join(dir, 'data')}` : `database:\n  url: ${TEST_DATABASE_URL}\n  schema: ${server.schema}`,
    'destinations:',
    '  - name: hall\n    kind: standard\n    options:\n      url: http://127.0.0.1:9/\n      keyId: gw\n      secret: cli-test-secret-0123456789abcdefghij',
    'routes:\n  - destination: hall',
    '',
  ].join('\n'));

  // Made with a database handle of its own, closed before the CLI opens the directory (one process
  // per PGlite directory).
  const db: Db = server ?? await openDb({ dataDir: join(dir, 'data') });
  await migrate(db);
  await makeDeadLetters(db, [{ key: 'C1' }, { key: 'C2', gbk: true }, { key: 'C3', dept: DEPT_B }, { key: 'C4' }, { key: 'C5' }]);
  const ids = idsOf((await listDeadLetters(db)).items);
  if (server === undefined) await db.close();
  const env = { USER: 'alice' };
  const saved = process.env['USER'];
  process.env['USER'] = env.USER;
  t.teardown(() => { process.env['USER'] = saved; });

  const list = await runCli('deadletters', 'list', '--config', config);
  t.equal(list.code, 0, list.err);
  t.match(list.out, new RegExp(`#${ids[0]}  hall  ${DEPT_A}  case  C1  v1  rejected  HALL_REJECTED`));
  t.match(list.out, /共 5 条符合条件，显示 5 条 \/ 5 matching, 5 shown/);
  const paged = await runCli('deadletters', 'list', '--config', config, '--limit', '2', '--dept', DEPT_A);
  t.match(paged.out, new RegExp(`4 matching, 2 shown; 下一页 next page: --after ${ids[1]}`));
  const json = await runCli('deadletters', 'list', '--config', config, '--format', 'json', '--dept', DEPT_B);
  t.same(JSON.parse(json.out).items.map((d: { businessKey: string }) => d.businessKey), ['C3']);
  t.equal((await runCli('deadletters', 'list', '--config', config, '--cause', 'lost')).code, 2, 'a bad filter is a usage error');

  const show = await runCli('deadletters', 'show', String(ids[1]), '--config', config);
  t.equal(show.code, 0, show.err);
  t.match(show.out, /死信 Dead letter #\d+  \[待处理 open\]/);
  t.match(show.out, new RegExp(`记录 Record: +case ${DEPT_A} / C2  网关版本 version 1`));
  t.match(show.out, /接收方原因 Reason: +HALL_REJECTED \(rejected\)\n +大厅拒收：事项编码不存在\n +the hall refused it: unknown item code/);
  t.match(show.out, /接收方应答 Answer: +HTTP 200/);
  t.match(show.out, /尝试次数 Attempts: +1/);
  t.match(show.out, /原始报文 Raw payload: 回执 receipt rcpt_\S+; application\/xml; charset=GBK \(gbk\)/);
  t.match(show.out, /<applicant>张三<\/applicant>/, 'the GBK payload readable');
  const showJson = JSON.parse((await runCli('deadletters', 'show', String(ids[0]), '--config', config, '--format', 'json')).out);
  t.equal(Buffer.from(showJson.raw.body, 'base64').toString('utf8'), showJson.raw.text);
  t.equal((await runCli('deadletters', 'show', '99999', '--config', config)).code, 1, 'not found');
  t.equal((await runCli('deadletters', 'show', 'abc', '--config', config)).code, 2);

  const one1 = await runCli('deadletters', 'redrive', String(ids[0]), '--config', config);
  t.equal(one1.code, 0, one1.err);
  t.match(one1.out, /已重新排队投递 \/ re-queued: .*cli:alice/);
  const twice = await runCli('deadletters', 'redrive', String(ids[0]), '--config', config, '--by', 'bob');
  t.equal(twice.code, 1);
  t.match(twice.err, /GOVGATE_DEADLETTER_NOT_OPEN: 死信 \d+ 的状态为 redriven（处理人 cli:alice）/);
  t.equal((await runCli('deadletters', 'redrive', '--config', config)).code, 2, 'neither an id nor --all');
  t.equal((await runCli('deadletters', 'redrive', String(ids[1]), '--all', '--config', config)).code, 2, 'both');

  const all = await runCli('deadletters', 'redrive', '--all', '--dept', DEPT_A, '--batch-size', '2', '--by', 'carol', '--config', config);
  t.equal(all.code, 0, all.err);
  t.match(all.out, /任务 job #(\d+)：3 条待处理死信，每批 2 条/);
  t.match(all.out, /批次 batch: 重新投递 requeued \+2/);
  t.match(all.out, /完成 done: 重新投递 requeued 3, 已被新版本取代 superseded 0/);
  const jobId = /任务 job #(\d+)/.exec(all.out)![1]!;
  const jobs = await runCli('deadletters', 'jobs', '--config', config);
  t.match(jobs.out, new RegExp(`任务 job #${jobId}  done  重新投递 requeued 3  已取代 superseded 0  剩余 remaining 0  每批 batch 2  cli:carol`));
  const resumeDone = await runCli('deadletters', 'resume-job', jobId, '--config', config);
  t.equal(resumeDone.code, 1);
  t.match(resumeDone.err, /GOVGATE_REDRIVE_JOB_STATE/);

  const detached = await runCli('deadletters', 'redrive', '--all', '--detach', '--config', config);
  const detachedId = /任务 job #(\d+)/.exec(detached.out)![1]!;
  t.match(detached.out, /1 open dead letters in scope/);
  const pj = await runCli('deadletters', 'pause-job', detachedId, '--config', config);
  t.equal(pj.code, 0, pj.err);
  t.match(pj.out, /paused.*\n继续 resume: govgate deadletters resume-job/);
  const rj = await runCli('deadletters', 'resume-job', detachedId, '--config', config);
  t.equal(rj.code, 0, rj.err);
  t.match(rj.out, /完成 done: 重新投递 requeued 1/);

  const dl = await runCli('destinations', 'list', '--config', config);
  t.equal(dl.code, 0, dl.err);
  t.match(dl.out, /hall  standard  投递中 active  待投递 pending 5/);
  const p = await runCli('destinations', 'pause', 'hall', '--note', 'maintenance', '--config', config);
  t.equal(p.code, 0, p.err);
  t.match(p.out, /已暂停 PAUSED by cli:alice .* maintenance/);
  t.match((await runCli('destinations', 'resume', 'hall', '--by', 'dave', '--config', config)).out, /hall  standard  投递中 active/);
  t.equal((await runCli('destinations', 'pause', 'nowhere', '--config', config)).code, 1);

  const check = server ?? await openDb({ dataDir: join(dir, 'data') });
  if (server === undefined) t.teardown(() => check.close());
  const actors = (await check.query<{ actor: string; result: string }>('SELECT actor, result FROM redrives ORDER BY id')).rows;
  t.same(actors.map((a) => a.actor), ['cli:alice', 'cli:carol', 'cli:carol', 'cli:carol', 'cli:alice']);
  t.match((await destinationStates(check)).get('hall'), { paused: false, pausedBy: 'cli:dave' });
});
