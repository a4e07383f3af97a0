/**
 * Forwarding end to end: departments push to a real gateway, which forwards to a real hall
 * simulator by the upstream protocol. Runs on PGlite, and on the real server with
 * GOVGATE_TEST_DATABASE_URL.
 */
import t from 'tap';
import { batch, caseRecord, DEPT, startPair } from './helpers/forwarding.js';

async function rows(db: { query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }> }, sql: string) {
  return (await db.query(sql)).rows;
}

t.test('accepted records reach the hall once, with their idempotency keys; versions follow in order', async (t) => {
  const p = await startPair(t);
  const receipt = await p.client.submitBatch(batch([caseRecord('FWD-1'), caseRecord('FWD-2'), caseRecord('FWD-3', { caseNo: '' })]));
  t.equal(receipt.counts.accepted, 2);
  await p.until('two records at the hall', async () => (await p.hall.storedKeys()).length === 2);
  t.same(await p.hall.storedKeys(), [`${DEPT}:case:1:FWD-1`, `${DEPT}:case:1:FWD-2`]);

  // A new version of FWD-1 follows; a resend of FWD-2 (unchanged) is not forwarded again.
  const r2 = await p.client.submitRecord(caseRecord('FWD-1', { dataVer: 9 }));
  t.equal(r2.records[0]!.outcome, 'changed');
  await p.client.submitRecord(caseRecord('FWD-2'));
  await p.until('version 2 at the hall', async () => (await p.hall.storedKeys()).includes(`${DEPT}:case:2:FWD-1`));
  const stats = await p.hall.stats();
  t.equal(stats.stored, 3);
  t.equal(stats.duplicates, 0);
  // The hall stores before it answers, and the gateway settles after the answer.
  await p.until('three acknowledgements logged', async () => (await rows(p.gateway.db, 'SELECT 1 FROM deliveries')).length === 3);

  const delivered = await rows(p.gateway.db, "SELECT business_key, version, outcome FROM deliveries ORDER BY business_key, version");
  t.same(delivered, [
    { business_key: 'FWD-1', version: 1, outcome: 'new' },
    { business_key: 'FWD-1', version: 2, outcome: 'new' },
    { business_key: 'FWD-2', version: 1, outcome: 'new' },
  ]);
  t.same(await rows(p.gateway.db, "SELECT count(*)::int AS n FROM outbox WHERE state <> 'done'"), [{ n: 0 }]);

  const metrics = await (await fetch(`${p.gateway.address}/metrics`)).text();
  t.match(metrics, /govgate_delivery_outcomes_total\{destination="hall",outcome="delivered"\} 3/);
  t.match(metrics, new RegExp(`govgate_records_accepted_total\\{dept="${DEPT}",type="case",outcome="new"\\} 2`));
  t.match(metrics, /govgate_outbox_oldest_age_seconds\{destination="hall"\} 0/);
  t.match(metrics, /govgate_delivery_latency_seconds_count\{destination="hall"\} 3/);
});

t.test('batches read on an intake worker are stored, digested and forwarded like any other', async (t) => {
  const p = await startPair(t, { intake: { workers: 1, workerMinBytes: 0 } });
  const workerReads = async () => {
    const text = await (await fetch(`${p.gateway.address}/metrics`)).text();
    return Number(/govgate_intake_payloads_total\{thread="worker"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  // The worker starts with the first payload and the main thread reads until it is ready.
  let sent = 0;
  while ((await workerReads()) === 0) {
    if (sent >= 200) throw new Error('no payload reached the intake worker');
    await p.client.submitBatch(batch([caseRecord(`FWD-W${sent}`), caseRecord(`FWD-W${sent}-bad`, { caseNo: '' })]));
    sent++;
    await new Promise((r) => setTimeout(r, 20));
  }
  const receipt = await p.client.submitBatch(batch([caseRecord('FWD-W-LAST'), caseRecord('FWD-W-LAST-bad', { caseNo: '' })]));
  t.same(receipt.counts, { records: 2, accepted: 1, rejected: 1, new: 1, changed: 0, unchanged: 0, stale: 0 });
  t.ok((await workerReads()) >= 2, 'read on the worker');
  await p.until('every accepted record at the hall', async () => (await p.hall.storedKeys()).length === sent + 1);
  t.same(await rows(p.gateway.db, "SELECT count(*)::int AS n FROM records WHERE encode(sha256(convert_to(content::text, 'UTF8')), 'hex') <> encode(digest, 'hex')"), [{ n: 0 }],
    'each stored content is the canonical JSON its digest was taken over');
  t.same(await rows(p.gateway.db, 'SELECT count(*)::int AS n FROM rejections'), [{ n: sent + 1 }], 'and each bad record was kept as a rejection');
});

t.test('the hall refusing a record makes a dead letter with its reason; no retry', async (t) => {
  const p = await startPair(t, { faults: { rejectKeys: ['FWD-BAD'] } });
  await p.client.submitBatch(batch([caseRecord('FWD-OK'), caseRecord('FWD-BAD')]));
  await p.until('a dead letter', async () => (await rows(p.gateway.db, 'SELECT 1 FROM dead_letters')).length === 1);
  await p.until('the good one delivered', async () => (await p.hall.storedKeys()).length === 1);
  const [dl] = await rows(p.gateway.db, "SELECT business_key, version, cause, reason->>'code' AS code, attempts, state FROM dead_letters");
  t.same(dl, { business_key: 'FWD-BAD', version: 1, cause: 'rejected', code: 'HALL_REJECTED', attempts: 1, state: 'open' });
  t.same(await p.hall.rejected().then((r) => r.map((x) => x.businessKey)), ['FWD-BAD'], 'asked once: a refusal is not retried');
});

t.test('transient failures are retried until delivered; answers lost after the hall stored are not duplicated', async (t) => {
  // Every answer is lost after the hall stored the batch, until the hall has failed a few times;
  // then it recovers. Deterministic: the gateway must resend what the hall already has.
  const p = await startPair(t, { faults: { errorRate: 1, faultPhase: 'after' } });
  const records = Array.from({ length: 40 }, (_, i) => caseRecord(`FWD-T${i}`));
  for (let i = 0; i < records.length; i += 10) await p.client.submitBatch(batch(records.slice(i, i + 10)));
  await p.until('the hall stored everything, answering 503 each time', async () => (await p.hall.storedKeys()).length === 40);
  await p.until('a few failed answers', async () => (await p.hall.stats()).injected.errors >= 3);
  t.same(await rows(p.gateway.db, "SELECT count(*)::int AS n FROM deliveries"), [{ n: 0 }], 'nothing counts as delivered without an answer');
  p.hall.setFaults({ errorRate: 0 });
  await p.until('all settled', async () => (await rows(p.gateway.db, "SELECT 1 FROM outbox WHERE state <> 'done'")).length === 0, 30_000);
  const stats = await p.hall.stats();
  t.equal(stats.stored, 40, 'each record stored once');
  t.ok(stats.injected.errors >= 3, 'faults were injected');
  const [d] = await rows(p.gateway.db, "SELECT count(*)::int AS n, count(*) FILTER (WHERE outcome = 'duplicate')::int AS dup FROM deliveries");
  t.equal(d!['n'], 40, 'one acknowledgement logged per record');
  t.ok((d!['dup'] as number) > 0, 'resends after lost answers were recognised as duplicates');
});

t.test('an outage opens the breaker; delivery resumes after it', async (t) => {
  const p = await startPair(t, { faults: { outageMode: 'reset' } });
  p.hall.startOutage(1);
  await p.client.submitBatch(batch([caseRecord('FWD-O1'), caseRecord('FWD-O2')]));
  await p.until('the breaker opens', async () => p.gateway.engine!.status()[0]!.breaker !== 'closed', 10_000);
  await p.until('delivered after the outage', async () => (await p.hall.storedKeys()).length === 2, 20_000);
  await p.until('the breaker closes', async () => p.gateway.engine!.status()[0]!.breaker === 'closed', 10_000);
  t.pass('recovered');
});

t.test('a refused key pauses the destination without burning attempts', async (t) => {
  const p = await startPair(t, { destination: { keyId: 'not-a-hall-key' } });
  await p.client.submitRecord(caseRecord('FWD-A1'));
  await p.until('the destination is paused', async () => (await rows(p.gateway.db, 'SELECT 1 FROM destination_state WHERE paused')).length === 1);
  const [entry] = await rows(p.gateway.db, 'SELECT state, attempts FROM outbox');
  t.same(entry, { state: 'pending', attempts: 0 }, 'put back, attempt not counted');
  const [st] = await rows(p.gateway.db, "SELECT paused_by, paused_reason->>'class' AS class, paused_reason->>'code' AS code FROM destination_state");
  t.same(st, { paused_by: 'gateway', class: 'auth', code: 'HTTP_401' });
  t.equal((await p.hall.stats()).stored, 0);
});
