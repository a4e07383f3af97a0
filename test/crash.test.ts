/**
 * Crash safety on a real PostgreSQL server: push continuously, kill -9 the gateway mid-run,
 * restart it. Every record that got an "accepted" receipt must be in the database, and no payload
 * may be half-written (a raw payload without its receipt, or a receipt without its records).
 */
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GovgateClient, type Receipt } from '../src/client/index.js';
import { DEMO_DEPT_2, exampleBatch, exampleCase } from '../src/schemas/spec/examples.js';
import { verifyChain } from '../src/store/queries/verify-chain.js';
import { spawnGateway } from './helpers/process.js';
import { TEST_DATABASE_URL, testDb } from './helpers/db.js';

if (TEST_DATABASE_URL === undefined) {
  t.pass('the crash test needs a PostgreSQL server (GOVGATE_TEST_DATABASE_URL): PGlite does not fsync');
} else {
  const url = TEST_DATABASE_URL;
  t.test('kill -9 mid-run loses no accepted record and leaves nothing half-written', async (t) => {
    // testDb makes a fresh schema and drops it afterwards; the gateway processes use the same one.
    const db = await testDb(t);
    const schema = db.schema;
    const dir = mkdtempSync(join(tmpdir(), 'govgate-crash-'));
    const config = join(dir, 'govgate.yaml');
    const departments = fileURLToPath(new URL('../config/departments/', import.meta.url));
    writeFileSync(config, `server:\n  port: 0\ndatabase:\n  url: ${url}\n  schema: ${schema}\ndepartments:\n  dir: ${departments}\ndemo:\n  enabled: true\n  hallSim: false\nlog:\n  level: warn\n`);

    const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };
    const accepted: Receipt[] = [];
    let failures = 0;
    let n = 0;

    for (let round = 0; round < 2; round++) {
      const gw = await spawnGateway(['start', '--config', config], {});
      const client = new GovgateClient({ baseUrl: gw.url, keyId: 'demo-ghzy-2026', secret: 'demo-only-secret-ghzy-330100-do-not-use-in-production', algorithm: 'hmac-sm3' });
      let stop = false;
      const pusher = async () => {
        while (!stop) {
          const i = n++;
          const records = Array.from({ length: 1 + (i % 5) }, (_, j) => exampleCase({ ...own, caseNo: `CRASH-${i}-${j}` }));
          try {
            accepted.push(await client.submitBatch({ ...exampleBatch(records), senderDept: DEMO_DEPT_2.code, batchId: `CRASH-${i}` }));
          } catch {
            failures++; // in flight when the process died: no receipt, so no promise was made
          }
        }
      };
      const pushers = Array.from({ length: 8 }, pusher);
      await new Promise((r) => setTimeout(r, 1500));
      gw.child.kill('SIGKILL');
      await gw.exited;
      stop = true;
      await Promise.all(pushers);
    }
    t.ok(accepted.length > 20, `${accepted.length} batches acknowledged before the kills`);
    t.ok(failures > 0, 'some requests were in flight when the gateway died');

    // Every acknowledged record is there, in the version its receipt named.
    const keys = accepted.flatMap((r) => r.records.filter((x) => x.outcome === 'new').map((x) => x.key!));
    const found = await db.query<{ business_key: string }>(`SELECT business_key FROM records WHERE dept_code = $1 AND business_key = ANY($2::text[])`, [DEMO_DEPT_2.code, keys]);
    t.equal(new Set(found.rows.map((r) => r.business_key)).size, keys.length, 'lost = 0');
    const receipts = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM receipts WHERE receipt_id = ANY($1::text[])`, [accepted.map((r) => r.receiptId)]);
    t.equal(receipts.rows[0]!.n, accepted.length, 'every receipt given is stored');

    // Nothing half-written: every raw payload has its receipt, every receipt all of its records.
    const orphans = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM raw_inbox r WHERE NOT EXISTS (SELECT 1 FROM receipts c WHERE c.raw_id = r.id)`);
    t.equal(orphans.rows[0]!.n, 0, 'no raw payload without its receipt');
    const partial = await db.query<{ n: number }>(`
      SELECT count(*)::int AS n FROM receipts c
       WHERE (c.body->'counts'->>'new')::int + (c.body->'counts'->>'changed')::int
             <> (SELECT count(*) FROM records x WHERE x.raw_id = c.raw_id)`);
    t.equal(partial.rows[0]!.n, 0, 'no receipt without all of its records');
    const duplicates = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM (SELECT business_key FROM records GROUP BY business_key, version HAVING count(*) > 1) d`);
    t.equal(duplicates.rows[0]!.n, 0, 'duplicates = 0');

    const chains = await verifyChain(db);
    t.ok(chains.every((c) => c.ok), `hash chains intact: ${JSON.stringify(chains)}`);
  });
}
