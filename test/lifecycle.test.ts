import t from 'tap';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signRequest } from '../src/client/index.js';
import { DEMO_DEPT_2, exampleBatch, exampleCase } from '../src/schemas/spec/examples.js';
import { spawnGateway } from './helpers/process.js';
import { TEST_DATABASE_URL, testDb, type Teardown } from './helpers/db.js';

const departments = fileURLToPath(new URL('../config/departments/', import.meta.url));

async function configFile(t: Teardown): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-life-'));
  const file = join(dir, 'govgate.yaml');
  // On the server, testDb makes a fresh schema for the gateway process and drops it afterwards.
  const db = TEST_DATABASE_URL === undefined ? `  dataDir: ${join(dir, 'data')}\n` : `  url: ${TEST_DATABASE_URL}\n  schema: ${(await testDb(t, { migrate: false })).schema}\n`;
  writeFileSync(file, `server:\n  port: 0\ndatabase:\n${db}departments:\n  dir: ${departments}\ndemo:\n  enabled: true\n  hallSim: false\nlog:\n  level: warn\n`);
  return file;
}

t.test('start prints where it listens and the demo keys; SIGTERM drains the request in flight, then exits 0', async (t) => {
  const gw = await spawnGateway(['start', '--config', await configFile(t)], {});
  t.teardown(() => { gw.child.kill('SIGKILL'); });
  t.match(gw.output(), /listening on http:\/\/127\.0\.0\.1:\d+/);
  t.match(gw.output(), /keyId=demo-ghzy-2026/);
  t.same(await (await fetch(`${gw.url}/healthz`)).json(), { status: 'ok' });

  const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };
  const batch = { ...exampleBatch(Array.from({ length: 50 }, (_, i) => exampleCase({ ...own, caseNo: `DRAIN-${i}` }))), senderDept: DEMO_DEPT_2.code };
  const body = Buffer.from(JSON.stringify(batch));
  const url = `${gw.url}/api/v1/batches`;
  const headers = {
    ...signRequest({ method: 'POST', url, body, keyId: 'demo-ghzy-2026', secret: 'demo-only-secret-ghzy-330100-do-not-use-in-production', algorithm: 'hmac-sm3' }),
    'content-type': 'application/json',
    'content-length': String(body.length),
  };
  // The body goes out in two halves with SIGTERM in between, so the request is certainly in flight.
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, 1000));
    setTimeout(() => {
      gw.child.kill('SIGTERM');
      setTimeout(() => req.end(body.subarray(1000)), 300);
    }, 300);
  });
  const res = await answer;
  t.equal(res.status, 200, res.body);
  t.match(JSON.parse(res.body), { status: 'accepted', counts: { accepted: 50 } });
  const exit = await gw.exited;
  t.equal(exit.code, 0, gw.output());
});

t.test('a broken configuration names the file and line and exits 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-badcfg-'));
  const file = join(dir, 'govgate.yaml');
  writeFileSync(file, 'server:\n  port: 0\n  prot: 8080\n');
  await t.rejects(spawnGateway(['start', '--config', file], {}, 20_000), /govgate\.yaml:3/);
});
