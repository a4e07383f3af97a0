import t from 'tap';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { signRequest } from '../src/client/index.js';
import { openDb } from '../src/store/db.js';
import { exampleCase } from '../src/schemas/spec/examples.js';
import {
  DEFAULT_FAULTS, HALL_DEMO_KEY, HALL_DEMO_SECRET, startHallSim, type HallReceipt, type HallSim, type HallSimKey,
} from '../src/hall-sim/index.js';
import { decideFault } from '../src/hall-sim/faults.js';
import { hallSimBanner, hallSimOptionsFromCli, parseKeyOption } from '../src/cli/hall-sim.js';
import { TEST_DATABASE_URL, newSchemaName, onServer } from './helpers/db.js';
import { spawnGateway } from './helpers/process.js';

const D1 = '11330100002490146A';
const D2 = '11330100002489671K';
const SM3_KEY: HallSimKey = { keyId: 'gw-sm3', secret: 'test-only-sm3-secret-0123456789', algorithm: 'hmac-sm3' };
const BODY_LIMIT = 256 * 1024;

/** The hall's clock is the test's: moved to put records on chosen Shanghai days. */
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

/** On a server, a schema of its own, dropped afterwards — as test/helpers/db.ts does for govgate's. */
async function dropSchema(schema: string): Promise<void> {
  const db = await openDb({ url: TEST_DATABASE_URL! });
  try {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await db.close();
  }
}
const schema = onServer ? newSchemaName() : undefined;
const sim: HallSim = await startHallSim({
  ...(onServer ? { databaseUrl: TEST_DATABASE_URL!, schema: schema! } : {}),
  keys: [HALL_DEMO_KEY, SM3_KEY],
  bodyLimitBytes: BODY_LIMIT,
  now: clock,
});
t.teardown(async () => {
  await sim.close();
  if (schema !== undefined) await dropSchema(schema);
});

t.beforeEach(async () => {
  offsetMs = 0;
  sim.setFaults(DEFAULT_FAULTS);
  await sim.reset();
});

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────

let batchNo = 0;
const kase = (caseNo: string, extra: Record<string, unknown> = {}) => ({ recordType: 'case', deptCode: D1, caseNo, dataVer: 1, ...extra });
const item = (itemCode: string, extra: Record<string, unknown> = {}) => ({ recordType: 'powerItem', deptCode: D1, itemCode, version: 1, ...extra });
const notice = (superviseNo: string) => ({ recordType: 'supervision', deptCode: D1, superviseNo, dataVer: 1 });
const batch = (records: unknown[], extra: Record<string, unknown> = {}) =>
  ({ specVersion: '1', batchId: `B-${++batchNo}`, senderDept: D1, sentAt: new Date().toISOString(), records, ...extra });
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
/** The protocol's default idempotency key, computed here independently of the simulator. */
const defaultKey = (r: { deptCode: string; recordType: string }) => `${r.deptCode}:${r.recordType}:${sha256(JSON.stringify(r))}`;

interface Answer { status: number; headers: Headers; body: any }

async function signed(method: 'GET' | 'POST', path: string, body?: Buffer | string, key: HallSimKey = HALL_DEMO_KEY, signal?: AbortSignal): Promise<Answer> {
  const url = `${sim.url}${path}`;
  const bytes = body === undefined ? undefined : Buffer.from(body);
  const auth = signRequest({ method, url, body: bytes, keyId: key.keyId, secret: key.secret, algorithm: key.algorithm ?? 'hmac-sha256', now: clock() });
  const res = await fetch(url, { method, ...(bytes === undefined ? {} : { body: bytes }), headers: { ...auth, 'content-type': 'application/json' }, ...(signal ? { signal } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}
const submit = (b: unknown, key?: HallSimKey) => signed('POST', '/api/v1/batches', JSON.stringify(b), key);
const receipt = async (b: unknown): Promise<HallReceipt> => {
  const a = await submit(b);
  if (a.status !== 200) throw new Error(`expected 200, got ${a.status}: ${JSON.stringify(a.body)}`);
  return a.body as HallReceipt;
};
async function control(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${sim.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

// ── the protocol ─────────────────────────────────────────────────────────────────────────────────

t.test('a batch is stored and answered with a govgate-style receipt', async (t) => {
  const records = [kase('C-1', { dataVer: 3 }), item('I-1'), notice('S-1'), { ...exampleCase({ deptCode: D1, caseNo: 'C-REAL' }) }];
  const r = await receipt(batch(records));
  t.match(r, {
    receiptId: /^hall_[0-9a-z]{26}$/,
    deptCode: D1,
    batchId: /^B-\d+$/,
    status: 'accepted',
    counts: { records: 4, accepted: 4, rejected: 0, new: 4, changed: 0, unchanged: 0, stale: 0 },
    findings: [],
  });
  t.ok(Math.abs(Date.parse(r.receivedAt) - Date.now()) < 10_000);
  t.same(r.records[0], { index: 0, recordType: 'case', key: 'C-1', dataVer: 3, outcome: 'new', findings: [] });
  t.same(r.records.map((x) => [x.recordType, x.key, x.dataVer]), [['case', 'C-1', 3], ['powerItem', 'I-1', 1], ['supervision', 'S-1', 1], ['case', 'C-REAL', 3]]);
  t.same(await sim.storedKeys(), records.map((x) => defaultKey(x as { deptCode: string; recordType: string })).sort());

  const listed = await control('GET', `/_sim/records?deptCode=${D1}&recordType=case`);
  t.equal(listed.headers.get('x-total-count'), '2');
  t.same(listed.body.map((x: any) => x.businessKey).sort(), ['C-1', 'C-REAL']);
  t.notOk('content' in listed.body[0]);
  const withContent = await control('GET', '/_sim/records?recordType=powerItem&content=true&limit=1');
  t.same(withContent.body[0].content, records[1]);
});

t.test('the same idempotency key again is unchanged and counted; a new version of a key is changed', async (t) => {
  const v1 = kase('C-7');
  const v2 = kase('C-7', { dataVer: 2 });
  t.same((await receipt(batch([v1], { idempotencyKeys: ['k-c7-v1'] }))).records.map((r) => r.outcome), ['new']);
  const again = await receipt(batch([v1, v2, kase('C-8'), kase('C-8')], { idempotencyKeys: ['k-c7-v1', 'k-c7-v2', 'k-c8', 'k-c8'] }));
  t.same(again.records.map((r) => r.outcome), ['unchanged', 'changed', 'new', 'unchanged']);
  t.match(again, { status: 'accepted', counts: { records: 4, accepted: 4, new: 1, changed: 1, unchanged: 2 } });
  t.same(await sim.storedKeys(), ['k-c7-v1', 'k-c7-v2', 'k-c8']);
  t.match(await sim.stats(), { batches: 2, recordsReceived: 5, stored: 3, duplicates: 2, rejected: 0, byDept: { [D1]: { batches: 2, stored: 3, duplicates: 2 } } });

  // Without explicit keys the content decides: a resend is a duplicate, any change a new key.
  const plain = await receipt(batch([kase('C-9'), kase('C-9'), kase('C-9', { remark: 'x' })]));
  t.same(plain.records.map((r) => r.outcome), ['new', 'unchanged', 'changed']);
});

t.test('concurrent batches with overlapping keys store each key once', async (t) => {
  const n = 8;
  const answers = await Promise.all(Array.from({ length: n }, (_, b) => {
    const ids = Array.from({ length: 40 }, (_, i) => `K-${(b * 20 + i) % 100}`);
    return receipt(batch(ids.map((id) => kase(id)), { idempotencyKeys: ids }));
  }));
  const outcomes = answers.flatMap((a) => a.records.map((r) => r.outcome));
  const stored = await sim.storedKeys();
  t.equal(stored.length, 100);
  t.equal(outcomes.filter((o) => o === 'new').length, 100, 'each key is new exactly once');
  t.equal(outcomes.filter((o) => o === 'unchanged').length, n * 40 - 100);
  t.match(await sim.stats(), { recordsReceived: n * 40, stored: 100, duplicates: n * 40 - 100 });
});

t.test('rejections are deterministic per business key, by rate and by list, and stay', async (t) => {
  sim.setFaults({ rejectRate: 0.3 });
  const ids = Array.from({ length: 60 }, (_, i) => `R-${i}`);
  // The rule, computed here from its definition.
  const score = (k: string) => createHash('sha256').update(`${D1}\u0000case\u0000${k}`).digest().readUIntBE(0, 6) / 2 ** 48;
  const expected = ids.filter((k) => score(k) < 0.3);
  t.ok(expected.length > 5 && expected.length < 40, `${expected.length} of 60 refused`);

  const first = await receipt(batch(ids.map((k) => kase(k))));
  t.same(first.records.filter((r) => r.outcome === 'rejected').map((r) => r.key), expected);
  t.equal(first.status, 'partial');
  const bad = first.records.find((r) => r.outcome === 'rejected')!;
  t.match(bad.findings, [{ severity: 'error', code: 'HALL_REJECTED', path: '', message: { zh: /^大厅拒收：模拟拒收/, en: /^rejected by the hall: simulated rejection/ } }]);

  // A new version of a refused key is refused too, and stays refused when the rate changes.
  sim.setFaults({ rejectRate: 0 });
  const again = await receipt(batch([kase(expected[0]!, { dataVer: 2 }), kase(expected[1]!), kase('R-NEW')]));
  t.same(again.records.map((r) => r.outcome), ['rejected', 'rejected', 'new']);
  t.equal(bad.key, expected[0]);
  t.same(again.records[0]!.findings, bad.findings, 'in the same words as the first time');

  sim.setFaults({ rejectKeys: ['LISTED'] });
  const listed = await receipt(batch([kase('LISTED'), item('LISTED')]));
  t.same(listed.records.map((r) => r.outcome), ['rejected', 'rejected']);
  t.equal(listed.status, 'rejected');
  t.match(listed.records[0]!.findings[0]!.message.en, /rejectKeys/);

  const rejected = await control('GET', '/_sim/rejected');
  const keys = rejected.body.map((r: any) => r.businessKey);
  for (const k of [...expected, 'LISTED']) t.ok(keys.includes(k), `${k} listed`);
  t.match(rejected.body.find((r: any) => r.businessKey === expected[1]), { deptCode: D1, recordType: 'case', idempotencyKey: defaultKey(kase(expected[1]!)), times: 2 });
  t.same((await sim.rejected()).length, rejected.body.length);
  t.match(await sim.stats(), { rejected: expected.length + 4, recordsReceived: 65 });
});

t.test('records of another department or without a business key are refused one by one', async (t) => {
  const r = await receipt(batch([kase('OK-1'), kase('OTHER', { deptCode: D2 }), { recordType: 'case', deptCode: D1 }, { recordType: 'permit', deptCode: D1, caseNo: 'P' }, 'text']));
  t.same(r.records.map((x) => x.outcome), ['new', 'rejected', 'rejected', 'rejected', 'rejected']);
  t.match(r.records[1]!.findings[0]!.message.en, new RegExp(`deptCode "${D2}" is not the sending department ${D1}`));
  t.match(r.records[2]!.findings[0]!.message.zh, /缺少业务主键 caseNo/);
  t.match(r.records[3]!.findings[0]!.message.en, /recordType must be case, powerItem or supervision/);
  t.equal(r.status, 'partial');
  t.same(await sim.storedKeys(), [defaultKey(kase('OK-1'))]);
  // Refused for being invalid, not by the rule: the right department may still send OTHER.
  t.same((await receipt(batch([kase('OTHER', { deptCode: D2 })], { senderDept: D2 }))).records.map((x) => x.outcome), ['new']);
});

t.test('keys the database could not hold are refused one by one, not with a 500', async (t) => {
  const r = await receipt(batch([kase('\ud800'), kase('x'.repeat(1001)), kase('D', { deptCode: 'y'.repeat(5000) }), kase('FINE', { remark: 'lone \udc00 surrogate' })]));
  t.same(r.records.map((x) => x.outcome), ['rejected', 'rejected', 'rejected', 'new']);
  t.match(r.records[0]!.findings[0]!.message.en, /well-formed Unicode of at most 1000 characters/);
  t.equal((await sim.rejected()).length, 3);
  t.match(await submit(batch([kase('Z')], { idempotencyKeys: ['\ud800'] })), { status: 400, body: { code: 'HALL_ENVELOPE_INVALID' } });
});

t.test('signatures: wrong, missing, replayed, unknown key; an SM3 key works', async (t) => {
  const body = Buffer.from(JSON.stringify(batch([kase('SIG-1')])));
  const url = `${sim.url}/api/v1/batches`;
  const auth = signRequest({ method: 'POST', url, body, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_SECRET });
  const flipped = Buffer.from(body);
  flipped[5] = flipped[5]! ^ 1;
  let res = await fetch(url, { method: 'POST', body: flipped, headers: auth });
  t.equal(res.status, 401);
  const err = (await res.json()) as any;
  t.match(err, { code: 'HALL_AUTH_SIGNATURE_INVALID', message: { zh: /签名/, en: /signature/ }, details: { stringToSign: /^POST\n\/api\/v1\/batches\n/ } });

  res = await fetch(url, { method: 'POST', body, headers: auth });
  t.equal(res.status, 200);
  res = await fetch(url, { method: 'POST', body, headers: auth });
  t.equal(res.status, 401);
  t.match(await res.json(), { code: 'HALL_AUTH_REPLAY', message: { zh: String, en: /replay/ } });

  res = await fetch(url, { method: 'POST', body });
  t.equal(res.status, 401);
  t.match(await res.json(), { code: 'HALL_AUTH_MISSING' });

  const unknown = await submit(batch([kase('SIG-2')]), { keyId: 'nobody', secret: 'x' });
  t.match(unknown, { status: 401, body: { code: 'HALL_AUTH_KEY_UNKNOWN' } });
  const stale = signRequest({ method: 'POST', url, body, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_SECRET, now: new Date(Date.now() - 400_000) });
  res = await fetch(url, { method: 'POST', body, headers: stale });
  t.match(await res.json(), { code: 'HALL_AUTH_CLOCK_SKEW' });

  t.equal((await submit(batch([kase('SIG-3')]), SM3_KEY)).status, 200);
  t.same((await sim.storedKeys()).length, 2, 'only the two accepted requests stored anything');
});

t.test('malformed bodies get 400, oversized ones 413', async (t) => {
  const cases: Array<[string, Buffer | string, string, RegExp?]> = [
    ['broken JSON', '{"specVersion": "1", ', 'HALL_JSON_INVALID'],
    ['empty', '', 'HALL_JSON_INVALID'],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'HALL_JSON_INVALID', /UTF-8/],
    ['duplicate key', '{"specVersion":"1","specVersion":"1"}', 'HALL_JSON_INVALID'],
    ['an array', '[]', 'HALL_ENVELOPE_INVALID'],
    ['wrong version', JSON.stringify(batch([], { specVersion: '2' })), 'HALL_ENVELOPE_INVALID', /\/specVersion/],
    ['no sender', JSON.stringify({ ...batch([]), senderDept: undefined }), 'HALL_ENVELOPE_INVALID', /\/senderDept/],
    ['records not an array', JSON.stringify(batch([], { records: {} })), 'HALL_ENVELOPE_INVALID', /\/records/],
    ['keys of the wrong length', JSON.stringify(batch([kase('A')], { idempotencyKeys: [] })), 'HALL_ENVELOPE_INVALID', /\/idempotencyKeys/],
    ['a key too long', JSON.stringify(batch([kase('A')], { idempotencyKeys: ['x'.repeat(301)] })), 'HALL_ENVELOPE_INVALID', /\/idempotencyKeys\/0/],
  ];
  for (const [name, body, code, en] of cases) {
    const a = await signed('POST', '/api/v1/batches', body);
    t.equal(a.status, 400, name);
    t.match(a.body, { code, message: { zh: String, en: en ?? String } }, name);
  }
  const big = JSON.stringify(batch([kase('BIG', { remark: 'x'.repeat(BODY_LIMIT) })]));
  const a = await signed('POST', '/api/v1/batches', big);
  t.equal(a.status, 413);
  t.match(a.body, { code: 'HALL_PAYLOAD_TOO_LARGE', details: { limit: BODY_LIMIT } });
  t.same(await sim.storedKeys(), []);
  t.match(await control('GET', '/api/v2/nothing'), { status: 404, body: { code: 'HALL_ROUTE_NOT_FOUND' } });
});

// ── reconciliation ───────────────────────────────────────────────────────────────────────────────

t.test('reconciliation: the stored keys per type and Shanghai day, with their digest', async (t) => {
  const digest = (keys: string[]) => sha256([...keys].sort().map((k) => `${k}\n`).join(''));
  // 2026-03-10 23:59:30 and 2026-03-11 00:00:30 in Shanghai: one UTC day, two Shanghai days.
  const day1 = Date.parse('2026-03-10T23:59:30+08:00');
  const day2 = Date.parse('2026-03-11T00:00:30+08:00');
  // Keys whose code-unit order differs from a collation's: upper before lower, a surrogate pair before U+FF5E.
  const day1Cases = ['b-1', 'B-2', '办件-😀', '办件-～', 'a-0'];
  offsetMs = day1 - Date.now();
  await receipt(batch(day1Cases.map((k) => kase(k)), { idempotencyKeys: day1Cases }));
  await receipt(batch([item('I-1'), kase('dup')], { idempotencyKeys: ['item-1', 'a-0'] }));
  sim.setFaults({ rejectKeys: ['NOPE'] });
  await receipt(batch([kase('NOPE')], { idempotencyKeys: ['refused'] }));
  offsetMs = day2 - Date.now();
  await receipt(batch([kase('late')], { idempotencyKeys: ['late-1'] }));
  await receipt(batch([kase('D2-1', { deptCode: D2 })], { senderDept: D2, idempotencyKeys: ['other-dept'] }));

  const r1 = await signed('GET', `/api/v1/reconciliation?deptCode=${D1}&day=2026-03-10`);
  t.equal(r1.status, 200);
  t.same(r1.body, {
    deptCode: D1, day: '2026-03-10', timezone: 'Asia/Shanghai',
    types: [
      { recordType: 'case', count: 5, digest: digest(day1Cases) },
      { recordType: 'powerItem', count: 1, digest: digest(['item-1']) },
      { recordType: 'supervision', count: 0, digest: sha256('') },
    ],
  });
  t.equal(sha256(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

  const withKeys = await signed('GET', `/api/v1/reconciliation?deptCode=${D1}&day=2026-03-10&recordType=case&keys=true`);
  t.same(withKeys.body.types, [{ recordType: 'case', count: 5, digest: digest(day1Cases), keys: ['B-2', 'a-0', 'b-1', '办件-😀', '办件-～'] }]);

  const r2 = await signed('GET', `/api/v1/reconciliation?deptCode=${D1}&day=2026-03-11&keys=true`);
  t.same(r2.body.types.map((x: any) => [x.recordType, x.count, x.keys]), [['case', 1, ['late-1']], ['powerItem', 0, []], ['supervision', 0, []]]);
  const other = await signed('GET', `/api/v1/reconciliation?deptCode=${D2}&day=2026-03-11&recordType=case`);
  t.same(other.body.types, [{ recordType: 'case', count: 1, digest: digest(['other-dept']) }]);

  for (const q of ['deptCode=X&day=2026-02-30', 'day=2026-03-10', `deptCode=${D1}&day=2026-03-10&recordType=permit`, `deptCode=${D1}&day=2026-03-10&keys=yes`]) {
    t.match(await signed('GET', `/api/v1/reconciliation?${q}`), { status: 400, body: { code: 'HALL_QUERY_INVALID' } }, q);
  }
  const unsigned = await fetch(`${sim.url}/api/v1/reconciliation?deptCode=${D1}&day=2026-03-10`);
  t.equal(unsigned.status, 401);
});

// ── faults ───────────────────────────────────────────────────────────────────────────────────────

t.test('errorRate=1: before → nothing stored; after → stored, and the answer lost', async (t) => {
  sim.setFaults({ errorRate: 1, faultPhase: 'before' });
  const before = await submit(batch([kase('E-1')], { idempotencyKeys: ['e-1'] }));
  t.ok([500, 502, 503].includes(before.status), `status ${before.status}`);
  t.match(before.body, { code: 'HALL_INJECTED_ERROR', message: { zh: /模拟故障/, en: /simulated fault/ }, details: { phase: 'before' } });
  t.same(await sim.storedKeys(), []);

  sim.setFaults({ faultPhase: 'after' });
  const after = await submit(batch([kase('E-1')], { idempotencyKeys: ['e-1'] }));
  t.ok(after.status >= 500, `status ${after.status}`);
  t.match(after.body, { details: { phase: 'after' } });
  t.same(await sim.storedKeys(), ['e-1'], 'committed although the answer was an error');

  sim.setFaults({ errorRate: 0 });
  const retry = await receipt(batch([kase('E-1')], { idempotencyKeys: ['e-1'] }));
  t.same(retry.records.map((r) => r.outcome), ['unchanged'], 'the sender\'s retry is a duplicate');
  t.match(await sim.stats(), { injected: { errors: 2, timeouts: 0 }, duplicates: 1, stored: 1 });
});

t.test('mixed picks before or after per request', async (t) => {
  let x = 1;
  const random = () => ((x = (x * 48271) % 2147483647) / 2147483647);
  const phases = new Set(Array.from({ length: 50 }, () => decideFault({ ...DEFAULT_FAULTS, errorRate: 1 }, random)!.phase));
  t.same([...phases].sort(), ['after', 'before']);
  t.equal(decideFault({ ...DEFAULT_FAULTS }, random), undefined);
});

t.test('timeoutRate=1: no answer; the socket is held until the client gives up or the hold ends', async (t) => {
  sim.setFaults({ timeoutRate: 1, faultPhase: 'after', timeoutHoldMs: 1200 });
  const started = Date.now();
  await t.rejects(signed('POST', '/api/v1/batches', JSON.stringify(batch([kase('T-1')], { idempotencyKeys: ['t-1'] })), HALL_DEMO_KEY, AbortSignal.timeout(300)), { name: 'TimeoutError' });
  t.ok(Date.now() - started < 1000);
  t.same(await sim.storedKeys(), ['t-1'], 'after: stored, then never answered');

  // A client that waits: the hall destroys the socket after timeoutHoldMs.
  const body = Buffer.from(JSON.stringify(batch([kase('T-2')])));
  const url = `${sim.url}/api/v1/batches`;
  const held = Date.now();
  const outcome = await new Promise<string>((resolve) => {
    const req = request(url, { method: 'POST', headers: { ...signRequest({ method: 'POST', url, body, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_SECRET }), 'content-length': String(body.length) } }, (res) => resolve(`answered ${res.statusCode}`));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(body);
  });
  const elapsed = Date.now() - held;
  t.match(outcome, /ECONNRESET|socket hang up/);
  t.ok(elapsed >= 1100 && elapsed < 5000, `held for ${elapsed} ms`);
  t.match(await sim.stats(), { injected: { timeouts: 2 } });
});

t.test('an outage resets connections, the control endpoints still answer, then the hall recovers', async (t) => {
  t.match(await control('POST', '/_sim/outage', { durationSec: 0.8 }), { status: 200, body: { outage: true } });
  const err = await fetch(`${sim.url}/healthz`).then(() => undefined, (e: Error & { cause?: { code?: string } }) => e);
  t.ok(err !== undefined, 'the request failed');
  t.match(err?.cause?.code ?? '', /ECONNRESET|UND_ERR_SOCKET/);
  const during = await signed('POST', '/api/v1/batches', JSON.stringify(batch([kase('O-1')]))).then(() => 'answered', () => 'reset');
  t.equal(during, 'reset');
  t.match(await control('GET', '/_sim/stats'), { status: 200, body: { outage: true, injected: { outageDrops: 2 } } });
  await new Promise((r) => setTimeout(r, 900));
  t.same(await (await fetch(`${sim.url}/healthz`)).json(), { status: 'ok' });
  t.equal((await submit(batch([kase('O-1')]))).status, 200);

  sim.setFaults({ outageMode: '503', outages: [{ startSec: 0, durationSec: 86_400 }] });
  t.match(await submit(batch([kase('O-2')])), { status: 503, body: { code: 'HALL_OUTAGE', message: { en: /outage/ } } });
  sim.setFaults({ outages: [] });
  t.equal((await submit(batch([kase('O-2')]))).status, 200);
  t.match(await sim.stats(), { injected: { outageDrops: 3 }, stored: 2 });
});

t.test('faults are read and changed at run time over HTTP; latency delays requests', async (t) => {
  t.same((await control('GET', '/_sim/faults')).body, { ...DEFAULT_FAULTS, rejectKeys: [], outages: [] });
  const put = await control('PUT', '/_sim/faults', { latencyMs: [250, 300], rejectRate: 0.5 });
  t.match(put, { status: 200, body: { latencyMs: [250, 300], rejectRate: 0.5, errorRate: 0 } });
  t.match(sim.faults(), { latencyMs: [250, 300] });
  const started = Date.now();
  t.equal((await fetch(`${sim.url}/healthz`)).status, 200);
  t.ok(Date.now() - started >= 240, `delayed ${Date.now() - started} ms`);
  const fast = Date.now();
  await control('GET', '/_sim/stats');
  t.ok(Date.now() - fast < 240, 'the control endpoints are not delayed');

  const bad = await control('PUT', '/_sim/faults', { errorrate: 1, timeoutRate: 2 });
  t.equal(bad.status, 400);
  t.match(bad.body, { code: 'HALL_FAULTS_INVALID', message: { en: /unknown fault setting "errorrate".*timeoutRate must be a number from 0 to 1/ } });
  t.match((await control('GET', '/_sim/faults')).body, { errorRate: 0, timeoutRate: 0 }, 'nothing of a refused setting applies');
  t.throws(() => sim.setFaults({ faultPhase: 'sometimes' as 'mixed' }), TypeError);
  t.match(await control('POST', '/_sim/outage', { durationSec: -1 }), { status: 400, body: { code: 'HALL_FAULTS_INVALID' } });
});

t.test('reset clears stored records, rejections and counters', async (t) => {
  sim.setFaults({ rejectKeys: ['GONE'] });
  await receipt(batch([kase('KEEP'), kase('GONE')]));
  t.match(await sim.stats(), { stored: 1, rejected: 1, batches: 1 });
  t.match(await control('POST', '/_sim/reset'), { status: 200 });
  t.match((await control('GET', '/_sim/stats')).body, { batches: 0, recordsReceived: 0, stored: 0, duplicates: 0, rejected: 0, byDept: {} });
  t.same(await sim.storedKeys(), []);
  t.same((await control('GET', '/_sim/rejected')).body, []);
  t.same(sim.faults().rejectKeys, ['GONE'], 'the fault settings stay');
});

t.test('throughput: a few thousand records per second', async (t) => {
  // Example cases are ~2.9 kB: 80 of them stay under the test's body limit.
  const batches = 40;
  const size = 80;
  const started = Date.now();
  for (let b = 0; b < batches; b++) {
    const recs = Array.from({ length: size }, (_, i) => exampleCase({ deptCode: D1, caseNo: `PERF-${b}-${i}` }));
    const r = await receipt(batch(recs));
    t.equal(r.counts.new, size);
  }
  const perSecond = Math.round((batches * size * 1000) / (Date.now() - started));
  t.comment(`${perSecond} records/s (${batches} batches of ${size}, ${onServer ? 'postgres' : 'pglite'})`);
  // Only a floor against pathological regressions (a statement per record): the machine may be shared.
  t.ok(perSecond > 200, `${perSecond} records/s`);
});

// ── CLI ──────────────────────────────────────────────────────────────────────────────────────────

t.test('CLI flags become options; only the demo secret is printed', async (t) => {
  const base = { host: '127.0.0.1', port: '9090', schema: 'hallsim', key: [], rejectKey: [], outage: [], logLevel: 'warn' };
  t.match(hallSimOptionsFromCli({ ...base, latencyMs: '20-200', errorRate: '0.1', faultPhase: 'after', outage: ['10:5'], outageMode: '503', rejectKey: ['A', 'B'] }, {}), {
    port: 9090, keys: [HALL_DEMO_KEY], faults: { latencyMs: [20, 200], errorRate: 0.1, faultPhase: 'after', outages: [{ startSec: 10, durationSec: 5 }], outageMode: '503', rejectKeys: ['A', 'B'] },
  });
  t.match(hallSimOptionsFromCli(base, { HALLSIM_DATABASE_URL: 'postgres://u:p@h/db' }), { databaseUrl: 'postgres://u:p@h/db' });
  t.same(parseKeyOption('gw1:se:cret:hmac-sm3'), { keyId: 'gw1', secret: 'se:cret', algorithm: 'hmac-sm3' });
  t.same(parseKeyOption('gw1:se:cret'), { keyId: 'gw1', secret: 'se:cret', algorithm: 'hmac-sha256' });
  t.throws(() => hallSimOptionsFromCli({ ...base, errorRate: '2' }), { code: 'govgate.hallsim' });
  t.throws(() => hallSimOptionsFromCli({ ...base, faultPhase: 'never' }), { code: 'govgate.hallsim' });
  t.throws(() => parseKeyOption('nosecret'), { code: 'govgate.hallsim' });

  const opts = { keys: [HALL_DEMO_KEY, { keyId: 'gw-prod', secret: 'very-secret-value' }] };
  const banner = hallSimBanner({ url: sim.url, db: sim.db, faults: () => DEFAULT_FAULTS }, opts);
  t.match(banner, `listening on ${sim.url}`);
  t.match(banner, `secret=${HALL_DEMO_SECRET}`);
  t.match(banner, 'keyId=gw-prod');
  t.notMatch(banner, 'very-secret-value');
  t.match(banner, /\/_sim\/\* 无需认证/);
});

t.test('govgate hall-sim starts, prints its address, answers /healthz and stops on SIGTERM', async (t) => {
  const cliSchema = onServer ? newSchemaName() : undefined;
  const args = ['hall-sim', '--port', '0', '--error-rate', '0', ...(cliSchema === undefined ? [] : ['--database-url', TEST_DATABASE_URL!, '--schema', cliSchema])];
  const hall = await spawnGateway(args, {});
  t.teardown(async () => {
    hall.child.kill('SIGKILL');
    if (cliSchema !== undefined) await dropSchema(cliSchema);
  });
  t.match(hall.output(), /keyId=hall-demo/);
  t.match(hall.output(), HALL_DEMO_SECRET);
  t.same(await (await fetch(`${hall.url}/healthz`)).json(), { status: 'ok' });
  const url = `${hall.url}/api/v1/batches`;
  const body = Buffer.from(JSON.stringify(batch([kase('CLI-1')])));
  const res = await fetch(url, { method: 'POST', body, headers: signRequest({ method: 'POST', url, body, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_SECRET }) });
  t.match(await res.json(), { status: 'accepted', counts: { new: 1 } });
  hall.child.kill('SIGTERM');
  t.match(await hall.exited, { code: 0 });
});
