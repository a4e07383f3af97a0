import t from 'tap';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { loadDepartments } from '../src/config/departments.js';
import { buildApp } from '../src/http/app.js';
import { createPushStore } from '../src/store/push-store.js';
import { createValidator } from '../src/schemas/validate.js';
import { GovgateClient, GovgateClientError, signRequest } from '../src/client/index.js';
import { DEMO_DEPT, DEMO_DEPT_2, exampleBatch, exampleCase } from '../src/schemas/spec/examples.js';
import { documentToXml } from '../src/schemas/xml-form.js';
import { verifyChain } from '../src/store/queries/verify-chain.js';
import { sha256, sm3 } from '../src/store/chain.js';
import { testDb, type Teardown } from './helpers/db.js';

const departmentsDir = fileURLToPath(new URL('../config/departments/', import.meta.url));

async function gateway(t: Teardown, configOverrides: { maxInFlight?: number; bodyLimitBytes?: number } = {}, holdIngest?: Promise<void>) {
  const base = loadConfig({ env: {} });
  const config = { ...base, server: { ...base.server, ...configOverrides } };
  const departments = loadDepartments(departmentsDir, {}, { allowInlineSecrets: true });
  const db = await testDb(t);
  const real = createPushStore(db);
  // A store whose commits wait on `holdIngest`: requests stay in flight as long as the test wants.
  const store = holdIngest === undefined ? real : { ...real, ingest: async (req: Parameters<typeof real.ingest>[0]) => { await holdIngest; return real.ingest(req); } };
  const app = await buildApp({ config, departments, validator: createValidator(), store });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const keyOf = (code: string) => departments.find((d) => d.code === code)!.keys.find((k) => k.active)!;
  const client = (code: string) => {
    const k = keyOf(code);
    return new GovgateClient({ baseUrl: url, keyId: k.id, secret: k.secret, algorithm: k.algorithm });
  };
  /** A raw signed request, for bodies and headers the client would never send. */
  const raw = async (path: string, body: Uint8Array | string, headers: Record<string, string> = {}, code = DEMO_DEPT_2.code, sign: Partial<Parameters<typeof signRequest>[0]> = {}) => {
    const k = keyOf(code);
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const auth = signRequest({ method: 'POST', url: `${url}${path}`, body: bytes, keyId: k.id, secret: k.secret, algorithm: k.algorithm, ...sign });
    const res = await fetch(`${url}${path}`, { method: 'POST', body: bytes, headers: { ...auth, ...headers } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  };
  return { url, db, client, raw };
}

const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };

t.test('a batch is answered record by record, after commit, and the receipt can be fetched again', async (t) => {
  const g = await gateway(t);
  const c = g.client(DEMO_DEPT_2.code);
  const good = exampleCase({ ...own });
  const bad = exampleCase({ ...own, caseNo: 'X-2', caseType: '7' });
  const receipt = await c.submitBatch({ ...exampleBatch([good, bad]), senderDept: DEMO_DEPT_2.code });
  t.equal(receipt.status, 'partial');
  t.same(receipt.records.map((r) => r.outcome), ['new', 'rejected']);
  t.equal(receipt.records[1]!.findings[0]!.code, 'GOVGATE_FIELD_CODE');
  t.same(await c.getReceipt(receipt.receiptId), receipt);

  const again = await c.submitBatch(documentToXml({ ...exampleBatch([good]), senderDept: DEMO_DEPT_2.code }, 'GBK'));
  t.same(again.records.map((r) => r.outcome), ['unchanged']);
  const changed = await c.submitRecord({ ...good, dataVer: 4, status: 'completed', remark: '补充' });
  t.same(changed.records.map((r) => [r.outcome, r.version]), [['changed', 2]]);
});

t.test('the body digest checked by the signature is the one stored, for both algorithms', async (t) => {
  const g = await gateway(t);
  // DEMO_DEPT signs with hmac-sha256, DEMO_DEPT_2 with hmac-sm3: each hands on a different digest.
  await g.client(DEMO_DEPT.code).submitRecord(exampleCase({ deptCode: DEMO_DEPT.code, deptName: DEMO_DEPT.name, caseNo: 'D-1' }));
  await g.client(DEMO_DEPT_2.code).submitRecord(exampleCase({ ...own, caseNo: 'D-2' }));
  const { rows } = await g.db.query<{ body: Buffer; sha256: Buffer; sm3: Buffer }>('SELECT body, sha256, sm3 FROM raw_inbox ORDER BY id');
  t.equal(rows.length, 2);
  for (const r of rows) {
    t.same(r.sha256, sha256(r.body), 'sha256 of the body as stored');
    t.same(r.sm3, sm3(r.body), 'SM3 of the body as stored');
  }
  t.same((await verifyChain(g.db)).map((c) => c.ok), [true, true], 'both chains verify');
});

t.test('type-specific routes take one record of their type', async (t) => {
  const g = await gateway(t);
  const c = g.client(DEMO_DEPT_2.code);
  const { recordType: _drop, ...noType } = exampleCase({ ...own, caseNo: 'TYPED-1' });
  const r = (await c.request('POST', 'api/v1/cases', Buffer.from(JSON.stringify(noType)), 'application/json')) as { records: Array<{ outcome: string }> };
  t.equal(r.records[0]!.outcome, 'new');
});

t.test('a department reads only its own receipts', async (t) => {
  const g = await gateway(t);
  const mine = await g.client(DEMO_DEPT_2.code).submitRecord(exampleCase({ ...own }));
  await t.rejects(g.client(DEMO_DEPT.code).getReceipt(mine.receiptId), { status: 404, code: 'GOVGATE_NOT_FOUND' });
});

t.test('a department cannot submit another department\'s records', async (t) => {
  const g = await gateway(t);
  const err = await g.client(DEMO_DEPT.code).submitRecord(exampleCase({ ...own })).catch((e: unknown) => e);
  t.ok(err instanceof GovgateClientError);
  t.match(err, { status: 403, code: 'GOVGATE_FORBIDDEN_DEPARTMENT' });
  t.match((err as GovgateClientError).messages.en, /11330100002489671K may not submit or read data of department 11330100002490146A \(at \/deptCode\)/);
  const env = await g.client(DEMO_DEPT.code).submitBatch({ ...exampleBatch([exampleCase()]), senderDept: DEMO_DEPT_2.code }).catch((e: unknown) => e);
  t.match(env, { status: 403, code: 'GOVGATE_FORBIDDEN_DEPARTMENT' });
});

t.test('signatures: wrong, replayed, stale, unknown key, missing', async (t) => {
  const g = await gateway(t);
  const body = JSON.stringify(exampleCase({ ...own, caseNo: 'SIG-1' }));
  const ct = { 'content-type': 'application/json' };

  // One flipped byte after signing.
  const k = { keyId: 'demo-ghzy-2026' };
  const signed = signRequest({ method: 'POST', url: `${g.url}/api/v1/records`, body: Buffer.from(body), keyId: k.keyId, secret: 'demo-only-secret-ghzy-330100-do-not-use-in-production', algorithm: 'hmac-sm3' });
  const flipped = Buffer.from(body);
  flipped[10] = flipped[10]! ^ 1;
  let res = await fetch(`${g.url}/api/v1/records`, { method: 'POST', body: flipped, headers: { ...signed, ...ct } });
  t.equal(res.status, 401);
  t.equal(((await res.json()) as { code: string }).code, 'GOVGATE_AUTH_SIGNATURE_INVALID');

  // The same signed request twice: the second is a replay.
  res = await fetch(`${g.url}/api/v1/records`, { method: 'POST', body, headers: { ...signed, ...ct } });
  t.equal(res.status, 200);
  res = await fetch(`${g.url}/api/v1/records`, { method: 'POST', body, headers: { ...signed, ...ct } });
  t.equal(res.status, 401);
  t.equal(((await res.json()) as { code: string }).code, 'GOVGATE_AUTH_REPLAY');

  const stale = await g.raw('/api/v1/records', body, ct, DEMO_DEPT_2.code, { now: new Date(Date.now() - 301_000) });
  t.equal(stale.status, 401);
  t.equal(stale.body['code'], 'GOVGATE_AUTH_CLOCK_SKEW');

  const unknown = await g.raw('/api/v1/records', body, ct, DEMO_DEPT_2.code, { keyId: 'no-such-key' });
  t.equal(unknown.body['code'], 'GOVGATE_AUTH_KEY_UNKNOWN');

  res = await fetch(`${g.url}/api/v1/records`, { method: 'POST', body, headers: ct });
  t.equal(res.status, 401);
  t.equal(((await res.json()) as { code: string }).code, 'GOVGATE_AUTH_MISSING');
});

t.test('hostile and malformed bodies get clear 4xx answers and their raw payload is kept', async (t) => {
  const g = await gateway(t, { bodyLimitBytes: 64 * 1024 });
  const cases: Array<[string, Uint8Array | string, string, number, string]> = [
    ['billion laughs', '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;">]><record>&b;</record>', 'application/xml', 400, 'GOVGATE_XML_DOCTYPE_FORBIDDEN'],
    ['malformed JSON', '{"recordType":"case",', 'application/json', 400, 'GOVGATE_JSON_SYNTAX'],
    ['duplicate keys', '{"recordType":"case","caseNo":"A","caseNo":"B"}', 'application/json', 400, 'GOVGATE_JSON_DUPLICATE_KEY'],
    ['prototype key', '{"__proto__":{"polluted":1}}', 'application/json', 400, 'GOVGATE_FORBIDDEN_KEY'],
    ['deep nesting', '['.repeat(20000), 'application/json', 400, 'GOVGATE_DEPTH_EXCEEDED'],
    ['ID number as a JSON number', '{"recordType":"case","idNo":110101199003077777}', 'application/json', 400, 'GOVGATE_JSON_UNSAFE_NUMBER'],
    ['invalid GBK', Buffer.concat([Buffer.from('<?xml version="1.0" encoding="GBK"?><record><remark>'), Buffer.from([0xd6, 0x20, 0xff]), Buffer.from('</remark></record>')]), 'application/xml', 400, 'GOVGATE_ENCODING_INVALID'],
    ['text/plain', '{}', 'text/plain', 415, 'GOVGATE_CONTENT_TYPE_UNSUPPORTED'],
    ['empty', '', 'application/json', 400, 'GOVGATE_PAYLOAD_EMPTY'],
  ];
  for (const [name, body, contentType, status, code] of cases) {
    const r = await g.raw('/api/v1/records', body, { 'content-type': contentType });
    t.equal(r.status, status, `${name}: status`);
    t.equal(r.body['code'], code, `${name}: code`);
    t.ok(r.body['message']?.zh && r.body['message']?.en, `${name}: bilingual message`);
    t.match(r.body['receiptId'], /^rcpt_/, `${name}: raw payload kept`);
  }
  t.equal(({} as Record<string, unknown>)['polluted'], undefined);

  const big = await g.raw('/api/v1/records', Buffer.alloc(65 * 1024, 0x20), { 'content-type': 'application/json' });
  t.equal(big.status, 413);
  t.equal(big.body['code'], 'GOVGATE_PAYLOAD_TOO_LARGE');

  const raws = await g.db.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_inbox');
  t.equal(raws.rows[0]!.n, cases.length);
});

t.test('health, readiness, OpenAPI, unknown routes', async (t) => {
  const g = await gateway(t);
  t.same(await (await fetch(`${g.url}/healthz`)).json(), { status: 'ok' });
  const ready = await fetch(`${g.url}/readyz`);
  t.equal(ready.status, 200);
  t.match(await ready.json(), { status: 'ready' });
  const spec = (await (await fetch(`${g.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
  t.ok(spec.paths['/api/v1/batches']);
  t.ok(spec.paths['/api/v1/receipts/{receiptId}']);
  const missing = await fetch(`${g.url}/nope`);
  t.equal(missing.status, 404);
  t.equal(((await missing.json()) as { code: string }).code, 'GOVGATE_ROUTE_NOT_FOUND');
});

t.test('over the in-flight limit the gateway answers 503 with Retry-After instead of falling over', async (t) => {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => { release = resolve; });
  const g = await gateway(t, { maxInFlight: 2 }, hold);
  const c = g.client(DEMO_DEPT_2.code);
  const first = [c.submitRecord(exampleCase({ ...own, caseNo: 'LOAD-1' })), c.submitRecord(exampleCase({ ...own, caseNo: 'LOAD-2' }))];
  await new Promise((r) => setTimeout(r, 200));
  const third = await g.raw('/api/v1/records', JSON.stringify(exampleCase({ ...own, caseNo: 'LOAD-3' })), { 'content-type': 'application/json' });
  t.equal(third.status, 503);
  t.equal(third.body['code'], 'GOVGATE_OVERLOADED');
  t.equal(third.headers.get('retry-after'), '1');
  release();
  const done = await Promise.all(first);
  t.same(done.map((r) => r.status), ['accepted', 'accepted'], 'the requests in flight complete');
  const after = await g.raw('/api/v1/records', JSON.stringify(exampleCase({ ...own, caseNo: 'LOAD-3' })), { 'content-type': 'application/json' });
  t.equal(after.status, 200, 'and capacity comes back');
});
