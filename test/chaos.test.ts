/**
 * Chaos: records pushed while the hall returns 5xx and times out, has an outage, and the gateway
 * is killed with SIGKILL and restarted several times. At the end the hall holds every accepted
 * record exactly once by key, and the dead letters are exactly the records the hall refused.
 *
 *   npm test                 a short run (CI): CHAOS_RECORDS=3000, a 5 s outage, 3 kills
 *   npm run chaos            the full run: 100,000 records, a 60 s outage, 3 kills
 *
 * Knobs (environment): CHAOS_RECORDS, CHAOS_OUTAGE_SECONDS, CHAOS_KILLS, CHAOS_ERROR_RATE (0.2),
 * CHAOS_TIMEOUT_RATE (0.1), CHAOS_REJECT_RATE (0.01). Needs a PostgreSQL server
 * (GOVGATE_TEST_DATABASE_URL): PGlite is one process and does not fsync.
 */
import t from 'tap';
import { GovgateClient } from '../src/client/index.js';
import { startHallSim } from '../src/hall-sim/index.js';
import { batch, caseRecord, DEPT, DEPT_KEY } from './helpers/forwarding.js';
import { forwardingConfig, startGatewayProcess } from './helpers/gateway-procs.js';
import { TEST_DATABASE_URL, testDb } from './helpers/db.js';
import type { GatewayProcess } from './helpers/process.js';

const num = (name: string, fallback: number) => (process.env[name] === undefined || process.env[name] === '' ? fallback : Number(process.env[name]));
const RECORDS = num('CHAOS_RECORDS', 3000);
const OUTAGE_SECONDS = num('CHAOS_OUTAGE_SECONDS', 5);
const KILLS = num('CHAOS_KILLS', 3);
const BATCH = 100;
const PUSHERS = 4;

if (TEST_DATABASE_URL === undefined) {
  t.pass('the chaos test needs a PostgreSQL server (GOVGATE_TEST_DATABASE_URL)');
} else {
  const url = TEST_DATABASE_URL;
  t.test(`chaos: ${RECORDS} records, 5xx, timeouts, a ${OUTAGE_SECONDS} s outage, ${KILLS} × SIGKILL`, { timeout: Math.max(600_000, RECORDS * 30) }, async (t) => {
    const started = Date.now();
    const db = await testDb(t);
    const hallDb = await testDb(t, { migrate: false });
    const hall = await startHallSim({
      db: hallDb,
      faults: {
        errorRate: num('CHAOS_ERROR_RATE', 0.2), timeoutRate: num('CHAOS_TIMEOUT_RATE', 0.1), timeoutHoldMs: 4000,
        faultPhase: 'mixed', rejectRate: num('CHAOS_REJECT_RATE', 0.01),
      },
    });
    t.teardown(() => hall.close());
    // Request timeout 1 s: the hall's held sockets (timeouts) are given up on quickly. Faults are
    // drawn per request to the hall, so the short run needs enough requests for every kind to come
    // up: at least 75 batches (0.9^75 ≈ 0.04 % that no timeout is drawn); 200 per batch for long runs.
    const deliveryBatch = Math.max(20, Math.min(200, Math.floor(RECORDS / 75)));
    const config = forwardingConfig(url, db.schema, hall, { batchSize: deliveryBatch, concurrency: 4 }, { timeoutMs: 1000 });

    let gw: GatewayProcess = await startGatewayProcess(config);
    t.teardown(() => { gw.child.kill('SIGKILL'); });
    let client = new GovgateClient({ baseUrl: gw.url, ...DEPT_KEY, timeoutMs: 10_000 });
    let restarting: Promise<void> | undefined;

    // Kills happen as pushing passes these fractions; the outage starts a little after the first.
    const total = Math.ceil(RECORDS / BATCH);
    const killAt = Array.from({ length: KILLS }, (_, i) => Math.floor((total * (i + 1)) / (KILLS + 1)));
    // Between the first two kills, and only while the gateway is up: an outage nobody sends into
    // proves nothing.
    const outageAt = Math.floor(total * 0.35);
    let next = 0;
    let pushed = 0;
    let kills = 0;
    let outages = 0;
    const accepted = new Set<string>();

    async function killAndRestart(): Promise<void> {
      gw.child.kill('SIGKILL');
      await gw.exited;
      kills++;
      gw = await startGatewayProcess(config);
      client = new GovgateClient({ baseUrl: gw.url, ...DEPT_KEY, timeoutMs: 10_000 });
    }

    async function pusher(): Promise<void> {
      for (;;) {
        const b = next++;
        if (b >= total) return;
        const records = Array.from({ length: Math.min(BATCH, RECORDS - b * BATCH) }, (_, j) => caseRecord(`CHAOS-${b * BATCH + j}`));
        // Until a receipt says so, the batch was not taken: send it again (a resend of what was in
        // fact stored comes back `unchanged`, which is accepted too).
        for (;;) {
          if (restarting) await restarting;
          try {
            const receipt = await client.submitBatch({ ...batch(records), batchId: `CHAOS-${b}` });
            for (const r of receipt.records) if (r.outcome === 'new' || r.outcome === 'changed' || r.outcome === 'unchanged') accepted.add(r.key!);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 200));
          }
        }
        pushed++;
        if (killAt.includes(pushed) && restarting === undefined) {
          restarting = killAndRestart().finally(() => { restarting = undefined; });
        }
        if (pushed >= outageAt && outages === 0 && restarting === undefined) {
          outages++;
          hall.startOutage(OUTAGE_SECONDS);
        }
      }
    }
    await Promise.all(Array.from({ length: PUSHERS }, pusher));
    if (restarting) await restarting;
    const pushSeconds = (Date.now() - started) / 1000;

    // Drain: everything settled (delivered or dead-lettered) in the gateway's outbox.
    const drainLimit = Date.now() + Math.max(300_000, RECORDS * 10);
    for (;;) {
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state <> 'done'");
      if (rows[0]!.n === 0) break;
      if (Date.now() > drainLimit) throw new Error(`outbox not drained: ${rows[0]!.n} entries left`);
      await new Promise((r) => setTimeout(r, 500));
    }
    gw.child.kill('SIGTERM');
    await gw.exited;

    const stored = (await hall.storedKeys()).map((k) => k.split(':').slice(3).join(':'));
    const perKey = new Map<string, number>();
    for (const k of stored) perKey.set(k, (perKey.get(k) ?? 0) + 1);
    // Every record pushed is valid, so every refusal is the hall's own rule (rejectRate), with a key.
    const refused = new Set((await hall.rejected()).flatMap((r) => r.businessKey ?? []));
    const { rows: dead } = await db.query<{ business_key: string; cause: string }>('SELECT business_key, cause FROM dead_letters WHERE dept_code = $1', [DEPT]);
    const deadKeys = new Set(dead.map((d) => d.business_key));

    const lost = [...accepted].filter((k) => !perKey.has(k) && !refused.has(k));
    const duplicates = [...perKey.values()].reduce((n, c) => n + c - 1, 0) + [...refused].filter((k) => perKey.has(k)).length;
    const stats = await hall.stats();
    const summary = {
      records: RECORDS, accepted: accepted.size, storedAtHall: perKey.size, refusedByHall: refused.size, deadLetters: dead.length,
      lost: lost.length, duplicates, resendsRecognisedByHall: stats.duplicates, injected: stats.injected, kills, outageSeconds: OUTAGE_SECONDS,
      pushSeconds: Math.round(pushSeconds), totalSeconds: Math.round((Date.now() - started) / 1000),
    };
    t.comment(JSON.stringify(summary));
    process.stdout.write(`# chaos: lost = ${lost.length}, duplicates = ${duplicates}\n`);

    t.equal(accepted.size, RECORDS, 'every record pushed was accepted');
    t.equal(kills, KILLS, 'the gateway was killed as planned');
    t.ok(stats.injected.errors > 0 && stats.injected.timeouts > 0 && stats.injected.outageDrops > 0, 'every kind of fault happened');
    t.equal(lost.length, 0, `lost = 0 ${lost.slice(0, 5).join(' ')}`);
    t.equal(duplicates, 0, 'duplicates = 0');
    t.equal(dead.length, deadKeys.size, 'one dead letter per refused record');
    t.same([...deadKeys].sort(), [...refused].sort(), 'the dead letters are exactly the records the hall refused');
    t.ok(dead.every((d) => d.cause === 'rejected'), 'all of them refused, none exhausted');
  });
}
