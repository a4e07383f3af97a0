/**
 * Stored data is never altered in place: the triggers refuse it (also under
 * session_replication_role = replica), and when a superuser goes around them, the hash chain
 * shows exactly where.
 */
import t from 'tap';
import { contentDigest } from '../src/schemas/canonical.js';
import { finding } from '../src/schemas/findings.js';
import { sha256, sm3 } from '../src/store/chain.js';
import type { Db } from '../src/store/db.js';
import { ingest, type IngestInput } from '../src/store/queries/ingest.js';
import { assertChainsIntact, verifyChain } from '../src/store/queries/verify-chain.js';
import { partitionMonth } from '../src/store/partitions.js';
import { engineName, testDb } from './helpers/db.js';

function submission(dept: string, n: number): IngestInput {
  const content = { caseNo: `C-${n}`, dataVer: 1 };
  return {
    deptCode: dept,
    source: 'http-push',
    raw: { body: Buffer.from(JSON.stringify(content)), contentType: 'application/json', declaredEncoding: 'UTF-8' },
    records: [
      { index: 0, recordType: 'case', businessKey: `C-${n}`, dataVer: 1, status: 'accepted', content, digest: contentDigest(content) },
      { index: 1, status: 'rejected', findings: [finding('error', 'GOVGATE_FIELD_REQUIRED', { path: '/caseNo', label: '办件编号' })] },
    ],
  };
}

async function seed(db: Db): Promise<void> {
  for (let i = 1; i <= 3; i++) await ingest(db, submission('DEPT-A', i));
  for (let i = 1; i <= 2; i++) await ingest(db, submission('DEPT-B', i));
}

/** Runs statements in one transaction (one session), expecting it to fail; returns the SQLSTATE. */
async function refused(db: Db, ...sql: string[]): Promise<string | undefined> {
  try {
    await db.transaction(async (tx) => {
      for (const s of sql) await tx.query(s);
    });
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

const PROTECTED = ['raw_inbox', 'records', 'rejections', 'receipts'] as const;
const SET_COLUMN = { raw_inbox: 'source', records: 'business_key', rejections: 'dept_code', receipts: 'dept_code' } as const;

t.test(`UPDATE, DELETE and TRUNCATE are refused on every append-only table (${engineName})`, async (t) => {
  const db = await testDb(t);
  await seed(db);
  const month = partitionMonth(new Date()).slice(0, 7).replace('-', 'm');
  for (const table of PROTECTED) {
    const col = SET_COLUMN[table];
    t.equal(await refused(db, `UPDATE ${table} SET ${col} = ${col} || 'x'`), 'GG001', `UPDATE ${table}`);
    t.equal(await refused(db, `DELETE FROM ${table}`), 'GG001', `DELETE ${table}`);
    // raw_inbox is also referenced by foreign keys, which refuse a plain TRUNCATE first; CASCADE
    // reaches the triggers. Either way nothing is truncated.
    t.ok(await refused(db, `TRUNCATE ${table}`), `TRUNCATE ${table}`);
    t.equal(await refused(db, `TRUNCATE ${table} CASCADE`), 'GG001', `TRUNCATE ${table} CASCADE`);
    // Partitions are tables too: row triggers are inherited, the TRUNCATE trigger is added to each.
    const part = `${table}_y${month}`;
    t.equal(await refused(db, `UPDATE ${part} SET ${col} = ${col} || 'x'`), 'GG001', `UPDATE ${part}`);
    t.equal(await refused(db, `DELETE FROM ${part}`), 'GG001', `DELETE ${part}`);
    t.equal(await refused(db, `TRUNCATE ${part} CASCADE`), 'GG001', `TRUNCATE ${part} CASCADE`);

    // replica mode skips ordinary triggers; ENABLE ALWAYS ones still fire.
    const replica = 'SET LOCAL session_replication_role = replica';
    t.equal(await refused(db, replica, `UPDATE ${table} SET ${col} = ${col} || 'x'`), 'GG001', `UPDATE ${table} as replica`);
    t.equal(await refused(db, replica, `DELETE FROM ${part}`), 'GG001', `DELETE ${part} as replica`);
    t.equal(await refused(db, replica, `TRUNCATE ${part} CASCADE`), 'GG001', `TRUNCATE ${part} as replica`);
  }
  const counts = await db.query<{ raw: number; rec: number; rej: number; rcpt: number }>(
    `SELECT (SELECT count(*) FROM raw_inbox)::int AS raw, (SELECT count(*) FROM records)::int AS rec,
            (SELECT count(*) FROM rejections)::int AS rej, (SELECT count(*) FROM receipts)::int AS rcpt`,
  );
  t.same(counts.rows[0], { raw: 5, rec: 5, rej: 5, rcpt: 5 }, 'everything still there');
  t.same((await verifyChain(db)).map((r) => r.ok), [true, true]);
});

t.test('the chain verifies, and pinpoints a row edited behind the triggers', async (t) => {
  const db = await testDb(t);
  await seed(db);
  const clean = await verifyChain(db);
  t.same(clean.map((r) => [r.dept, r.ok, r.entries, r.firstSeq, r.lastSeq]), [['DEPT-A', true, 3, 1, 3], ['DEPT-B', true, 2, 1, 2]]);
  t.match(clean[0]!.headHash, /^[0-9a-f]{64}$/);
  const { rows: head } = await db.query<{ hash: Uint8Array }>("SELECT hash FROM dept_chain_head WHERE dept_code = 'DEPT-A'");
  t.equal(clean[0]!.headHash, Buffer.from(head[0]!.hash).toString('hex'), 'the verified head is the stored head');

  // As superuser: switch the trigger off, edit one body, switch it back on.
  const tamper = async (set: string, seq: number) => {
    await db.transaction(async (tx) => {
      await tx.query('ALTER TABLE raw_inbox DISABLE TRIGGER govgate_append_only');
      await tx.query(`UPDATE raw_inbox SET ${set} WHERE dept_code = 'DEPT-A' AND chain_seq = ${seq}`);
      await tx.query('ALTER TABLE raw_inbox ENABLE ALWAYS TRIGGER govgate_append_only');
    });
  };
  const forged = Buffer.from('{"caseNo":"C-2","dataVer":1,"result":"forged"}');
  // (size_bytes has to follow: a CHECK ties it to the body.)
  await tamper(`body = '\\x${forged.toString('hex')}', size_bytes = ${forged.length}`, 2);
  let reports = await verifyChain(db);
  t.same(reports.map((r) => [r.dept, r.ok, r.brokenAt, r.reason]), [['DEPT-A', false, 2, 'body'], ['DEPT-B', true, undefined, undefined]]);
  t.throws(() => assertChainsIntact(reports), { code: 'GOVGATE_AUDIT_CHAIN_BROKEN', details: { dept: 'DEPT-A', found: 2 } });
  t.doesNotThrow(() => assertChainsIntact(reports.slice(1)));

  // A careful forger also fixes the digests and size: the chain hash still gives it away.
  await tamper(`sha256 = '\\x${sha256(forged).toString('hex')}', sm3 = '\\x${sm3(forged).toString('hex')}'`, 2);
  reports = await verifyChain(db, 'DEPT-A');
  t.same(reports.map((r) => [r.dept, r.ok, r.brokenAt, r.reason, r.entries]), [['DEPT-A', false, 2, 'hash', 1]]);

  // Metadata is in the hash too.
  reports = await verifyChain(db, 'DEPT-B');
  t.equal(reports[0]!.ok, true);
  await db.transaction(async (tx) => {
    await tx.query('ALTER TABLE raw_inbox DISABLE TRIGGER govgate_append_only');
    await tx.query("UPDATE raw_inbox SET content_type = 'application/xml' WHERE dept_code = 'DEPT-B' AND chain_seq = 1");
    await tx.query('ALTER TABLE raw_inbox ENABLE ALWAYS TRIGGER govgate_append_only');
  });
  t.same((await verifyChain(db, 'DEPT-B')).map((r) => [r.ok, r.brokenAt, r.reason]), [[false, 1, 'hash']]);

  const { rows } = await db.query<{ tgenabled: string }>(
    "SELECT DISTINCT tgenabled FROM pg_trigger WHERE tgname = 'govgate_append_only' AND tgrelid = 'raw_inbox'::regclass",
  );
  t.same(rows, [{ tgenabled: 'A' }], 'the trigger is back to ENABLE ALWAYS');
});

t.test('removed entries show: a gap in the middle, a missing tail against the head', async (t) => {
  const db = await testDb(t);
  await seed(db);
  const remove = async (where: string) =>
    db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica'); // as a careless operator might
      await tx.query('ALTER TABLE raw_inbox DISABLE TRIGGER govgate_append_only');
      await tx.query(`DELETE FROM raw_inbox WHERE ${where}`);
      await tx.query('ALTER TABLE raw_inbox ENABLE ALWAYS TRIGGER govgate_append_only');
    });
  await remove("dept_code = 'DEPT-A' AND chain_seq = 2");
  await remove("dept_code = 'DEPT-B' AND chain_seq = 2");
  const reports = await verifyChain(db);
  t.same(reports.map((r) => [r.dept, r.ok, r.brokenAt, r.reason]), [['DEPT-A', false, 2, 'sequence'], ['DEPT-B', false, 2, 'head']]);
});

t.test('a chain whose first months were archived verifies from its first remaining entry', async (t) => {
  const db = await testDb(t);
  await seed(db);
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query('ALTER TABLE raw_inbox DISABLE TRIGGER govgate_append_only');
    await tx.query("DELETE FROM raw_inbox WHERE dept_code = 'DEPT-A' AND chain_seq = 1");
    await tx.query('ALTER TABLE raw_inbox ENABLE ALWAYS TRIGGER govgate_append_only');
  });
  const [a] = await verifyChain(db, 'DEPT-A');
  t.same([a!.ok, a!.firstSeq, a!.lastSeq, a!.entries], [true, 2, 3, 2]);
  t.match(a!.startsFromHash, /^[0-9a-f]{64}$/, 'the link to the archived part is reported for matching with its manifest');
});

t.test('an ingest after the head row was lost continues the chain instead of restarting it', async (t) => {
  const db = await testDb(t);
  await seed(db);
  await db.query("DELETE FROM dept_chain_head WHERE dept_code = 'DEPT-A'");
  const next = await ingest(db, submission('DEPT-A', 9));
  t.equal(next.chainSeq, 4);
  t.same((await verifyChain(db, 'DEPT-A')).map((r) => [r.ok, r.lastSeq]), [[true, 4]]);
});
