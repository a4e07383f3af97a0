/**
 * The scheduler: ticks, no overlapping runs, one leader per job across instances (advisory lock on
 * a real PostgreSQL server), catch-up at start, clean stop, housekeeping jobs, and pull adapters
 * scheduled through it.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileDrop } from '../src/adapters/pull/file-drop.js';
import { EA_JC_DEPT, eaJcRow } from '../src/adapters/pull/simulators/ea-jc.js';
import { dropBatch, jsonOf } from '../src/adapters/pull/simulators/ferry.js';
import type { PullKind } from '../src/adapters/types.js';
import { createScheduler, housekeepingJobs, recordedJob, type Job } from '../src/sync/scheduler.js';
import { setupPulls } from '../src/sync/scheduler-pull.js';
import { rememberNonce } from '../src/store/queries/nonces.js';
import { listRuns } from '../src/store/queries/pull.js';
import { onServer, testDb } from './helpers/db.js';
import { pullHarness, quietLogger } from './helpers/pull.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function slowJob(name: string, ms: number, log: string[], extra: Partial<Job> = {}): Job {
  return {
    name, schedule: '0 0 1 1 *', catchUp: false, ...extra,
    async run(trigger, signal) {
      log.push(`start:${trigger}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => { clearTimeout(timer); log.push('aborted'); resolve(); }, { once: true });
      });
      log.push('end');
      return 'done';
    },
  };
}

t.test('a job never overlaps itself; stop() aborts a running job and waits for it', async (t) => {
  const db = await testDb(t);
  const log: string[] = [];
  const s = createScheduler({ db, logger: quietLogger, jobs: [slowJob('slow', 5000, log)] });
  await s.start();
  const first = s.trigger('slow');
  await sleep(50);
  t.same(await s.trigger('slow'), { ran: false, reason: 'busy' });
  t.same(s.running(), ['slow']);
  const stopped = Date.now();
  await s.stop();
  t.ok(Date.now() - stopped < 2000, 'stop did not wait for the full run');
  t.match(await first, { ran: true, result: 'done' });
  t.same(log, ['start:manual', 'aborted', 'end']);
  t.same(await s.trigger('slow'), { ran: false, reason: 'stopped' });
});

t.test('ticks start runs on schedule', async (t) => {
  const db = await testDb(t);
  let n = 0;
  const s = createScheduler({ db, logger: quietLogger, jobs: [{ name: 'tick', schedule: '* * * * * *', catchUp: false, run: async () => { n++; } }] });
  await s.start();
  await sleep(2600);
  await s.stop();
  t.ok(n >= 2, `${n} ticks in 2.6 s`);
});

t.test('catch-up: a job whose last run is older than its interval runs at start', async (t) => {
  const db = await testDb(t);
  let runs = 0;
  const job = recordedJob(db, 'test:1', { name: 'yearly', schedule: '0 0 1 1 *', catchUp: true }, async () => { runs++; return { ok: true }; });
  const s1 = createScheduler({ db, logger: quietLogger, jobs: [job] });
  await s1.start();
  await sleep(300);
  await s1.stop();
  t.equal(runs, 1, 'never ran before: caught up at start');
  t.match((await listRuns(db, { job: 'yearly' }))[0], { trigger: 'catch-up', status: 'ok', detail: { ok: true } });
  const s2 = createScheduler({ db, logger: quietLogger, jobs: [job] });
  await s2.start();
  await sleep(300);
  await s2.stop();
  t.equal(runs, 1, 'ran within the interval: no catch-up');
});

t.test('housekeeping: partitions ahead and pruned nonces, recorded as runs', async (t) => {
  const db = await testDb(t);
  await rememberNonce(db, 'k1', 'old-nonce-0000000000', new Date(Date.now() - 3_600_000));
  await rememberNonce(db, 'k1', 'new-nonce-0000000000');
  const s = createScheduler({ db, logger: quietLogger, jobs: housekeepingJobs(db, 'test:1', { nonceTtlSeconds: 600 }) });
  t.match(await s.trigger('maintenance:nonces'), { ran: true, result: { noncesPruned: 1 } });
  t.match(await s.trigger('maintenance:partitions'), { ran: true, result: { partitionsCreated: 0 } });
  await s.stop();
  const runs = await listRuns(db);
  t.same(runs.map((r) => [r.job, r.status]).sort(), [['maintenance:nonces', 'ok'], ['maintenance:partitions', 'ok']]);
});

t.test('pull adapters run as scheduled jobs', async (t) => {
  const h = await pullHarness(t);
  const dir = mkdtempSync(join(tmpdir(), 'govgate-sched-'));
  const spec = { name: 'ferry', kind: 'file-drop', dept: EA_JC_DEPT, schedule: '0 0 1 1 *', enabled: true, options: { dir, manifestSuffix: '.manifest.json', incompleteTimeoutSeconds: 3600, maxBatchesPerRun: 10, csv: { delimiter: ',', encoding: 'utf-8', columns: {} } } };
  const pulls = setupPulls([{ spec, kind: fileDrop as unknown as PullKind<Record<string, unknown>> }], h.ctx, {});
  t.teardown(() => pulls.close());
  t.same(pulls.jobs.map((j) => j.name), ['pull:ferry']);
  dropBatch(dir, { batchId: 'S1', deptCode: EA_JC_DEPT, files: [{ name: 'a.json', format: 'json', body: jsonOf([eaJcRow(1), eaJcRow(2)]), records: 2 }] });
  const s = createScheduler({ db: h.db, logger: quietLogger, jobs: pulls.jobs });
  await s.start();
  await sleep(500); // caught up at start: never ran before
  await s.stop();
  const runs = await listRuns(h.db, { job: 'pull:ferry' });
  t.match(runs, [{ adapter: 'ferry', trigger: 'catch-up', status: 'ok', accepted: 2 }]);
});

t.test('one leader per job across instances (PostgreSQL advisory lock)', { skip: onServer ? false : 'needs GOVGATE_TEST_DATABASE_URL (PGlite is one process)' }, async (t) => {
  const a = await testDb(t);
  const b = await testDb(t, { schema: a.schema, migrate: false });
  const logA: string[] = [];
  const logB: string[] = [];
  const sa = createScheduler({ db: a, logger: quietLogger, jobs: [slowJob('pull:x', 400, logA)] });
  const sb = createScheduler({ db: b, logger: quietLogger, jobs: [slowJob('pull:x', 400, logB)] });
  const [ra, rb] = await Promise.all([sa.trigger('pull:x', 'schedule'), sleep(50).then(() => sb.trigger('pull:x', 'schedule'))]);
  t.match(ra, { ran: true });
  t.same(rb, { ran: false, reason: 'not-leader' });
  t.same(logB, [], 'the second instance did not run it');
  t.match(await sb.trigger('pull:x'), { ran: true }, 'once released, the other instance can lead');
  await sa.stop();
  await sb.stop();
});
