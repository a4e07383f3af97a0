/**
 * Several gateway processes on one PostgreSQL: each outbox entry is sent by exactly one of them.
 * The hall injects no faults, so no entry ever needs a resend: any entry sent twice would show up
 * as a duplicate at the hall.
 */
import t from 'tap';
import { GovgateClient } from '../src/client/index.js';
import { startHallSim } from '../src/hall-sim/index.js';
import { batch, caseRecord, DEPT_KEY } from './helpers/forwarding.js';
import { forwardingConfig, startGatewayProcess } from './helpers/gateway-procs.js';
import { TEST_DATABASE_URL, testDb } from './helpers/db.js';

const RECORDS = 3000;

if (TEST_DATABASE_URL === undefined) {
  t.pass('several instances need a PostgreSQL server (GOVGATE_TEST_DATABASE_URL)');
} else {
  t.test('three instances deliver each entry once between them', async (t) => {
    const db = await testDb(t);
    const hallDb = await testDb(t, { migrate: false });
    const hall = await startHallSim({ db: hallDb });
    t.teardown(() => hall.close());
    // Small claims and a slow-ish poll so that all instances get a share of the work.
    const config = forwardingConfig(TEST_DATABASE_URL!, db.schema, hall, { batchSize: 50, concurrency: 2 });
    const gws = await Promise.all([0, 1, 2].map(() => startGatewayProcess(config)));
    t.teardown(() => gws.forEach((g) => g.child.kill('SIGKILL')));

    const clients = gws.map((g) => new GovgateClient({ baseUrl: g.url, ...DEPT_KEY }));
    const batches = Array.from({ length: RECORDS / 100 }, (_, b) => Array.from({ length: 100 }, (_, j) => caseRecord(`MULTI-${b * 100 + j}`)));
    await Promise.all(batches.map((records, b) => clients[b % clients.length]!.submitBatch({ ...batch(records), batchId: `MULTI-${b}` })));

    const limit = Date.now() + 120_000;
    while ((await hall.stats()).stored < RECORDS) {
      if (Date.now() > limit) throw new Error('not everything was delivered in time');
      await new Promise((r) => setTimeout(r, 200));
    }
    // The hall stores before it answers and the gateways settle after the answer: wait for every
    // acknowledgement to be logged (which also gives a double send the time to show).
    while ((await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state <> 'done'")).rows[0]!.n > 0) {
      if (Date.now() > limit) throw new Error('not everything was settled in time');
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 500));
    const stats = await hall.stats();
    t.equal(stats.stored, RECORDS, 'every record at the hall');
    t.equal(stats.duplicates, 0, 'no entry was sent twice');
    t.equal(stats.recordsReceived, RECORDS, 'the hall received exactly one copy of each');
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM deliveries');
    t.equal(rows[0]!.n, RECORDS, 'one acknowledgement logged per record');

    const delivered = await Promise.all(gws.map(async (g) => {
      const text = await (await fetch(`${g.url}/metrics`)).text();
      const m = /govgate_delivery_outcomes_total\{destination="hall",outcome="delivered"\} (\d+)/.exec(text);
      return Number(m?.[1] ?? 0);
    }));
    t.equal(delivered.reduce((a, b) => a + b, 0), RECORDS, `the instances' own counts add up: ${delivered.join(' + ')}`);
    t.ok(delivered.filter((n) => n > 0).length >= 2, `the work was shared: ${delivered.join(', ')}`);
  });
}
