/**
 * The ingest transaction: outcomes per record, receipts, atomicity, concurrency. Runs on PGlite,
 * and on a real PostgreSQL server when GOVGATE_TEST_DATABASE_URL is set.
 */
import t from 'tap';
import { GovgateError } from '../src/errors.js';
import { finding } from '../src/schemas/findings.js';
import { canonicalJson, contentDigest } from '../src/schemas/canonical.js';
import type { Db } from '../src/store/db.js';
import { ingest, summarizeReceipt, type IngestInput, type IngestRecordInput, type RecordReceipt } from '../src/store/queries/ingest.js';
import { getReceipt } from '../src/store/queries/receipts.js';
import { verifyChain } from '../src/store/queries/verify-chain.js';
import { rememberNonce, pruneNonces } from '../src/store/queries/nonces.js';
import { newReceiptId, receiptTime } from '../src/store/ids.js';
import { engineName, onServer, testDb } from './helpers/db.js';

const DEPT = '330100-SJ';
const OTHER = '330100-GA';

function caseRecord(index: number, key: string, dataVer: number, extra: Record<string, unknown> = {}): IngestRecordInput {
  const content = { caseNo: key, dataVer, applicant: '张三', ...extra };
  return { index, recordType: 'case', businessKey: key, dataVer, status: 'accepted', content, digest: contentDigest(content) };
}

function payload(records: IngestRecordInput[], over: Partial<IngestInput> = {}): IngestInput {
  return {
    deptCode: DEPT,
    source: 'http-push',
    raw: { body: Buffer.from(JSON.stringify({ records: records.map((r) => r.content ?? null) })), contentType: 'application/json' },
    records,
    ...over,
  };
}

async function count(db: Db, table: string, where = 'true'): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`);
  return rows[0]!.n;
}

const outcomes = (records: readonly RecordReceipt[]) => records.map((r) => [r.outcome, r.version]);

t.test(`new → changed → unchanged → stale (${engineName})`, async (t) => {
  const db = await testDb(t);

  const first = await ingest(db, payload([caseRecord(0, 'C-1', 1), caseRecord(1, 'C-2', 1)]));
  t.same(outcomes(first.receipt.records), [['new', 1], ['new', 1]]);
  t.equal(first.receipt.status, 'accepted');
  t.equal(first.chainSeq, 1);

  const second = await ingest(db, payload([caseRecord(0, 'C-1', 2, { result: '准予许可' }), caseRecord(1, 'C-2', 1)]));
  t.same(outcomes(second.receipt.records), [['changed', 2], ['unchanged', 1]], 'a new data version is a new row; a resend is not');
  t.equal(second.chainSeq, 2);

  const third = await ingest(db, payload([caseRecord(0, 'C-1', 1)]));
  t.same(outcomes(third.receipt.records), [['stale', 2]], 'an older data version does not overwrite the newer one');
  t.equal(third.receipt.records[0]!.findings[0]!.code, 'GOVGATE_RECORD_STALE');
  t.equal(third.receipt.status, 'rejected');
  t.equal(third.receipt.counts.stale, 1);

  t.equal(await count(db, 'records'), 3, 'three versions stored: C-1 v1, C-1 v2, C-2 v1');
  t.equal(await count(db, 'rejections', `record_index = 0 AND findings->0->>'code' = 'GOVGATE_RECORD_STALE'`), 1, 'the stale record is kept as a rejection');
  const { rows: heads } = await db.query<{ business_key: string; version: number; data_ver: number }>(
    'SELECT business_key, version, data_ver FROM record_heads ORDER BY business_key',
  );
  t.same(heads, [{ business_key: 'C-1', version: 2, data_ver: 2 }, { business_key: 'C-2', version: 1, data_ver: 1 }]);
  const { rows: c1 } = await db.query<{ version: number; content: { result?: string } }>(
    "SELECT version, content FROM records WHERE business_key = 'C-1' ORDER BY version",
  );
  t.same(c1.map((r) => [r.version, r.content.result ?? null]), [[1, null], [2, '准予许可']], 'v1 is still there, unaltered');
});

t.test('the same key twice in one batch is decided in order', async (t) => {
  const db = await testDb(t);
  const res = await ingest(db, payload([
    caseRecord(0, 'K', 1),
    caseRecord(1, 'K', 2),
    caseRecord(2, 'K', 2),
    caseRecord(3, 'K', 1),
  ]));
  t.same(outcomes(res.receipt.records), [['new', 1], ['changed', 2], ['unchanged', 2], ['stale', 2]]);
  const { rows } = await db.query<{ version: number; record_index: number }>("SELECT version, record_index FROM records WHERE business_key = 'K' ORDER BY version");
  t.same(rows, [{ version: 1, record_index: 0 }, { version: 2, record_index: 1 }]);
  const { rows: head } = await db.query<{ version: number; data_ver: number }>("SELECT version, data_ver FROM record_heads WHERE business_key = 'K'");
  t.same(head, [{ version: 2, data_ver: 2 }]);
});

t.test('a record without dataVer never goes stale; an equal dataVer with new content is a change', async (t) => {
  const db = await testDb(t);
  const item = (index: number, name: string, version?: number): IngestRecordInput => {
    const content = { itemCode: 'P-1', name };
    return { index, recordType: 'powerItem', businessKey: 'P-1', status: 'accepted', content, ...(version === undefined ? {} : { dataVer: version }) };
  };
  const a = await ingest(db, payload([item(0, 'A')]));
  const b = await ingest(db, payload([item(0, 'B')]));
  t.same([...outcomes(a.receipt.records), ...outcomes(b.receipt.records)], [['new', 1], ['changed', 2]]);
  const c = await ingest(db, payload([caseRecord(0, 'E', 3)]));
  const d = await ingest(db, payload([caseRecord(0, 'E', 3, { note: 'fixed' })]));
  t.same([...outcomes(c.receipt.records), ...outcomes(d.receipt.records)], [['new', 1], ['changed', 2]]);
});

t.test('rejected records and rejected payloads are kept with their findings', async (t) => {
  const db = await testDb(t);
  const bad = finding('error', 'GOVGATE_FIELD_REQUIRED', { path: '/applicant', label: '申请人' });
  const res = await ingest(db, payload([
    caseRecord(0, 'OK-1', 1),
    { index: 1, recordType: 'case', businessKey: 'BAD-1', dataVer: 1, status: 'rejected', findings: [bad] },
    { index: 2, status: 'rejected', findings: [bad] },
  ]));
  t.same(res.receipt.records.map((r) => r.outcome), ['new', 'rejected', 'rejected']);
  t.equal(res.receipt.status, 'partial');
  t.same(res.receipt.records[1]!.findings, [bad]);
  const { rows } = await db.query<{ record_index: number; business_key: string | null; findings: unknown }>(
    'SELECT record_index, business_key, findings FROM rejections ORDER BY record_index',
  );
  t.same(rows, [{ record_index: 1, business_key: 'BAD-1', findings: [bad] }, { record_index: 2, business_key: null, findings: [bad] }]);

  const hostile = finding('error', 'GOVGATE_JSON_SYNTAX', { line: 1, column: 2, detail: 'bad \u0000 and \ud800' });
  const whole = await ingest(db, {
    deptCode: DEPT, source: 'http-push', records: [], payloadFindings: [hostile],
    raw: { body: Buffer.from([0x7b, 0x00, 0xff]), contentType: 'application/json' },
  });
  t.equal(whole.receipt.status, 'rejected');
  t.equal(await count(db, 'rejections', `raw_id = ${whole.rawId} AND record_index IS NULL`), 1, 'one payload-level rejection row');
  const { rows: raw } = await db.query<{ body: Uint8Array }>(`SELECT body FROM raw_inbox WHERE id = ${whole.rawId}`);
  t.same([...raw[0]!.body], [0x7b, 0x00, 0xff], 'the raw bytes are kept exactly, NUL and invalid UTF-8 included');
  const stored = await getReceipt(db, whole.receipt.receiptId, DEPT);
  t.match(stored?.findings[0]?.message.en, /bad \ufffd and \ufffd/, 'characters jsonb cannot hold are replaced in stored findings');

  await t.rejects(ingest(db, { ...payload([caseRecord(0, 'X', 1)]), payloadFindings: [hostile] }), TypeError,
    'a payload rejected as a whole cannot also carry records');
});

t.test('receipts are stored with the data and fetched only by their own department', async (t) => {
  const db = await testDb(t);
  const res = await ingest(db, payload([caseRecord(0, 'R-1', 1)], { batchId: 'B-0001' }));
  const id = res.receipt.receiptId;
  t.match(id, /^rcpt_[0-9a-z]{26}$/);
  t.equal(receiptTime(id)?.toISOString(), res.receipt.receivedAt, 'the receipt id carries its time');
  t.same(await getReceipt(db, id, DEPT), res.receipt, 'fetched again, identical');
  t.equal(await getReceipt(db, id, OTHER), undefined, "another department's receipt looks like a missing one");
  t.equal(await getReceipt(db, 'rcpt_' + '0'.repeat(26), DEPT), undefined);
  t.equal(await getReceipt(db, "rcpt_' OR 1=1 --", DEPT), undefined);
  const { rows } = await db.query<{ batch_id: string }>(`SELECT batch_id FROM raw_inbox WHERE id = ${res.rawId}`);
  t.equal(rows[0]!.batch_id, 'B-0001');
});

t.test('the receipt summary: stale counts as rejected; a payload-level error rejects everything', async (t) => {
  const mk = (outcome: RecordReceipt['outcome']): RecordReceipt => ({ index: 0, outcome, findings: [] });
  const warn = finding('warning', 'GOVGATE_FIELD_UNKNOWN', { path: '/x' });
  const err = finding('error', 'GOVGATE_JSON_SYNTAX', { line: 1, column: 1, detail: 'x' });
  const status = (outcomes: RecordReceipt['outcome'][], pf = [] as ReturnType<typeof finding>[]) => summarizeReceipt(outcomes.map(mk), pf).status;
  t.equal(status([]), 'rejected');
  t.equal(status(['new']), 'accepted');
  t.equal(status(['unchanged', 'changed']), 'accepted');
  t.equal(status(['new', 'rejected']), 'partial');
  t.equal(status(['new', 'stale']), 'partial');
  t.equal(status(['stale']), 'rejected');
  t.equal(status(['new'], [warn]), 'accepted');
  t.equal(status([], [err]), 'rejected');
  t.same(summarizeReceipt(['unchanged', 'changed', 'stale', 'new'].map((o) => mk(o as RecordReceipt['outcome'])), []).counts,
    { records: 4, accepted: 3, rejected: 1, new: 1, changed: 1, unchanged: 1, stale: 1 });
});

t.test('a failure anywhere in the transaction leaves nothing behind', async (t) => {
  const db = await testDb(t);
  await ingest(db, payload([caseRecord(0, 'A-1', 1)]));
  const before = await Promise.all(['raw_inbox', 'records', 'receipts', 'rejections', 'nonces'].map((x) => count(db, x)));

  await t.rejects(
    ingest(db, payload([caseRecord(0, 'A-1', 2), caseRecord(1, 'A-2', 1)], { nonce: { keyId: 'k1', nonce: 'n-fail' } }), {
      inTransaction: async (tx) => {
        t.equal(await count(tx as Db, 'raw_inbox'), before[0]! + 1, 'the raw row was written inside the transaction');
        throw new Error('injected failure after the writes');
      },
    }),
    { message: 'injected failure after the writes' },
  );
  const after = await Promise.all(['raw_inbox', 'records', 'receipts', 'rejections', 'nonces'].map((x) => count(db, x)));
  t.same(after, before, 'raw payload, records, receipt and nonce all rolled back');
  const { rows } = await db.query<{ seq: number }>('SELECT seq FROM dept_chain_head WHERE dept_code = $1', [DEPT]);
  t.equal(rows[0]!.seq, 1, 'the chain head did not move');
  const { rows: head } = await db.query<{ version: number }>("SELECT version FROM record_heads WHERE business_key = 'A-1'");
  t.equal(head[0]!.version, 1);

  const next = await ingest(db, payload([caseRecord(0, 'A-1', 2)], { nonce: { keyId: 'k1', nonce: 'n-fail' } }));
  t.equal(next.chainSeq, 2, 'the chain continues without a gap');
  t.same(outcomes(next.receipt.records), [['changed', 2]]);
  t.same((await verifyChain(db, DEPT)).map((r) => r.ok), [true]);
});

t.test('a replayed nonce is refused and stores nothing', async (t) => {
  const db = await testDb(t);
  const nonce = { keyId: 'key-1', nonce: 'abc123' };
  await ingest(db, payload([caseRecord(0, 'N-1', 1)], { nonce }));
  const raws = await count(db, 'raw_inbox');
  await t.rejects(ingest(db, payload([caseRecord(0, 'N-1', 2)], { nonce })), new GovgateError('GOVGATE_AUTH_REPLAY', { found: 'abc123' }));
  t.equal(await count(db, 'raw_inbox'), raws);
  t.equal(await rememberNonce(db, 'key-1', 'abc123'), false);
  t.equal(await rememberNonce(db, 'key-2', 'abc123'), true, 'nonces are per key');
  t.equal(await rememberNonce(db, 'key-3', 'old', new Date(Date.now() - 3_600_000)), true);
  t.equal(await pruneNonces(db, 600), 1, 'only the hour-old nonce is pruned');
  t.equal(await count(db, 'nonces'), 2);
});

t.test('ingest refuses a broken caller contract before touching the database', async (t) => {
  const db = await testDb(t);
  const ok = caseRecord(0, 'X', 1);
  await t.rejects(ingest(db, payload([{ ...ok, recordType: 'nonsense' }])), TypeError);
  const { businessKey: _k, ...noKey } = ok;
  await t.rejects(ingest(db, payload([noKey])), TypeError);
  await t.rejects(ingest(db, payload([{ ...ok, digest: 'ZZ' }])), TypeError);
  await t.rejects(ingest(db, payload([ok, { ...ok }])), TypeError, 'duplicate index');
  await t.rejects(ingest(db, payload([{ ...ok, dataVer: 1.5 }])), TypeError);
  t.equal(await count(db, 'raw_inbox'), 0);
});

t.test('a missing digest is computed from the canonical content', async (t) => {
  const db = await testDb(t);
  const { digest: _d, ...noDigest } = caseRecord(0, 'D-1', 1);
  await ingest(db, payload([noDigest]));
  const again = await ingest(db, payload([caseRecord(0, 'D-1', 1)]));
  t.same(outcomes(again.receipt.records), [['unchanged', 1]], 'same canonical digest as the caller would compute');
});

t.test('a stored record is its canonical JSON: sha256 of the stored text is its digest', async (t) => {
  const db = await testDb(t);
  const { digest: _d, ...noDigest } = caseRecord(0, 'D-1', 1);
  // Keys out of order and a non-ASCII name: the stored text is still the canonical form.
  const shuffled = { ...noDigest, content: Object.fromEntries(Object.entries(noDigest.content as object).reverse().concat([['note', '受理 ✓']])) };
  const { digest: _d2, ...second } = caseRecord(1, 'D-2', 1);
  await ingest(db, payload([shuffled, second]));
  const { rows } = await db.query<{ same: boolean; text: string }>(
    "SELECT encode(sha256(convert_to(content::text, 'UTF8')), 'hex') = encode(digest, 'hex') AS same, content::text AS text FROM records ORDER BY record_index");
  t.same(rows.map((r) => r.same), [true, true], 'an auditor can check every digest in SQL alone');
  t.equal(rows[0]!.text, canonicalJson(shuffled.content), 'the stored text is byte for byte the canonical form');
});

t.test('concurrent ingests: departments do not block each other, one department stays in order', { skip: !onServer && 'needs a real server (PGlite is one connection)' }, async (t) => {
  const db = await testDb(t, { poolSize: 12 });
  // Hold department A's chain head locked in an open transaction...
  await ingest(db, payload([caseRecord(0, 'seed', 1)], { deptCode: 'DEPT-A' }));
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = db.transaction(async (tx) => {
    await tx.query("SELECT 1 FROM dept_chain_head WHERE dept_code = 'DEPT-A' FOR UPDATE");
    locked();
    await held;
  });
  await isLocked;
  // ...department B goes through meanwhile, and A waits.
  let aDone = false;
  const a = ingest(db, payload([caseRecord(0, 'a', 1)], { deptCode: 'DEPT-A' })).then((r) => ((aDone = true), r));
  const b = await ingest(db, payload([caseRecord(0, 'b', 1)], { deptCode: 'DEPT-B' }));
  t.equal(b.chainSeq, 1, 'department B was not held up by A');
  await new Promise((r) => setTimeout(r, 100));
  t.notOk(aDone, 'department A waits for its own lock');
  release();
  await holder;
  t.equal((await a).chainSeq, 2);

  // Many writers at once, interleaved across two departments and repeated keys: no deadlock, no
  // gap, every version exactly once.
  const jobs = Array.from({ length: 40 }, (_, i) => {
    const dept = i % 2 === 0 ? 'DEPT-A' : 'DEPT-B';
    return ingest(db, payload([caseRecord(0, `shared-${i % 3}`, i + 10), caseRecord(1, `own-${i}`, 1)], { deptCode: dept }));
  });
  const results = await Promise.all(jobs);
  t.equal(results.length, 40);
  const reports = await verifyChain(db);
  t.same(reports.map((r) => [r.dept, r.ok, r.lastSeq]), [['DEPT-A', true, 22], ['DEPT-B', true, 21]]);
  const { rows } = await db.query<{ n: number; versions: number }>(
    "SELECT count(*)::int AS n, count(DISTINCT (dept_code, business_key, version))::int AS versions FROM records WHERE business_key LIKE 'shared-%'",
  );
  t.equal(rows[0]!.n, rows[0]!.versions, 'no (dept, key, version) stored twice');
});

t.test('concurrent ingests on PGlite are serialized and all succeed', { skip: onServer && 'covered by the server variant' }, async (t) => {
  const db = await testDb(t);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    ingest(db, payload([caseRecord(0, `k-${i % 2}`, i + 1)], { deptCode: i % 2 ? 'DEPT-A' : 'DEPT-B' }))));
  t.same(results.map((r) => r.chainSeq).sort(), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  t.same((await verifyChain(db)).map((r) => r.ok), [true, true]);
});

t.test('receipt ids stay distinct across refills of the random pool', async (t) => {
  const at = new Date('2026-11-24T03:00:00.123Z');
  // 256 ids per 4 KiB refill: 1,000 ids in the same millisecond cross three refills.
  const ids = Array.from({ length: 1000 }, () => newReceiptId(at));
  t.equal(new Set(ids).size, ids.length, 'no id repeats');
  t.ok(ids.every((id) => receiptTime(id)?.getTime() === at.getTime()), 'each is a well-formed id carrying its time');
});
