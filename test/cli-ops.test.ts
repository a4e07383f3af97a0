import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';
import { startGateway } from '../src/server.js';
import { TEST_DATABASE_URL, testDb } from './helpers/db.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const run = runCli;

t.test('mapping test shows each record before and after mapping, and its validation', async (t) => {
  const ok = await run('mapping', 'test', '11330100002489671K', join(root, 'config/examples/ea-jc-case.json'), '--departments', join(root, 'config/departments'));
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /映射前 before:[\s\S]*"PROJID"[\s\S]*映射后 after:[\s\S]*"caseNo"/);
  t.match(ok.out, /1 records: 1 accepted, 0 rejected/);

  const dir = mkdtempSync(join(tmpdir(), 'govgate-map-'));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ PROJID: 'X-1', DATAVER: '1', INFOTYPE: '8', RECEIVETIME: '2026-02-30 09:00:00' }));
  const bad = await run('mapping', 'test', '11330100002489671K', join(dir, 'bad.json'), '--departments', join(root, 'config/departments'));
  t.equal(bad.code, 1);
  t.match(bad.out, /GOVGATE_MAPPING_FAILED/);
  t.equal((await run('mapping', 'test', 'NO-SUCH', join(dir, 'bad.json'), '--departments', join(root, 'config/departments'))).code, 2);
});

t.test('the newcomer flow: start in demo mode, demo push, audit verify', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-demo-'));
  const db = TEST_DATABASE_URL === undefined ? undefined : await testDb(t, { migrate: false });
  const overrides = db === undefined ? { port: 0, dataDir: join(dir, 'data') } : { port: 0, databaseUrl: TEST_DATABASE_URL!, schema: db.schema };
  const config = join(dir, 'govgate.yaml');
  writeFileSync(config, `departments:\n  dir: ${join(root, 'config/departments')}\ndemo:\n  enabled: true\nlog:\n  level: warn\n${db === undefined ? `database:\n  dataDir: ${join(dir, 'data')}\n` : `database:\n  url: ${TEST_DATABASE_URL}\n  schema: ${db.schema}\n`}`);
  const gw = await startGateway({ configFile: config, env: {}, overrides });
  let closed = false;
  t.teardown(() => (closed ? undefined : gw.close()));

  t.ok(gw.demoHall, 'demo mode without destinations forwards to an embedded hall simulator');
  const demo = await run('demo', 'push', '--url', gw.address, '--departments', join(root, 'config/departments'), '--hall', gw.demoHall!.url);
  t.equal(demo.code, 0, demo.out);
  t.match(demo.out, /partial/);
  t.match(demo.out, /GOVGATE_FIELD_CODE/);
  t.match(demo.out, /unchanged/);
  t.match(demo.out, /changed v2/);
  t.match(demo.out, /403 GOVGATE_FORBIDDEN_DEPARTMENT/);
  t.match(demo.out, /the hall simulator received \(forwarded by the gateway\): 3\/3/);

  await gw.close();
  closed = true;
  const audit = await run('audit', 'verify', '--config', config);
  t.equal(audit.code, 0, audit.out);
  t.match(audit.out, /✓ 11330100002490146A: 3 条/);
});
