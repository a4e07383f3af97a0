import t from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { GovgateClient, GovgateClientError, requestTarget, signRequest } from '../src/client/index.js';
import { verifyRequest, type KeyLookupResult } from '../src/auth/signing.js';
import { NonceCache } from '../src/auth/nonce-cache.js';
import { GovgateError } from '../src/errors.js';
import type { DepartmentKey } from '../src/config/departments.js';

const SECRET = 'client-test-secret-at-least-32-characters';
const SECRET_SM3 = '客户端国密测试密钥-at-least-32-characters';
const k = (id: string, algorithm: DepartmentKey['algorithm'], secret: string): DepartmentKey => ({ id, algorithm, secret, secretSource: 'inline', active: true });
const KEYS = new Map<string, KeyLookupResult>([
  ['c-sha', { key: k('c-sha', 'hmac-sha256', SECRET), deptCode: '11330100002489671K' }],
  ['c-sm3', { key: k('c-sm3', 'hmac-sm3', SECRET_SM3), deptCode: '11330100002490146A' }],
]);

interface Hit { method: string; url: string; contentType: string | undefined; body: Buffer; nonce?: string }

/**
 * A stand-in for the gateway: verifies with the real verifier and a nonce cache, answers like the
 * gateway (receipt JSON, or `{ code, message: { zh, en }, details }`), plus a few misbehaving routes.
 */
async function fakeGateway() {
  const hits: Hit[] = [];
  const nonces = new NonceCache();
  let mode: 'normal' | 'stale' = 'normal';
  const sendJson = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));

  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      const hit: Hit = { method: req.method ?? '', url, contentType: req.headers['content-type'], body: Buffer.concat(chunks) };
      hits.push(hit);
      const path = url.split('?')[0] ?? '';
      if (path.startsWith('/moved/')) {
        const status = Number(new URL(url, 'http://x').searchParams.get('status') ?? 302);
        res.writeHead(status, { location: url.replace('/moved/', '/') }).end();
        return;
      }
      if (path.startsWith('/html/')) {
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>502 Bad Gateway</body></html>');
        return;
      }
      try {
        const who = verifyRequest({ method: hit.method, url, headers: req.headers, body: hit.body, now: new Date(), keys: (id) => KEYS.get(id), clockSkewSeconds: 300 });
        hit.nonce = who.nonce;
        if (nonces.seen(who.keyId, who.nonce, 600_000)) throw new GovgateError('GOVGATE_AUTH_REPLAY', { found: who.nonce });
        if (mode === 'stale') {
          const e = new GovgateError('GOVGATE_RECORD_STALE', { found: 'case 330100-SJ-2026-000123', dataVer: 2, expected: 3 });
          sendJson(res, e.statusCode, { ...e.toJSON(), receiptId: 'r-stale-1' });
          return;
        }
        const receipt = {
          receiptId: path.includes('/receipts/') ? decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) : `r-${hits.length}`,
          receivedAt: new Date().toISOString(), deptCode: who.deptCode, status: 'accepted',
          counts: { records: 0, accepted: 0, rejected: 0, new: 0, changed: 0, unchanged: 0, stale: 0 }, records: [], findings: [],
          echo: { path, algorithm: who.algorithm },
        };
        sendJson(res, 200, receipt);
      } catch (err) {
        const e = err instanceof GovgateError ? err : new GovgateError('GOVGATE_INTERNAL', { requestId: '-' });
        sendJson(res, e.statusCode, e.toJSON());
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    setMode: (m: typeof mode) => { mode = m; },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function rejection(p: Promise<unknown>): Promise<GovgateClientError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GovgateClientError) return err;
    throw err;
  }
  throw new Error('expected the request to fail');
}

t.test('submits batches, records and reads receipts, signed', async (t) => {
  const gw = await fakeGateway();
  t.teardown(gw.close);
  const client = new GovgateClient({ baseUrl: gw.base, keyId: 'c-sha', secret: SECRET });

  const envelope = { specVersion: '1', batchId: 'B-1', senderDept: '11330100002489671K', records: [{ caseName: '食品经营许可' }] };
  const r1 = await client.submitBatch(envelope);
  t.match(r1, { status: 'accepted', deptCode: '11330100002489671K', echo: { path: '/api/v1/batches', algorithm: 'hmac-sha256' } });
  t.match(gw.hits.at(-1), { method: 'POST', url: '/api/v1/batches', contentType: 'application/json; charset=utf-8' });
  t.same(gw.hits.at(-1)?.body.toString('utf8'), JSON.stringify(envelope));

  // Bytes go as they are; XML is recognised (BOM and leading blanks allowed); GBK stays GBK.
  const gbk = readFileSync(new URL('../docs/spec/examples/batch-valid-gbk.xml', import.meta.url));
  await client.submitBatch(gbk);
  t.equal(gw.hits.at(-1)?.contentType, 'application/xml');
  t.same(gw.hits.at(-1)?.body, gbk);
  await client.submitBatch(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n  <batch/>')]));
  t.equal(gw.hits.at(-1)?.contentType, 'application/xml');
  await client.submitBatch(Buffer.from('{"records":[]}'));
  t.equal(gw.hits.at(-1)?.contentType, 'application/json');
  await client.submitBatch(gbk, { contentType: 'text/xml; charset=GB18030' });
  t.equal(gw.hits.at(-1)?.contentType, 'text/xml; charset=GB18030');

  const r2 = await client.submitRecord({ recordType: 'case', caseNo: 'X-1' });
  t.match(r2, { echo: { path: '/api/v1/records' } });

  // The receipt id is percent-encoded, and signed the way it goes on the wire.
  const r3 = await client.getReceipt('r/42 回执');
  t.equal(r3.receiptId, 'r/42 回执');
  t.match(gw.hits.at(-1), { method: 'GET', url: '/api/v1/receipts/r%2F42%20%E5%9B%9E%E6%89%A7' });
  t.equal(gw.hits.at(-1)?.body.length, 0);
});

t.test('HMAC-SM3 client, and a base URL with a path prefix', async (t) => {
  const gw = await fakeGateway();
  t.teardown(gw.close);
  const client = new GovgateClient({ baseUrl: `${gw.base}/gw`, keyId: 'c-sm3', secret: SECRET_SM3, algorithm: 'hmac-sm3' });
  const r = await client.submitBatch({ records: [] });
  t.match(r, { echo: { path: '/gw/api/v1/batches', algorithm: 'hmac-sm3' } });
  const q = await client.request('GET', '/api/v1/receipts/r-1?verbose=1');
  t.match(q, { receiptId: 'r-1' });
  t.equal(gw.hits.at(-1)?.url, '/gw/api/v1/receipts/r-1?verbose=1');
});

t.test('every call is signed afresh, so a repeat is never a replay', async (t) => {
  const gw = await fakeGateway();
  t.teardown(gw.close);
  const client = new GovgateClient({ baseUrl: gw.base, keyId: 'c-sha', secret: SECRET });
  await client.submitBatch({ records: [] });
  await client.submitBatch({ records: [] });
  const [a, b] = gw.hits.map((h) => h.nonce);
  t.ok(a !== undefined && b !== undefined && a !== b, 'two nonces');
});

t.test('redirects are not followed', async (t) => {
  const gw = await fakeGateway();
  t.teardown(gw.close);
  for (const status of [301, 302, 303, 307, 308]) {
    const client = new GovgateClient({ baseUrl: `${gw.base}/moved/`, keyId: 'c-sha', secret: SECRET });
    const before = gw.hits.length;
    const e = await rejection(client.request('POST', `api/v1/batches?status=${status}`, Buffer.from('{"records":[]}'), 'application/json'));
    t.equal(e.status, status);
    t.equal(e.code, 'CLIENT_REDIRECT');
    t.equal(e.details.location, `/api/v1/batches?status=${status}`);
    t.match(e.messages.zh, /不跟随重定向/);
    t.match(e.message, /^CLIENT_REDIRECT \(HTTP \d{3}\): the gateway answered with a redirect/);
    t.equal(gw.hits.length, before + 1, `${status}: only the first request reached the server`);
  }
});

t.test('the gateway\'s error body is surfaced', async (t) => {
  const gw = await fakeGateway();
  t.teardown(gw.close);

  const wrong = new GovgateClient({ baseUrl: gw.base, keyId: 'c-sha', secret: `${SECRET}-wrong` });
  const e = await rejection(wrong.submitBatch({ records: [] }));
  t.ok(e instanceof Error);
  t.equal(e.status, 401);
  t.equal(e.code, 'GOVGATE_AUTH_SIGNATURE_INVALID');
  const expected = new GovgateError('GOVGATE_AUTH_SIGNATURE_INVALID').messages;
  t.same(e.messages, expected);
  t.equal(e.message, `GOVGATE_AUTH_SIGNATURE_INVALID (HTTP 401): ${expected.en} / ${expected.zh}`);
  t.equal(e.details.problem, 'mismatch');
  t.match(e.details.stringToSign, /^POST\n\/api\/v1\/batches\n\d+\n[A-Za-z0-9_-]{32}\n[0-9a-f]{64}$/);

  const unknown = new GovgateClient({ baseUrl: gw.base, keyId: 'nobody', secret: SECRET });
  t.match(await rejection(unknown.getReceipt('r-1')), { status: 401, code: 'GOVGATE_AUTH_KEY_UNKNOWN', messages: { zh: '未知或已停用的密钥编号 nobody' } });

  // A refused submission that still has a receipt.
  gw.setMode('stale');
  const client = new GovgateClient({ baseUrl: gw.base, keyId: 'c-sha', secret: SECRET });
  const stale = await rejection(client.submitRecord({ caseNo: 'X' }));
  t.match(stale, { status: 409, code: 'GOVGATE_RECORD_STALE', receiptId: 'r-stale-1' });
  t.match(stale.messages.en, /data version 2, older than the stored data version 3/);

  // Not the gateway's JSON at all (a proxy's page).
  const html = new GovgateClient({ baseUrl: `${gw.base}/html`, keyId: 'c-sha', secret: SECRET });
  const h = await rejection(html.submitBatch({ records: [] }));
  t.match(h, { status: 502, code: 'CLIENT_UNEXPECTED_RESPONSE', body: /502 Bad Gateway/ });
  t.match(h.messages.en, /\/html\/api\/v1\/batches answered HTTP 502 but not with the gateway's JSON/);
});

t.test('signRequest', async (t) => {
  const h = signRequest({ method: 'POST', url: '/api/v1/batches', body: '{}', keyId: 'c-sha', secret: SECRET, now: new Date('2026-03-10T09:00:00Z'), nonce: 'abcdefghijklmnop' });
  t.same(Object.keys(h), ['Authorization'], 'only Authorization; Content-Type is the caller\'s');
  t.match(h.Authorization, /^GOVGATE-HMAC-SHA256 keyId=c-sha, timestamp=1773133200, nonce=abcdefghijklmnop, signature=[A-Za-z0-9+/]{43}=$/);
  t.match(signRequest({ method: 'GET', url: '/', keyId: 'c-sm3', secret: SECRET_SM3, algorithm: 'hmac-sm3' }).Authorization, /^GOVGATE-HMAC-SM3 keyId=c-sm3, timestamp=\d+, nonce=[A-Za-z0-9_-]{32}, /);
  t.throws(() => signRequest({ method: 'GET', url: '/', keyId: 'c-sha', secret: SECRET, nonce: 'short' }), RangeError);
  t.throws(() => signRequest({ method: 'GET', url: '/', keyId: 'a b', secret: SECRET }), RangeError);
  t.throws(() => signRequest({ method: 'GET', url: '/', keyId: 'c-sha', secret: SECRET, algorithm: 'hmac-md5' as never }), TypeError);
});

t.test('requestTarget is what goes on the wire', async (t) => {
  t.equal(requestTarget('https://h.example/api/v1/batches?dryRun=1#frag'), '/api/v1/batches?dryRun=1');
  t.equal(requestTarget('/api/v1/batches?'), '/api/v1/batches?');
  t.equal(requestTarget('/api/v1/batches'), '/api/v1/batches');
  t.equal(requestTarget('https://h.example'), '/');
  t.equal(requestTarget('/a b/回执?q=中 文'), '/a%20b/%E5%9B%9E%E6%89%A7?q=%E4%B8%AD%20%E6%96%87');
});
