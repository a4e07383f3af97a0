/**
 * file-drop against a real temporary directory: complete batches (JSON, XML, GBK CSV with a header
 * mapping) are taken and moved to done/ with a report; incomplete ones wait and then fail;
 * corrupted or miscounted ones fail with the reason; a crash before the move takes nothing twice.
 */
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, readdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileDrop } from '../src/adapters/pull/file-drop.js';
import { badEaJcRow, EA_JC_DEPT, eaJcRow } from '../src/adapters/pull/simulators/ea-jc.js';
import { csvOf, dropBatch, jsonOf } from '../src/adapters/pull/simulators/ferry.js';
import { DEMO_DEPT, exampleBatch, exampleCase } from '../src/schemas/spec/examples.js';
import { documentToXml } from '../src/schemas/xml-form.js';
import { pullHarness } from './helpers/pull.js';

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => eaJcRow(from + i));
const header = { PROJID: '办件编号', APPLYNAME: '申请人名称', PROJECTNAME: '申报名称' };
const columns = { 办件编号: 'PROJID', 申请人名称: 'APPLYNAME', 申报名称: 'PROJECTNAME' };

function landing(): string {
  return mkdtempSync(join(tmpdir(), 'govgate-ferry-'));
}

t.test('a complete batch of JSON, XML and GBK CSV is taken and moved to done/ with a report', async (t) => {
  const dir = landing();
  const h = await pullHarness(t);
  const a = h.adapter(fileDrop, { name: 'ferry', options: { dir, csv: { encoding: 'gbk', columns } } });
  t.match(await a.adapter.check(), { ok: true });
  const xml = documentToXml({ ...exampleBatch([exampleCase({ caseNo: 'FERRY-X1' })]), senderDept: DEMO_DEPT.code });
  const name = dropBatch(dir, {
    batchId: 'FERRY-20260310-0001', deptCode: EA_JC_DEPT,
    files: [
      { name: 'cases-1.json', format: 'json', body: jsonOf([...rows(1, 3), badEaJcRow(4)]), records: 4 },
      { name: 'cases-2.csv', format: 'csv', body: csvOf(rows(10, 2), header, 'gbk'), records: 2 },
      { name: 'spec.xml', format: 'xml', body: xml, records: 1 },
    ],
  }, { sm3: true });
  const out = await h.run(a);
  t.match(out, { status: 'ok', seen: 7, accepted: 6, rejected: 1, payloads: 3, detail: { batchesDone: 1 } });
  t.notOk(existsSync(join(dir, name)), 'the manifest left the landing directory');
  const target = join(dir, 'done', 'FERRY-20260310-0001');
  t.same(readdirSync(target).sort(), ['FERRY-20260310-0001.manifest.json', 'FERRY-20260310-0001.report.json', 'cases-1.json', 'cases-2.csv', 'spec.xml']);
  const report = JSON.parse(readFileSync(join(target, 'FERRY-20260310-0001.report.json'), 'utf8')) as { status: string; files: Array<{ name: string; counts: { accepted: number } }> };
  t.equal(report.status, 'done');
  t.same(report.files.map((f) => [f.name, f.counts.accepted]), [['cases-1.json', 3], ['cases-2.csv', 2], ['spec.xml', 1]]);
  const csvRaw = await h.db.query<{ content_type: string; declared_encoding: string }>("SELECT content_type, declared_encoding FROM raw_inbox WHERE batch_id = 'FERRY-20260310-0001/cases-2.csv'");
  t.same(csvRaw.rows[0], { content_type: 'text/csv; charset=gbk', declared_encoding: 'gbk' }, 'the CSV is kept raw, as GBK');
  const v = await h.versions(EA_JC_DEPT);
  t.ok(v.has('330100-SJ-2026-000010') && v.has('FERRY-X1'));
});

t.test('an incomplete batch waits, then fails after the timeout; a corrupted or miscounted one fails at once', async (t) => {
  const dir = landing();
  const h = await pullHarness(t);
  const a = h.adapter(fileDrop, { name: 'ferry2', options: { dir, incompleteTimeoutSeconds: 60 } });

  const waiting = dropBatch(dir, { batchId: 'B-WAIT', deptCode: EA_JC_DEPT, files: [{ name: 'w.json', format: 'json', body: jsonOf(rows(1, 1)), records: 1 }] }, { withhold: 'w.json' });
  dropBatch(dir, { batchId: 'B-BAD', deptCode: EA_JC_DEPT, files: [{ name: 'bad.json', format: 'json', body: jsonOf(rows(2, 1)), records: 1 }] }, { tamper: 'bad.json' });
  dropBatch(dir, { batchId: 'B-COUNT', deptCode: EA_JC_DEPT, files: [{ name: 'count.json', format: 'json', body: jsonOf(rows(3, 2)), records: 5 }] });
  dropBatch(dir, { batchId: 'B-DEPT', deptCode: '11330100002490146A', files: [{ name: 'other.json', format: 'json', body: jsonOf(rows(4, 1)), records: 1 }] });

  const out = await h.run(a);
  t.match(out, { status: 'ok', detail: { batchesDone: 0, batchesFailed: 3, batchesWaiting: 1 } });
  t.ok(existsSync(join(dir, waiting)), 'the incomplete batch waits in the landing directory');
  const failed = (b: string) => JSON.parse(readFileSync(join(dir, 'failed', b, `${b}.report.json`), 'utf8')) as { problems: Array<{ code: string }>; files: Array<{ findings?: Array<{ code: string }> }> };
  t.equal(failed('B-BAD').problems[0]!.code, 'GOVGATE_FILE_DROP_DIGEST_MISMATCH');
  t.equal(failed('B-COUNT').files[0]!.findings![0]!.code, 'GOVGATE_FILE_DROP_COUNT_MISMATCH');
  t.equal(failed('B-DEPT').problems[0]!.code, 'GOVGATE_FORBIDDEN_DEPARTMENT');
  t.equal(await h.rawCount('pull:ferry2'), 1, 'only the miscounted file reached the inbox (as a rejected payload); corrupted bytes never do');

  const old = new Date(Date.now() - 120_000);
  utimesSync(join(dir, waiting), old, old);
  t.match(await h.run(a), { detail: { batchesFailed: 1, batchesWaiting: 0 } });
  t.equal(failed('B-WAIT').problems[0]!.code, 'GOVGATE_FILE_DROP_INCOMPLETE');
});

t.test('a crash after storing and before the move: the next run only finishes the move', async (t) => {
  const dir = landing();
  let calls = 0;
  const h = await pullHarness(t);
  const a = h.adapter(fileDrop, { name: 'ferry3', options: { dir } });
  dropBatch(dir, { batchId: 'B-CRASH', deptCode: EA_JC_DEPT, files: [
    { name: 'a.json', format: 'json', body: jsonOf(rows(1, 2)), records: 2 },
    { name: 'b.json', format: 'json', body: jsonOf(rows(3, 2)), records: 2 },
  ] });
  // The process "dies" right after the second file commits: the move never happens.
  const realEmit = a.adapter.run.bind(a.adapter);
  a.adapter.run = async (run) => realEmit({
    ...run, get cursor() { return run.cursor; },
    emit: async (p, o) => {
      const r = await run.emit(p, o);
      if (++calls === 2) throw new Error('killed');
      return r;
    },
  });
  t.match(await h.run(a), { status: 'failed', accepted: 4 });
  t.ok(existsSync(join(dir, 'B-CRASH.manifest.json')), 'still in the landing directory');
  a.adapter.run = realEmit;
  const again = await h.run(a);
  t.match(again, { status: 'ok', accepted: 0, unchanged: 4, payloads: 0, detail: { batchesDone: 1 } });
  t.equal(await h.rawCount('pull:ferry3'), 2, 'no file stored twice');
  t.ok(existsSync(join(dir, 'done', 'B-CRASH', 'b.json')));
});
