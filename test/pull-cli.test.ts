/**
 * End to end through the real entry points: `govgate pull` (a manual run and a refused backfill),
 * `govgate adapters check`, and the gateway scheduling a file-drop adapter and stopping cleanly.
 */
import t from 'tap';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EA_JC_DEPT, eaJcRow } from '../src/adapters/pull/simulators/ea-jc.js';
import { dropBatch, jsonOf } from '../src/adapters/pull/simulators/ferry.js';
import { startGateway } from '../src/server.js';
import { listRuns } from '../src/store/queries/pull.js';
import { runCli } from './helpers/cli.js';
import { departmentsDir } from './helpers/pull.js';
import { TEST_DATABASE_URL, newSchemaName } from './helpers/db.js';

function setup(schedule: string) {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-pullcli-'));
  const landing = join(dir, 'in');
  mkdirSync(landing);
  const config = join(dir, 'govgate.yaml');
  const db = TEST_DATABASE_URL === undefined ? `database:\n  dataDir: ${join(dir, 'data')}\n` : `database:\n  url: ${TEST_DATABASE_URL}\n  schema: ${newSchemaName()}\n`;
  writeFileSync(config, `${db}departments:\n  dir: ${departmentsDir}\ndemo:\n  enabled: true\n  hallSim: false\nlog:\n  level: warn\npull:\n  adapters:\n    - name: ferry-in\n      kind: file-drop\n      dept: '${EA_JC_DEPT}'\n      schedule: '${schedule}'\n      options:\n        dir: ${landing}\n`);
  return { config, landing };
}

t.test('govgate pull and adapters check', async (t) => {
  const { config, landing } = setup('0 0 1 1 *');
  dropBatch(landing, { batchId: 'CLI-1', deptCode: EA_JC_DEPT, files: [{ name: 'a.json', format: 'json', body: jsonOf([eaJcRow(1), eaJcRow(2)]), records: 2 }] });
  const check = await runCli('adapters', 'check', '--config', config);
  t.equal(check.code, 0, check.err);
  t.match(check.out, /✓ ferry-in \(file-drop\)/);
  const run = await runCli('pull', 'ferry-in', '--config', config);
  t.equal(run.code, 0, run.err);
  t.match(run.out, /✓ ferry-in \(manual\) ok .*\n.*accepted 2/);
  const backfill = await runCli('pull', 'ferry-in', '--since', '2026-03-01', '--config', config);
  t.equal(backfill.code, 2);
  t.match(backfill.err, /GOVGATE_PULL_BACKFILL_UNSUPPORTED/);
  const unknown = await runCli('pull', 'nope', '--config', config);
  t.equal(unknown.code, 2);
  t.match(unknown.err, /GOVGATE_PULL_ADAPTER_UNKNOWN.*\n.*configured adapters: ferry-in/);
});

t.test('the gateway runs the adapter on its schedule and stops cleanly', async (t) => {
  const { config, landing } = setup('* * * * * *');
  const gw = await startGateway({ configFile: config, env: {}, overrides: { port: 0 } });
  let closed = false;
  t.teardown(async () => { if (!closed) await gw.close(); });
  dropBatch(landing, { batchId: 'GW-1', deptCode: EA_JC_DEPT, files: [{ name: 'a.json', format: 'json', body: jsonOf([eaJcRow(5)]), records: 1 }] });
  let runs: Awaited<ReturnType<typeof listRuns>> = [];
  for (let i = 0; i < 50 && !runs.some((r) => r.accepted === 1); i++) {
    await new Promise((r) => setTimeout(r, 200));
    runs = await listRuns(gw.db, { job: 'pull:ferry-in' });
  }
  t.ok(runs.some((r) => r.accepted === 1 && r.status === 'ok'), 'the scheduled run took the batch');
  const schema = gw.db.schema;
  await gw.close();
  closed = true;
  t.same(gw.scheduler.running(), []);
  if (TEST_DATABASE_URL !== undefined) {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
});
