/**
 * soap-poll against a real SOAP service built with the `soap` package (the department WebService
 * simulator): SOAP 1.1 and 1.2, the spec's XML form in a string, the department's own GB2312 XML
 * in a string, records as SOAP elements through the mapping, paging, WS-Security and basic auth.
 */
import t from 'tap';
import { soapPoll } from '../src/adapters/pull/soap-poll.js';
import { DeptSoapSimulator, type DeptSoapOptions } from '../src/adapters/pull/simulators/dept-soap.js';
import { EA_JC_DEPT, eaJcRow } from '../src/adapters/pull/simulators/ea-jc.js';
import { DEMO_DEPT, exampleCase } from '../src/schemas/spec/examples.js';
import { readCursor } from '../src/store/queries/pull.js';
import { pullHarness } from './helpers/pull.js';

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => eaJcRow(from + i));

async function sim(t: { teardown(fn: () => unknown): void }, o: DeptSoapOptions) {
  const s = new DeptSoapSimulator(o);
  await s.start();
  t.teardown(() => s.close());
  return s;
}

const args = { since: '{since}', until: '{until}', page: '{page}', pageSize: '{pageSize}' };

t.test('SOAP 1.1: the spec\'s XML batch form in a string result', async (t) => {
  const s = await sim(t, {
    document: 'spec-xml', senderDept: DEMO_DEPT.code,
    specRecords: () => [exampleCase({ caseNo: 'SOAP-1' }), exampleCase({ caseNo: 'SOAP-2', caseType: '7' })],
  });
  s.add(rows(1, 2));
  const h = await pullHarness(t);
  const a = h.adapter(soapPoll, { name: 'ws-spec', options: { wsdl: s.wsdlUrl, operation: 'GetCases', args, result: { path: '/GetCasesResult' }, incremental: {} } });
  t.match(await a.adapter.check(), { ok: true });
  const out = await h.run(a);
  t.match(out, { status: 'ok', seen: 2, accepted: 1, rejected: 1, payloads: 1 });
  t.equal(s.calls.at(-1)!.soap12, false);
  t.ok(typeof s.calls.at(-1)!.args['until'] === 'string' && s.calls.at(-1)!.args['since'] === '', 'first run: no since');
  const raw = await h.db.query<{ body: Buffer; content_type: string }>("SELECT body, content_type FROM raw_inbox WHERE source = 'pull:ws-spec'");
  t.match(raw.rows[0]!.body.toString('utf8'), /^<\?xml[^>]*>\s*<soap:Envelope/, 'the raw payload is the SOAP response');
  t.equal(raw.rows[0]!.content_type, 'text/xml; charset=utf-8');
  t.ok((await readCursor(h.db, 'ws-spec')).cursor !== undefined);
});

t.test('SOAP 1.2 with WS-Security: the department\'s GB2312 XML in a string, paged, through the mapping', async (t) => {
  const s = await sim(t, { document: 'dept-xml', auth: { type: 'ws-security', username: 'govgate', password: 'ws-pass-1' } });
  s.add(rows(1, 5));
  const h = await pullHarness(t);
  const a = h.adapter(soapPoll, {
    name: 'ws-dept',
    options: {
      wsdl: s.wsdlUrl, operation: 'GetCases', soapVersion: '1.2', args: { ...args, ValidateData: 'static-token' },
      result: { path: '/GetCasesResult', shape: 'document' }, itemsPath: '/DATA/ROW',
      incremental: { format: 'yyyy-MM-dd HH:mm:ss' }, paging: { mode: 'page', pageSize: 2 },
      auth: { type: 'ws-security', username: 'govgate', passwordEnv: 'WS_PW' },
    },
  }, { WS_PW: 'ws-pass-1' });
  const out = await h.run(a);
  t.match(out, { status: 'ok', accepted: 5, payloads: 3 });
  t.same(s.calls.map((c) => [c.operation, c.soap12, c.args['page']]), [['GetCases', true, 1], ['GetCases', true, 2], ['GetCases', true, 3]]);
  t.equal(s.calls[0]!.args['ValidateData'], 'static-token');
  t.equal((await h.versions(EA_JC_DEPT)).size, 5);

  s.add(rows(6, 1));
  t.match(await h.run(a), { status: 'ok', accepted: 1, unchanged: 5 }, 'the overlap re-reads the first five: unchanged, not stored again');
  t.match(s.calls.at(-1)!.args['since'], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'the second run asks from the cursor');
});

t.test('records as SOAP elements with basic auth; wrong credentials are an auth failure', async (t) => {
  const s = await sim(t, { auth: { type: 'basic', username: 'gg', password: 'basic-pw' } });
  s.add(rows(1, 3));
  const h = await pullHarness(t);
  const a = h.adapter(soapPoll, {
    name: 'ws-rows',
    options: { wsdl: s.wsdlUrl, endpoint: s.url, operation: 'GetCaseRows', args, result: { path: '/GetCaseRowsResult', shape: 'records' }, itemsPath: '/ROW', auth: { type: 'basic', username: 'gg', password: 'basic-pw' } },
  });
  t.match(await h.run(a), { status: 'ok', accepted: 3 });

  const wrong = h.adapter(soapPoll, {
    name: 'ws-wrong',
    options: { wsdl: s.wsdlUrl, operation: 'GetCaseRows', args, result: { path: '/GetCaseRowsResult', shape: 'records' }, auth: { type: 'basic', username: 'gg', password: 'nope-nope' } },
  });
  t.match(await wrong.adapter.check(), { ok: false, detail: { code: 'GOVGATE_PULL_SOURCE_AUTH' } });
  t.match(await h.run(wrong), { status: 'failed', error: { code: 'GOVGATE_PULL_SOURCE_AUTH' } });

  const missing = h.adapter(soapPoll, { name: 'ws-op', options: { wsdl: s.wsdlUrl, operation: 'NoSuchOp', result: { path: '/x' } } });
  t.match(await missing.adapter.check(), { ok: false, message: { en: /no operation NoSuchOp/ } });
});
