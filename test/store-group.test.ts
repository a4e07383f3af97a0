/**
 * Group commit: several payloads in one transaction (ingestMany) and the committer that forms the
 * groups (createGroupCommitter / createPushStore). Runs on PGlite, and on a real PostgreSQL server
 * when GOVGATE_TEST_DATABASE_URL is set.
 */
import t from 'tap';
import { GovgateError } from '../src/errors.js';
import { finding } from '../src/schemas/findings.js';
import { contentDigest } from '../src/schemas/canonical.js';
import type { Db, Tx } from '../src/store/db.js';
import { createGroupCommitter } from '../src/store/group-commit.js';
import { createPushStore } from '../src/store/push-store.js';
import { ingest, ingestMany, type IngestInput, type IngestOutcome, type IngestRecordInput, type IngestResult, type RecordReceipt } from '../src/store/queries/ingest.js';
import { getReceipt } from '../src/store/queries/receipts.js';
import { verifyChain } from '../src/store/queries/verify-chain.js';
import { engineName, onServer, testDb } from './helpers/db.js';

const A = '330100-SJ';
const B = '330100-GA';

function caseRecord(index: number, key: string, dataVer: number, extra: Record<string, unknown> = {}): IngestRecordInput {
  const content = { caseNo: key, dataVer, applicant: '张三', ...extra };
  return { index, recordType: 'case', businessKey: key, dataVer, status: 'accepted', content, digest: contentDigest(content) };
}

function payload(records: IngestRecordInput[], over: Partial<IngestInput> = {}): IngestInput {
  return {
    deptCode: A,
    source: 'http-push',
    raw: { body: Buffer.from(JSON.stringify({ records: records.map((r) => r.content ?? null), batch: over.batchId ?? null })), contentType: 'application/json' },
    records,
    ...over,
  };
}

async function count(db: Db, table: string, where = 'true'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`);
  return rows[0]!.n;
}

const outcomes = (records: readonly RecordReceipt[]) => records.map((r) => [r.outcome, r.version]);
const ok = (o: IngestOutcome): IngestResult => {
  if (!o.ok) throw o.error;
  return o.result;
};

/** The transaction ids (xmin) of a department's raw rows: one per group that stored any. */
async function commits(db: Db, where: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(DISTINCT xmin::text)::int AS n FROM raw_inbox WHERE ${where}`);
  return rows[0]!.n;
}

t.test(`one group, two departments, one transaction; results in input order (${engineName})`, async (t) => {
  const db = await testDb(t);
  const inputs = [
    payload([caseRecord(0, 'A-1', 1)], { batchId: 'b0' }),
    payload([caseRecord(0, 'B-1', 1)], { deptCode: B, batchId: 'b1' }),
    payload([caseRecord(0, 'A-2', 1)], { batchId: 'b2' }),
    payload([caseRecord(0, 'B-2', 1), caseRecord(1, 'B-3', 1)], { deptCode: B, batchId: 'b3' }),
    payload([caseRecord(0, 'A-3', 1)], { batchId: 'b4' }),
  ];
  const results = (await ingestMany(db, inputs)).map(ok);
  t.same(results.map((r) => r.receipt.batchId), ['b0', 'b1', 'b2', 'b3', 'b4'], 'one result per input, in order');
  t.same(results.map((r) => [r.receipt.deptCode, r.chainSeq]), [[A, 1], [B, 1], [A, 2], [B, 2], [A, 3]], 'each department chained in group order');
  t.same(results.map((r) => r.receipt.counts.new), [1, 1, 1, 2, 1]);
  t.equal(await commits(db, 'true'), 1, 'all five payloads in one transaction');
  t.ok(results.every((r, i) => i === 0 || r.rawId > results[i - 1]!.rawId), 'raw ids ascend in group order');

  // Children are attached to their own payload's raw row.
  const { rows } = await db.query<{ business_key: string; raw_id: number; dept_code: string }>('SELECT business_key, raw_id, dept_code FROM records ORDER BY business_key');
  t.same(rows.map((r) => [r.business_key, r.dept_code, r.raw_id]), [
    ['A-1', A, results[0]!.rawId], ['A-2', A, results[2]!.rawId], ['A-3', A, results[4]!.rawId],
    ['B-1', B, results[1]!.rawId], ['B-2', B, results[3]!.rawId], ['B-3', B, results[3]!.rawId],
  ]);
  t.same((await verifyChain(db)).map((r) => [r.dept, r.ok, r.lastSeq]), [[B, true, 2], [A, true, 3]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))));
  const { rows: heads } = await db.query<{ dept_code: string; seq: number; hash: Uint8Array }>('SELECT dept_code, seq, hash FROM dept_chain_head ORDER BY dept_code');
  t.same(heads.map((h) => [h.dept_code, h.seq, Buffer.from(h.hash).toString('hex')]),
    [[B, 2, results[3]!.chainHash], [A, 3, results[4]!.chainHash]].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    'each head is its department\'s last payload of the group');

  // The next group continues both chains.
  const next = (await ingestMany(db, [payload([caseRecord(0, 'B-4', 1)], { deptCode: B }), payload([caseRecord(0, 'A-4', 1)])])).map(ok);
  t.same(next.map((r) => r.chainSeq), [3, 4]);
  t.same((await verifyChain(db)).map((r) => r.ok), [true, true]);
});

t.test('a replayed nonce inside a group fails only that payload and leaves the nonce as it was', async (t) => {
  const db = await testDb(t);
  const old = new Date(Date.now() - 60_000);
  await ingest(db, payload([caseRecord(0, 'seed', 1)], { nonce: { keyId: 'k1', nonce: 'used' }, receivedAt: old }));
  const raws = await count(db, 'raw_inbox');

  const results = await ingestMany(db, [
    payload([caseRecord(0, 'N-1', 1)], { nonce: { keyId: 'k1', nonce: 'fresh-1' }, batchId: 'first' }),
    payload([caseRecord(0, 'N-2', 1)], { nonce: { keyId: 'k1', nonce: 'used' }, batchId: 'replay of an earlier request' }),
    payload([caseRecord(0, 'N-3', 1)], { nonce: { keyId: 'k1', nonce: 'fresh-2' }, batchId: 'third' }),
    payload([caseRecord(0, 'N-4', 1)], { nonce: { keyId: 'k1', nonce: 'fresh-1' }, batchId: 'replay within the group' }),
    payload([caseRecord(0, 'N-5', 1)], { nonce: { keyId: 'k2', nonce: 'used' }, batchId: 'same nonce, other key' }),
  ]);
  t.same(results.map((r) => r.ok), [true, false, true, false, true]);
  for (const i of [1, 3]) {
    const r = results[i]!;
    t.ok(!r.ok && r.error instanceof GovgateError && r.error.code === 'GOVGATE_AUTH_REPLAY', `payload ${i} is a replay`);
  }
  t.same(results.filter((r) => r.ok).map((r) => ok(r).chainSeq), [2, 3, 4], 'the replays take no place in the chain');
  t.equal(await count(db, 'raw_inbox'), raws + 3);
  t.equal(await count(db, 'records', "business_key IN ('N-2', 'N-4')"), 0, 'nothing of a replay is stored');
  const { rows } = await db.query<{ seen_at: Date }>("SELECT seen_at FROM nonces WHERE key_id = 'k1' AND nonce = 'used'");
  t.equal(rows[0]!.seen_at.getTime(), old.getTime(), 'the replayed nonce is unchanged');
  t.equal(await count(db, 'nonces'), 4, 'used, fresh-1, fresh-2 and k2/used');
  t.same((await verifyChain(db, A)).map((r) => r.ok), [true]);
});

t.test('the same key in consecutive payloads of one group behaves as payloads in a row', async (t) => {
  const db = await testDb(t);
  const results = (await ingestMany(db, [
    payload([caseRecord(0, 'K', 1)]),
    payload([caseRecord(0, 'K', 2, { result: '准予许可' }), caseRecord(1, 'L', 1)]),
    payload([caseRecord(0, 'K', 2, { result: '准予许可' })]),
    payload([caseRecord(0, 'K', 1), caseRecord(1, 'L', 1)]),
    payload([caseRecord(0, 'L', 1, { note: 'fixed' })]),
  ])).map(ok);
  t.same(results.map((r) => outcomes(r.receipt.records)), [
    [['new', 1]],
    [['changed', 2], ['new', 1]],
    [['unchanged', 2]],
    [['stale', 2], ['unchanged', 1]],
    [['changed', 2]],
  ]);
  const { rows } = await db.query<{ business_key: string; version: number; raw_id: number }>('SELECT business_key, version, raw_id FROM records ORDER BY business_key, version');
  t.same(rows.map((r) => [r.business_key, r.version, r.raw_id]), [
    ['K', 1, results[0]!.rawId], ['K', 2, results[1]!.rawId], ['L', 1, results[1]!.rawId], ['L', 2, results[4]!.rawId],
  ]);
  const { rows: heads } = await db.query<{ business_key: string; version: number; data_ver: number }>('SELECT business_key, version, data_ver FROM record_heads ORDER BY business_key');
  t.same(heads, [{ business_key: 'K', version: 2, data_ver: 2 }, { business_key: 'L', version: 2, data_ver: 1 }]);
  t.equal(await count(db, 'rejections', `raw_id = ${results[3]!.rawId} AND findings->0->>'code' = 'GOVGATE_RECORD_STALE'`), 1);

  // The same sequence one payload at a time gives the same receipts.
  const solo = await testDb(t);
  const one = [];
  for (const p of [
    payload([caseRecord(0, 'K', 1)]),
    payload([caseRecord(0, 'K', 2, { result: '准予许可' }), caseRecord(1, 'L', 1)]),
    payload([caseRecord(0, 'K', 2, { result: '准予许可' })]),
    payload([caseRecord(0, 'K', 1), caseRecord(1, 'L', 1)]),
    payload([caseRecord(0, 'L', 1, { note: 'fixed' })]),
  ]) one.push(await ingest(solo, p));
  t.same(one.map((r) => r.receipt.records), results.map((r) => r.receipt.records), 'identical to ingesting them one by one');
});

t.test('payload-level rejections and broken inputs inside a group', async (t) => {
  const db = await testDb(t);
  const syntax = finding('error', 'GOVGATE_JSON_SYNTAX', { line: 1, column: 2, detail: 'unexpected end' });
  const bad = finding('error', 'GOVGATE_FIELD_REQUIRED', { path: '/applicant', label: '申请人' });
  const results = await ingestMany(db, [
    payload([caseRecord(0, 'P-1', 1)]),
    { deptCode: A, source: 'http-push', records: [], payloadFindings: [syntax], raw: { body: Buffer.from('{"records":['), contentType: 'application/json' } },
    payload([caseRecord(0, 'P-2', 1), { index: 1, recordType: 'case', businessKey: 'P-X', status: 'rejected', findings: [bad] }]),
    payload([{ ...caseRecord(0, 'P-3', 1), recordType: 'nonsense' }]),
    payload([caseRecord(0, 'P-4', 1)]),
  ]);
  t.same(results.map((r) => r.ok), [true, true, true, false, true]);
  t.ok(!results[3]!.ok && results[3]!.error instanceof TypeError, 'a broken caller contract fails alone, before the database');
  const [p1, whole, p2, , p4] = results.map((r) => (r.ok ? r.result : undefined));
  t.equal(whole!.receipt.status, 'rejected');
  t.same(whole!.receipt.findings, [syntax]);
  t.same(whole!.receipt.records, []);
  t.equal(p2!.receipt.status, 'partial');
  t.same([p1!.chainSeq, whole!.chainSeq, p2!.chainSeq, p4!.chainSeq], [1, 2, 3, 4], 'the rejected payload keeps its place in the chain');
  const { rows } = await db.query<{ raw_id: number; record_index: number | null; business_key: string | null }>('SELECT raw_id, record_index, business_key FROM rejections ORDER BY raw_id, record_index NULLS FIRST');
  t.same(rows.map((r) => [r.raw_id, r.record_index, r.business_key]), [[whole!.rawId, null, null], [p2!.rawId, 1, 'P-X']]);
  const { rows: raw } = await db.query<{ body: Uint8Array }>(`SELECT body FROM raw_inbox WHERE id = ${whole!.rawId}`);
  t.equal(Buffer.from(raw[0]!.body).toString(), '{"records":[', 'its raw bytes are kept exactly');

  // Receipts of every payload of the group are fetchable, each by its own department.
  for (const r of [p1!, whole!, p2!, p4!]) t.same(await getReceipt(db, r.receipt.receiptId, A), r.receipt);
  t.equal(await getReceipt(db, p1!.receipt.receiptId, B), undefined);
  t.same((await verifyChain(db, A)).map((r) => r.ok), [true]);
});

t.test('the inTransaction hook runs per payload with the group\'s transaction; a throw rolls back the group', async (t) => {
  const db = await testDb(t);
  const seen: Array<[Tx, string | undefined, number]> = [];
  const results = (await ingestMany(db, [payload([caseRecord(0, 'H-1', 1)], { batchId: 'x' }), payload([caseRecord(0, 'H-2', 1)], { deptCode: B, batchId: 'y' })], {
    inTransaction: async (tx, result, position) => {
      seen.push([tx, result.receipt.batchId, position]);
      t.equal(await count(tx as Db, 'raw_inbox', `id = ${result.rawId}`), 1, 'the payload is written when its hook runs');
    },
  })).map(ok);
  t.same(seen.map(([, b, p]) => [b, p]), [['x', 0], ['y', 1]]);
  t.equal(seen[0]![0], seen[1]![0], 'the same transaction');
  t.equal(results.length, 2);

  const before = await Promise.all(['raw_inbox', 'records', 'receipts', 'nonces'].map((x) => count(db, x)));
  const failed = await ingestMany(db, [
    payload([caseRecord(0, 'H-3', 1)], { nonce: { keyId: 'k', nonce: 'h3' } }),
    payload([caseRecord(0, 'H-4', 1)], { batchId: 'poison' }),
  ], {
    inTransaction: async (_tx, result) => {
      if (result.receipt.batchId === 'poison') throw new Error('injected');
    },
  });
  t.same(failed.map((r) => !r.ok && r.error instanceof Error && r.error.message), ['injected', 'injected'], 'the whole group failed');
  t.same(await Promise.all(['raw_inbox', 'records', 'receipts', 'nonces'].map((x) => count(db, x))), before, 'and nothing of it is stored');
  t.same((await verifyChain(db)).map((r) => r.ok), [true, true]);
});

t.test('committer: concurrent submissions share commits; one bad payload cannot sink the others', async (t) => {
  const db = await testDb(t);
  const committer = createGroupCommitter(db, {
    inTransaction: async (_tx, result) => {
      if (result.receipt.batchId === 'poison') throw new Error('injected failure');
    },
  });
  const subs = Array.from({ length: 30 }, (_, i) => committer.submit(payload([caseRecord(0, `C-${i}`, 1)], { batchId: i === 7 ? 'poison' : `c${i}`, nonce: { keyId: 'k', nonce: `c-${i}` } })));
  const settled = await Promise.allSettled(subs);
  t.same(settled.map((s) => s.status), settled.map((_, i) => (i === 7 ? 'rejected' : 'fulfilled')), 'only the poisoned payload failed');
  t.match((settled[7] as PromiseRejectedResult).reason, { message: 'injected failure' });
  const stats = committer.stats();
  t.ok(stats.groups < 30, `grouped: ${stats.groups} group transactions for 30 payloads`);
  t.ok(stats.split >= 1, 'the failed group was split');
  const done = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  t.same(done.map((r) => r.chainSeq), Array.from({ length: 29 }, (_, i) => i + 1), 'chain positions follow submission order without a gap');
  t.equal(await count(db, 'nonces'), 29, 'the poisoned payload\'s nonce was rolled back with it');
  t.same((await verifyChain(db, A)).map((r) => r.ok), [true]);

  // A contract violation is refused at submission, before any group.
  await t.rejects(committer.submit(payload([{ ...caseRecord(0, 'X', 1), digest: 'nope' }])), TypeError);
  await committer.idle();
});

t.test('committer: caps bound a group', async (t) => {
  const db = await testDb(t);
  const committer = createGroupCommitter(db, { maxPayloads: 4, maxRecords: 6 });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    committer.submit(payload(Array.from({ length: 1 + (i % 3) }, (_, j) => caseRecord(j, `cap-${i}-${j}`, 1))))));
  t.equal(results.length, 20);
  const { rows } = await db.query<{ payloads: number; records: number }>(`
    SELECT count(DISTINCT r.id)::int AS payloads, count(x.id)::int AS records
    FROM raw_inbox r LEFT JOIN records x ON x.raw_id = r.id
    GROUP BY r.xmin::text`);
  t.ok(rows.every((g) => g.payloads <= 4), `no group over 4 payloads: ${JSON.stringify(rows.map((g) => g.payloads))}`);
  t.ok(rows.every((g) => g.records <= 6 || g.payloads === 1), `no group over 6 records: ${JSON.stringify(rows.map((g) => g.records))}`);
  t.ok(committer.stats().largest <= 4);
});

t.test('committer: a database outage fails the whole group at once, without retries one by one', async (t) => {
  let transactions = 0;
  const outage = new GovgateError('GOVGATE_DB_UNAVAILABLE', { reason: 'ECONNREFUSED' });
  const down: Db = {
    engine: 'postgres',
    schema: 'public',
    query: (async () => ({ rows: [{ created: 0 }], rowCount: 1 })) as Db['query'],
    exec: async () => undefined,
    transaction: async () => {
      transactions++;
      throw outage;
    },
    close: async () => undefined,
  };
  const committer = createGroupCommitter(down, { standby: false });
  const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => committer.submit(payload([caseRecord(0, `D-${i}`, 1)]))));
  t.ok(settled.every((s) => s.status === 'rejected' && s.reason === outage), 'every payload gets GOVGATE_DB_UNAVAILABLE');
  t.equal(transactions, 1, 'one attempt for the group, none per payload');
});

t.test('20 concurrent submitters × 50 payloads through the push store: chains intact, nothing lost or doubled', async (t) => {
  const db = await testDb(t, { poolSize: 12 });
  const store = createPushStore(db);
  const receipts: { dept: string; id: string }[] = [];
  await Promise.all(Array.from({ length: 20 }, async (_, s) => {
    for (let i = 0; i < 50; i++) {
      const deptCode = s % 2 === 0 ? A : B;
      // Keys shared between submitters of a department, so versions race too.
      const key = `shared-${i % 5}`;
      const receipt = await store.ingest({
        deptCode, source: 'http-push', nonce: { keyId: `key-${s}`, nonce: `n-${i}` },
        raw: { body: Buffer.from(`submitter ${s} payload ${i}`), contentType: 'application/json' },
        records: [caseRecord(0, key, 1, { by: s, n: i }), caseRecord(1, `own-${s}-${i}`, 1)],
      });
      receipts.push({ dept: deptCode, id: receipt.receiptId });
      t.equal(receipt.status, 'accepted');
    }
  }));
  t.equal(receipts.length, 1000);
  const chains = await verifyChain(db);
  t.same(chains.map((c) => [c.ok, c.entries]), [[true, 500], [true, 500]], 'both chains intact and gap-free');
  const stats = store.groupStats();
  t.ok(stats.groups < 1000, `${stats.groups} group transactions for 1000 payloads (largest ${stats.largest})`);
  t.equal(await count(db, 'receipts'), 1000);
  t.equal(await count(db, 'records', "business_key LIKE 'own-%'"), 1000);
  const { rows } = await db.query<{ n: number; versions: number; max: number }>(
    "SELECT count(*)::int AS n, count(DISTINCT (dept_code, business_key, version))::int AS versions, max(version)::int AS max FROM records WHERE business_key LIKE 'shared-%'");
  t.equal(rows[0]!.n, rows[0]!.versions, 'no (dept, key, version) stored twice');
  t.equal(rows[0]!.n, 1000, 'every shared-key record differs from the head, so each is a new version');
  const { rows: gaps } = await db.query<{ n: number }>(`
    SELECT count(*)::int AS n FROM (
      SELECT dept_code, business_key, max(version) - count(*) AS gap FROM records WHERE business_key LIKE 'shared-%' GROUP BY 1, 2
    ) g WHERE gap <> 0`);
  t.equal(gaps[0]!.n, 0, 'versions are 1..n without a gap');
  const { rows: fetched } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM receipts WHERE receipt_id = ANY($1::text[])', [receipts.map((r) => r.id)]);
  t.equal(fetched[0]!.n, 1000, 'every receipt given is stored');
  t.same(await store.getReceipt(receipts[0]!.id, receipts[0]!.dept).then((r) => r?.receiptId), receipts[0]!.id);
});

t.test('without a digest, the canonical form gives both the digest and the stored content', async (t) => {
  const db = await testDb(t);
  const plain = { caseNo: 'Z-1', b: 2, a: '甲' };
  const nul = { caseNo: 'Z-2', note: 'bad \u0000 byte' };
  const [r1, r2] = (await ingestMany(db, [plain, nul].map((content) =>
    payload([{ index: 0, recordType: 'case', businessKey: content.caseNo, status: 'accepted', content }])))).map(ok);
  const { rows } = await db.query<{ business_key: string; digest: Uint8Array; content: Record<string, string> }>('SELECT business_key, digest, content FROM records ORDER BY business_key');
  t.same(rows.map((r) => Buffer.from(r.digest).toString('hex')), [contentDigest(plain), contentDigest(nul)], 'the digest of the canonical form');
  t.same(rows[0]!.content, plain);
  t.equal(rows[1]!.content['note'], 'bad \ufffd byte', 'a character jsonb refuses is replaced, as for any stored JSON');
  const again = ok((await ingestMany(db, [payload([{ index: 0, recordType: 'case', businessKey: 'Z-1', status: 'accepted', content: { a: '甲', b: 2, caseNo: 'Z-1' }, digest: contentDigest(plain) }])]))[0]!);
  t.same(outcomes(again.receipt.records), [['unchanged', 1]], 'the same as a caller-computed digest');
  t.ok(r1 && r2);
});

t.test('a group that waited for the department lock decides against the heads committed meanwhile', { skip: !onServer && 'needs a real server (PGlite runs one transaction at a time)' }, async (t) => {
  const db = await testDb(t, { poolSize: 6 });
  await ingest(db, payload([caseRecord(0, 'W', 1)]));
  // A holds the department lock, with K's version 2 written but not yet committed...
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  let written!: () => void;
  const isWritten = new Promise<void>((resolve) => (written = resolve));
  const a = ingest(db, payload([caseRecord(0, 'W', 2, { step: 'a' })]), {
    inTransaction: async () => {
      written();
      await hold;
    },
  });
  await isWritten;
  // ...while B (another instance, say) starts: its statement snapshot predates A's commit.
  let bDone = false;
  const b = ingestMany(db, [
    payload([caseRecord(0, 'W', 2, { step: 'a' })], { batchId: 'same as A' }),
    payload([caseRecord(0, 'W', 3, { step: 'b' })], { batchId: 'newer' }),
  ]).then((r) => ((bDone = true), r));
  await new Promise((r) => setTimeout(r, 150));
  t.notOk(bDone, 'B waits for the department lock');
  release();
  t.same(outcomes((await a).receipt.records), [['changed', 2]]);
  const [same, newer] = (await b).map(ok);
  t.same(outcomes(same!.receipt.records), [['unchanged', 2]], 'B sees what A committed while B waited');
  t.same(outcomes(newer!.receipt.records), [['changed', 3]]);
  t.same([same!.chainSeq, newer!.chainSeq], [3, 4]);
  const { rows } = await db.query<{ version: number }>("SELECT version FROM records WHERE business_key = 'W' ORDER BY version");
  t.same(rows.map((r) => r.version), [1, 2, 3], 'every version once');
  t.same((await verifyChain(db, A)).map((r) => r.ok), [true]);
});

t.test('standby transaction: a connection lost before COMMIT is retried afresh; one lost during COMMIT is not', { skip: !onServer && 'the standby transaction is PostgreSQL-only' }, async (t) => {
  const db = await testDb(t, { poolSize: 6 });
  const outage = new GovgateError('GOVGATE_DB_UNAVAILABLE', { reason: '57P01' });
  // Transaction number `failing` fails: mode 'first' on its first statement, mode 'commit' after COMMIT.
  let n = 0;
  let failing = 0;
  let mode: 'first' | 'commit' = 'first';
  const flaky: Db = {
    ...db,
    engine: db.engine,
    schema: db.schema,
    transaction: async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
      const me = ++n;
      if (me !== failing) return db.transaction(fn);
      if (mode === 'commit') {
        await db.transaction(fn);
        throw outage;
      }
      return db.transaction((tx) => fn({ ...tx, query: async () => { throw outage; } } as Tx));
    },
  };
  // Warm up: the partition check is cached per Db object, and its first run is a transaction too.
  await ingest(flaky, payload([caseRecord(0, 'S-warm', 1)]));
  for (const m of ['first', 'commit'] as const) {
    mode = m;
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    const committer = createGroupCommitter(flaky, {
      inTransaction: async (_tx, result) => {
        if (result.receipt.batchId === 'hold') await hold;
      },
    });
    const before = n;
    const first = committer.submit(payload([caseRecord(0, `S-${m}-1`, 1)], { batchId: 'hold' }));
    await new Promise((r) => setTimeout(r, 50));
    // Arrives while the first group commits: its transaction (the standby) opens now.
    failing = before + 2;
    const second = committer.submit(payload([caseRecord(0, `S-${m}-2`, 1)], { nonce: { keyId: 'k', nonce: `s-${m}` } }));
    await new Promise((r) => setTimeout(r, 50));
    t.equal(n, before + 2, 'the standby transaction is open before its group is known');
    release();
    t.equal((await first).chainSeq > 0, true);
    if (m === 'first') {
      const r = await second;
      t.same(outcomes(r.receipt.records), [['new', 1]], 'lost before COMMIT: committed on a fresh connection');
      t.equal(n, before + 3);
    } else {
      await t.rejects(second, outage, 'lost during COMMIT: reported, not retried');
      t.equal(n, before + 2, 'no second attempt');
      t.equal(await count(db, 'nonces', `nonce = 's-${m}'`), 1, '(it had in fact committed: a retry would have called it a replay)');
    }
    await committer.idle();
  }
  t.same((await verifyChain(db, A)).map((r) => r.ok), [true]);
});
