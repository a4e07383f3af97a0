import t from 'tap';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import {
  bodyDigest, constantTimeEqual, HEADER_FORMAT, parseAuthorization, sign, stringToSign, verifyRequest,
  type KeyLookupResult, type VerifyRequestInput,
} from '../src/auth/signing.js';
import { NonceCache } from '../src/auth/nonce-cache.js';
import { signRequest } from '../src/client/sign.js';
import { GovgateError, type ErrorCode } from '../src/errors.js';
import type { DepartmentKey } from '../src/config/departments.js';
import { errorOf } from './helpers/errors.js';

// ── the worked example of docs/signing.md ───────────────────────────────────────────────────────
// Also cross-checked by hand with `openssl dgst`; the test below keeps the doc and the code in step.
const EX = {
  keyId: 'example-2026a',
  secret: 'example-secret-do-not-use-0123456789',
  method: 'POST',
  path: '/api/v1/batches?dryRun=1',
  timestamp: 1773133200, // 2026-03-10T09:00:00Z = 17:00 Beijing time
  nonce: 'c2a1f09d8e7b4a3c',
  body: '{"specVersion":"1","batchId":"B20260310-0001","records":[]}',
  'hmac-sha256': {
    digest: '51970bade3dfa77b4d19e1a441a36833f52c6fc0a9862377a152098dd770a730',
    signature: 'd9fvDOsFM8imcD3FUOKjQrWMIdDr70MNaUAaYp3sHh8=',
    scheme: 'GOVGATE-HMAC-SHA256',
  },
  'hmac-sm3': {
    digest: 'e8e88c4e7356b5d4ccd8bd4a6eb594fea4d1959fef505ca33b23e1eb9b9396fc',
    signature: 'nVGRiPpVSwNeU85rBUzhvliXqJfnuNUaOfNZO4tDTOY=',
    scheme: 'GOVGATE-HMAC-SM3',
  },
} as const;
const ALGORITHMS = ['hmac-sha256', 'hmac-sm3'] as const;
const exHeader = (alg: (typeof ALGORITHMS)[number]) =>
  `${EX[alg].scheme} keyId=${EX.keyId}, timestamp=${EX.timestamp}, nonce=${EX.nonce}, signature=${EX[alg].signature}`;

const SECRET_A = 'a-secret-of-at-least-32-characters-AAAA';
const SECRET_B = '国密测试密钥-at-least-32-characters-BBBBBBBB';
const NOW = new Date('2026-03-10T09:00:00Z');

function key(id: string, algorithm: DepartmentKey['algorithm'], secret: string, extra: Partial<DepartmentKey> = {}): DepartmentKey {
  return { id, algorithm, secret, secretSource: 'inline', active: true, ...extra };
}

const KEYS = new Map<string, KeyLookupResult>([
  ['k-sha', { key: key('k-sha', 'hmac-sha256', SECRET_A), deptCode: '11330100002489671K' }],
  ['k-sm3', { key: key('k-sm3', 'hmac-sm3', SECRET_B), deptCode: '11330100002490146A' }],
  ['k-off', { key: key('k-off', 'hmac-sha256', SECRET_A, { active: false }), deptCode: 'X' }],
  ['k-old', { key: key('k-old', 'hmac-sha256', SECRET_A, { notAfter: '2026-03-10T16:59:59+08:00' }), deptCode: 'X' }],
  ['k-new', { key: key('k-new', 'hmac-sha256', SECRET_A, { notAfter: '2026-03-10T17:00:00+08:00' }), deptCode: 'X' }],
  [EX.keyId, { key: key(EX.keyId, 'hmac-sha256', EX.secret), deptCode: 'EX' }],
]);
const lookup = (id: string) => KEYS.get(id);

interface Req { method: string; url: string; body?: Uint8Array; headers: Record<string, string> }

function signed(keyId: string, opts: { method?: string; url?: string; body?: Uint8Array; now?: Date; secret?: string; algorithm?: DepartmentKey['algorithm'] } = {}): Req {
  const entry = KEYS.get(keyId);
  const method = opts.method ?? 'POST';
  const url = opts.url ?? '/api/v1/batches';
  const body = opts.body ?? (method === 'GET' ? undefined : Buffer.from('{"records":[]}'));
  const h = signRequest({
    method, url, body, keyId,
    secret: opts.secret ?? entry?.key.secret ?? SECRET_A,
    algorithm: opts.algorithm ?? entry?.key.algorithm ?? 'hmac-sha256',
    now: opts.now ?? NOW,
  });
  return { method, url, ...(body === undefined ? {} : { body }), headers: { authorization: h.Authorization as string } };
}

function verify(req: Req, extra: Partial<VerifyRequestInput> = {}) {
  return verifyRequest({ ...req, now: NOW, keys: lookup, clockSkewSeconds: 300, ...extra });
}

function codeOf(fn: () => unknown): ErrorCode | 'no error' | string {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof GovgateError ? err.code : `not a GovgateError: ${String(err)}`;
  }
}


// ── known answers ───────────────────────────────────────────────────────────────────────────────

t.test('SM3 is available and correct (GB/T 32905 test vectors)', async (t) => {
  t.equal(createHash('sm3').update('abc').digest('hex'), '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  t.equal(createHash('sm3').update('abcd'.repeat(16)).digest('hex'), 'debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  // HMAC-SM3 per RFC 2104 with SM3's 64-byte block, built by hand, agrees with createHmac('sm3').
  const hmacByHand = (k: Buffer, m: Buffer): Buffer => {
    const block = Buffer.alloc(64);
    (k.length > 64 ? createHash('sm3').update(k).digest() : k).copy(block);
    const inner = createHash('sm3').update(block.map((b) => b ^ 0x36)).update(m).digest();
    return createHash('sm3').update(block.map((b) => b ^ 0x5c)).update(inner).digest();
  };
  for (const k of [Buffer.from(EX.secret), Buffer.from(SECRET_B), randomBytes(100)]) {
    const m = randomBytes(77);
    t.same(createHmac('sm3', k).update(m).digest(), hmacByHand(k, m));
  }
});

t.test('the worked example of docs/signing.md', async (t) => {
  const doc = readFileSync(new URL('../docs/signing.md', import.meta.url), 'utf8');
  const body = Buffer.from(EX.body, 'utf8');
  for (const alg of ALGORITHMS) {
    const digest = bodyDigest(alg, body);
    t.equal(digest, EX[alg].digest, `${alg} digest`);
    const s = stringToSign(EX.method, EX.path, EX.timestamp, EX.nonce, digest);
    t.equal(s, `POST\n/api/v1/batches?dryRun=1\n1773133200\nc2a1f09d8e7b4a3c\n${EX[alg].digest}`);
    t.equal(sign(alg, EX.secret, s), EX[alg].signature, `${alg} signature`);
    const h = signRequest({ method: 'post', url: `https://gw.example.gov.cn${EX.path}`, body: EX.body, keyId: EX.keyId, secret: EX.secret, algorithm: alg, now: new Date(EX.timestamp * 1000), nonce: EX.nonce });
    t.same(h, { Authorization: exHeader(alg) }, `${alg} header`);

    // The doc quotes exactly these values.
    t.ok(doc.includes(EX[alg].digest), `doc has the ${alg} digest`);
    t.ok(doc.includes(`Authorization: ${exHeader(alg)}`), `doc has the ${alg} header`);
    t.ok(doc.includes(s), `doc has the ${alg} string to sign`);
  }
  for (const v of [EX.keyId, EX.secret, EX.body, EX.nonce, String(EX.timestamp), EX.path]) t.ok(doc.includes(v), `doc has ${v}`);

  // And the gateway accepts it.
  const ok = verify({ method: 'POST', url: EX.path, body, headers: { authorization: exHeader('hmac-sha256') } }, { now: new Date(EX.timestamp * 1000) });
  t.same(ok, {
    keyId: EX.keyId, deptCode: 'EX', nonce: EX.nonce, timestamp: EX.timestamp, algorithm: 'hmac-sha256',
    bodyDigest: { algorithm: 'sha256', hex: EX['hmac-sha256'].digest },
  }, 'and hands on the body digest it checked, for the store to reuse');
});

t.test('digests of an empty body', async (t) => {
  t.equal(bodyDigest('hmac-sha256', undefined), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.equal(bodyDigest('hmac-sha256', new Uint8Array(0)), bodyDigest('hmac-sha256', undefined));
  t.equal(bodyDigest('hmac-sm3', undefined), '1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b');
});

// ── round trips ─────────────────────────────────────────────────────────────────────────────────

t.test('round trips for both algorithms', async (t) => {
  for (const keyId of ['k-sha', 'k-sm3']) {
    for (let i = 0; i < 20; i++) {
      const body = randomBytes(i * 37);
      const r = verify(signed(keyId, { body, url: `/api/v1/batches?i=${i}&x=%E4%B8%AD` }));
      t.equal(r.keyId, keyId);
    }
    const get = verify(signed(keyId, { method: 'GET', url: '/api/v1/receipts/r-123' }));
    t.equal(get.algorithm, KEYS.get(keyId)?.key.algorithm);
    t.equal(get.deptCode, KEYS.get(keyId)?.deptCode);
  }
});

t.test('a non-ASCII path is signed the way fetch sends it', async (t) => {
  const h = signRequest({ method: 'GET', url: 'http://h/api/v1/receipts/回执 1', keyId: 'k-sha', secret: SECRET_A, now: NOW });
  const auth = h.Authorization as string;
  t.equal(codeOf(() => verify({ method: 'GET', url: '/api/v1/receipts/%E5%9B%9E%E6%89%A7%201', headers: { authorization: auth } })), 'no error');
});

t.test('header syntax: order, spaces and scheme case are free', async (t) => {
  const r = signed('k-sha');
  const p = parseAuthorization(r.headers.authorization);
  const variants = [
    `GOVGATE-HMAC-SHA256 signature=${p.signature},nonce=${p.nonce},   timestamp=${p.timestamp} ,keyId=${p.keyId}`,
    `govgate-hmac-sha256   keyId=${p.keyId}, timestamp=${p.timestamp}, nonce=${p.nonce}, signature=${p.signature}`,
    `  GOVGATE-HMAC-SHA256 keyId=${p.keyId},timestamp=${p.timestamp},nonce=${p.nonce},signature=${p.signature}  `,
  ];
  for (const v of variants) t.equal(codeOf(() => verify({ ...r, headers: { authorization: v } })), 'no error', v);
});

// ── failures ────────────────────────────────────────────────────────────────────────────────────

t.test('missing header', async (t) => {
  const absent: Record<string, string>[] = [{}, { authorization: '' }, { authorization: '   ' }];
  for (const headers of absent) {
    const e = errorOf(() => verify({ method: 'GET', url: '/x', headers }));
    t.equal(e.code, 'GOVGATE_AUTH_MISSING');
    t.equal(e.statusCode, 401);
    t.equal(e.details.expected, HEADER_FORMAT);
    t.match(e.messages.en, /provide Authorization: GOVGATE-HMAC-SHA256 keyId=/);
  }
  t.equal(errorOf(() => parseAuthorization(undefined)).details.problem, 'absent');
});

t.test('malformed headers say what is wrong', async (t) => {
  const p = parseAuthorization(signed('k-sha').headers.authorization);
  const ok = { keyId: `keyId=${p.keyId}`, ts: `timestamp=${p.timestamp}`, nonce: `nonce=${p.nonce}`, sig: `signature=${p.signature}` };
  const all = `${ok.keyId}, ${ok.ts}, ${ok.nonce}, ${ok.sig}`;
  const cases: [string, string, RegExp][] = [
    [`Bearer ${'x'.repeat(40)}`, 'scheme', /the scheme GOVGATE-HMAC-SHA256 or GOVGATE-HMAC-SM3 \(found "Bearer"\)/],
    [`GOVGATE-HMAC-MD5 ${all}`, 'scheme', /found "GOVGATE-HMAC-MD5"/],
    ['sk_live_0123456789abcdefghijklmnop', 'scheme', /found a value without a scheme\)$/],
    ['GOVGATE-HMAC-SHA256', 'missing-parameter', /the parameters keyId, timestamp, nonce and signature/],
    [`GOVGATE-HMAC-SHA256 ${all}, foo=bar`, 'unknown-parameter', /unknown: "foo"/],
    [`GOVGATE-HMAC-SHA256 ${all}, keyid=x`, 'unknown-parameter', /unknown: "keyid"/],
    [`GOVGATE-HMAC-SHA256 ${all}, ${ok.nonce}`, 'duplicate-parameter', /nonce appears twice/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, ${ok.ts}, ${ok.nonce}`, 'missing-parameter', /the parameter signature/],
    [`GOVGATE-HMAC-SHA256 ${ok.ts}, ${ok.nonce}, ${ok.sig}`, 'missing-parameter', /the parameter keyId/],
    [`GOVGATE-HMAC-SHA256 ${all},`, 'syntax', /parameter 5 is empty/],
    [`GOVGATE-HMAC-SHA256 ${all}, stray`, 'syntax', /"stray" has no "="/],
    [`GOVGATE-HMAC-SHA256 keyId=a b, ${ok.ts}, ${ok.nonce}, ${ok.sig}`, 'invalid-value', /a valid keyId/],
    [`GOVGATE-HMAC-SHA256 keyId=, ${ok.ts}, ${ok.nonce}, ${ok.sig}`, 'invalid-value', /a valid keyId/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, timestamp=-5, ${ok.nonce}, ${ok.sig}`, 'invalid-value', /whole Unix seconds \(found "-5"\)/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, timestamp=1773133200.5, ${ok.nonce}, ${ok.sig}`, 'invalid-value', /whole Unix seconds/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, timestamp=1e9, ${ok.nonce}, ${ok.sig}`, 'invalid-value', /whole Unix seconds/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, ${ok.ts}, nonce=short, ${ok.sig}`, 'invalid-value', /16–64 characters .*found 5/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, ${ok.ts}, nonce=${'n'.repeat(65)}, ${ok.sig}`, 'invalid-value', /found 65/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, ${ok.ts}, nonce=abcdefghijklmnop.q, ${ok.sig}`, 'invalid-value', /it has other characters/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, ${ok.ts}, ${ok.nonce}, signature=not*base64`, 'invalid-value', /Base64 of the HMAC/],
    [`GOVGATE-HMAC-SHA256 ${ok.keyId}, ${ok.ts}, ${ok.nonce}, signature="${p.signature}"`, 'invalid-value', /Base64 of the HMAC/],
    [`GOVGATE-HMAC-SHA256 ${all}, x=${'y'.repeat(600)}`, 'too-long', /at most 512 characters/],
  ];
  for (const [header, problem, en] of cases) {
    const e = errorOf(() => parseAuthorization(header));
    t.equal(e.code, 'GOVGATE_AUTH_MISSING', header.slice(0, 60));
    t.equal(e.details.problem, problem, header.slice(0, 60));
    t.match(e.messages.en, en, header.slice(0, 60));
    t.ok(e.messages.zh.startsWith('缺少签名认证信息：请提供'), 'Chinese message');
    t.notOk(e.messages.en.includes(p.signature), 'never echoes a signature');
    t.notOk(e.messages.en.includes('sk_live') || e.messages.zh.includes('sk_live'), 'never echoes a bare credential');
    t.notOk(e.messages.en.endsWith('...') || e.messages.zh.endsWith('...'), 'not cut short by the 120-character cap');
    t.equal(e.details.format, HEADER_FORMAT);
  }
  // Two Authorization headers (only possible from callers that keep duplicates).
  t.equal(codeOf(() => verify({ method: 'GET', url: '/', headers: { authorization: [all, all] } as never })), 'GOVGATE_AUTH_MISSING');
});

t.test('unknown, inactive and expired keys', async (t) => {
  const unknown = errorOf(() => verify(signed('nobody', { secret: SECRET_A })));
  t.equal(unknown.code, 'GOVGATE_AUTH_KEY_UNKNOWN');
  t.match(unknown.messages.en, 'unknown or inactive key id nobody');
  t.equal(errorOf(() => verify(signed('k-off'))).details.problem, 'inactive');
  // notAfter 16:59:59+08:00 is one second before NOW (17:00:00+08:00): expired.
  const expired = errorOf(() => verify(signed('k-old')));
  t.equal(expired.code, 'GOVGATE_AUTH_KEY_UNKNOWN');
  t.equal(expired.details.problem, 'expired');
  // notAfter exactly NOW is still usable; a second later it is not, even with an old timestamp.
  t.equal(codeOf(() => verify(signed('k-new'))), 'no error');
  const later = new Date(NOW.getTime() + 1000);
  t.equal(codeOf(() => verify(signed('k-new', { now: new Date(NOW.getTime() - 60_000) }), { now: later })), 'GOVGATE_AUTH_KEY_UNKNOWN');
  // An unparseable notAfter fails closed.
  const odd = new Map([['k-odd', { key: key('k-odd', 'hmac-sha256', SECRET_A, { notAfter: 'someday' }), deptCode: 'X' }]]);
  t.equal(codeOf(() => verify(signed('k-odd', { secret: SECRET_A }), { keys: (id) => odd.get(id) })), 'GOVGATE_AUTH_KEY_UNKNOWN');
});

t.test('the scheme must match the key\'s algorithm', async (t) => {
  // Correct secret, correctly signed with SHA-256, but k-sm3 is an SM3 key.
  const e = errorOf(() => verify(signed('k-sm3', { algorithm: 'hmac-sha256' })));
  t.equal(e.code, 'GOVGATE_AUTH_SIGNATURE_INVALID');
  t.equal(e.details.problem, 'algorithm-mismatch');
  t.equal(e.details.expected, 'GOVGATE-HMAC-SM3');
  t.equal(e.details.found, 'GOVGATE-HMAC-SHA256');
  t.match(String(e.details.detailEn), /uses hmac-sm3, so the scheme must be GOVGATE-HMAC-SM3/);
  t.equal(codeOf(() => verify(signed('k-sha', { algorithm: 'hmac-sm3' }))), 'GOVGATE_AUTH_SIGNATURE_INVALID');
});

t.test('clock skew: ±300 s inclusive', async (t) => {
  for (const s of [-300, -1, 0, 1, 300]) {
    t.equal(codeOf(() => verify(signed('k-sha', { now: new Date(NOW.getTime() + s * 1000) }))), 'no error', `${s} s`);
  }
  for (const s of [-301, 301, -86_400, 10 ** 9]) {
    const e = errorOf(() => verify(signed('k-sha', { now: new Date(NOW.getTime() + s * 1000) })));
    t.equal(e.code, 'GOVGATE_AUTH_CLOCK_SKEW', `${s} s`);
    t.equal(e.details.found, new Date(NOW.getTime() + s * 1000).toISOString());
    t.equal(e.details.expected, NOW.toISOString());
    t.equal(e.details.limit, 300);
  }
  const e = errorOf(() => verify(signed('k-sha', { now: new Date(NOW.getTime() - 301_000) })));
  t.equal(e.messages.en, 'the request timestamp 2026-03-10T08:54:59.000Z is outside the allowed ±300 s window (server time 2026-03-10T09:00:00.000Z)');
  // A 12-digit timestamp is still a valid date for the message.
  const p = parseAuthorization(signed('k-sha').headers.authorization);
  const far = `GOVGATE-HMAC-SHA256 keyId=k-sha, timestamp=999999999999, nonce=${p.nonce}, signature=${p.signature}`;
  t.equal(codeOf(() => verify({ method: 'POST', url: '/api/v1/batches', headers: { authorization: far } })), 'GOVGATE_AUTH_CLOCK_SKEW');
});

t.test('any flipped body bit is rejected (100 of 100)', async (t) => {
  let rejected = 0;
  for (const keyId of ['k-sha', 'k-sm3']) {
    for (let i = 0; i < 50; i++) {
      const body = randomBytes(1 + (i * 131) % 4096);
      const req = signed(keyId, { body });
      const tampered = Buffer.from(body);
      const at = Math.floor(Math.random() * tampered.length);
      tampered[at] = (tampered[at] as number) ^ (1 << (i % 8));
      if (codeOf(() => verify({ ...req, body: tampered })) === 'GOVGATE_AUTH_SIGNATURE_INVALID') rejected++;
    }
  }
  t.equal(rejected, 100);
  // A body added to, or dropped from, a request.
  t.equal(codeOf(() => verify({ ...signed('k-sha', { method: 'GET', url: '/r' }), body: Buffer.from('x') })), 'GOVGATE_AUTH_SIGNATURE_INVALID');
  const { body: _dropped, ...noBody } = signed('k-sha');
  t.equal(codeOf(() => verify(noBody)), 'GOVGATE_AUTH_SIGNATURE_INVALID');
});

t.test('method, path and query are signed', async (t) => {
  const req = signed('k-sha', { url: '/api/v1/batches?dryRun=1&a=b' });
  t.equal(codeOf(() => verify(req)), 'no error');
  for (const url of ['/api/v1/records?dryRun=1&a=b', '/api/v1/batches?dryRun=0&a=b', '/api/v1/batches?a=b&dryRun=1', '/api/v1/batches', '/api/v1/batches?dryRun=1&a=b&', '/API/v1/batches?dryRun=1&a=b']) {
    const e = errorOf(() => verify({ ...req, url }));
    t.equal(e.code, 'GOVGATE_AUTH_SIGNATURE_INVALID', url);
    t.equal(e.details.problem, 'mismatch');
    t.equal(e.details.stringToSign, `POST\n${url}\n${NOW.getTime() / 1000}\n${parseAuthorization(req.headers.authorization).nonce}\n${bodyDigest('hmac-sha256', req.body)}`);
  }
  for (const method of ['PUT', 'GET', 'PATCH']) t.equal(codeOf(() => verify({ ...req, method })), 'GOVGATE_AUTH_SIGNATURE_INVALID', method);
  // Case of the method does not matter: both sides upper-case it.
  t.equal(codeOf(() => verify({ ...req, method: 'post' })), 'no error');
  t.equal(codeOf(() => verify(signed('k-sha', { secret: SECRET_B }))), 'GOVGATE_AUTH_SIGNATURE_INVALID', 'wrong secret');
});

t.test('signature compare: different lengths do not throw', async (t) => {
  const p = parseAuthorization(signed('k-sha').headers.authorization);
  for (const sig of ['AAAA', p.signature.slice(0, 43), `AAAA${p.signature}`, p.signature.replace(/=$/, ''), 'A'.repeat(128)]) {
    const header = `GOVGATE-HMAC-SHA256 keyId=k-sha, timestamp=${p.timestamp}, nonce=${p.nonce}, signature=${sig}`;
    t.equal(codeOf(() => verify({ method: 'POST', url: '/api/v1/batches', body: Buffer.from('{"records":[]}'), headers: { authorization: header } })), 'GOVGATE_AUTH_SIGNATURE_INVALID', sig);
  }
  t.equal(constantTimeEqual('abc', 'abcd'), false);
  t.equal(constantTimeEqual('', 'x'), false);
  t.equal(constantTimeEqual('abcd', 'abcd'), true);
  t.equal(constantTimeEqual('abcd', 'abce'), false);
});

t.test('error details never carry the secret or the expected signature', async (t) => {
  const good = signed('k-sha');
  const expected = parseAuthorization(good.headers.authorization).signature;
  const errors = [
    errorOf(() => verify({ ...good, url: '/other' })),
    errorOf(() => verify(signed('k-sha', { secret: SECRET_B }))),
    errorOf(() => verify(signed('k-sm3', { algorithm: 'hmac-sha256' }))),
  ];
  for (const e of errors) {
    const text = JSON.stringify(e.toJSON());
    t.notOk(text.includes(SECRET_A) || text.includes(SECRET_B), 'no secret');
    t.notOk(text.includes(expected), 'no expected signature');
  }
});

// ── nonce cache ─────────────────────────────────────────────────────────────────────────────────

t.test('nonce cache: replay, per key, expiry, forget', async (t) => {
  let now = 1_000_000;
  const c = new NonceCache({ now: () => now });
  t.equal(c.seen('k1', 'nonce-aaaaaaaaaaaa', 600_000), false);
  t.equal(c.seen('k1', 'nonce-aaaaaaaaaaaa', 600_000), true);
  t.equal(c.seen('k2', 'nonce-aaaaaaaaaaaa', 600_000), false, 'nonces are per key');
  now += 599_999;
  t.equal(c.seen('k1', 'nonce-aaaaaaaaaaaa', 600_000), true, 'still inside the TTL');
  now += 1;
  t.equal(c.seen('k1', 'nonce-aaaaaaaaaaaa', 600_000), false, 'expired, so new again');
  t.equal(c.seen('k1', 'nonce-aaaaaaaaaaaa', 600_000), true);
  c.forget('k1', 'nonce-aaaaaaaaaaaa');
  t.equal(c.seen('k1', 'nonce-aaaaaaaaaaaa', 600_000), false, 'forgotten');
  t.throws(() => new NonceCache({ maxEntries: 0 }), RangeError);
});

t.test('nonce cache: bounded under a flood, oldest evicted, expired swept', async (t) => {
  let now = 0;
  const c = new NonceCache({ maxEntries: 1000, now: () => now });
  for (let i = 0; i < 200_000; i++) {
    c.seen('k', `flood-${i.toString().padStart(12, '0')}`, 600_000);
    if (c.size > 1000) t.fail(`size ${c.size} at ${i}`);
  }
  t.equal(c.size, 1000);
  t.equal(c.seen('k', `flood-${(199_999).toString().padStart(12, '0')}`, 600_000), true, 'the newest is kept');
  t.equal(c.seen('k', `flood-${(0).toString().padStart(12, '0')}`, 600_000), false, 'the oldest was evicted');

  // Expired entries go without any eviction pressure: traffic after the TTL sweeps them.
  const d = new NonceCache({ maxEntries: 10_000, now: () => now });
  for (let i = 0; i < 500; i++) d.seen('k', `old-nonce-${i}-xxxxxx`, 1000);
  now += 1000;
  for (let i = 0; i < 40; i++) d.seen('k', `new-nonce-${i}-xxxxxx`, 1000);
  t.equal(d.size, 40, 'all 500 expired entries were swept by 40 calls');
});

t.test('nonce cache: forgotten and re-recorded nonces keep their place correctly', async (t) => {
  let now = 0;
  const c = new NonceCache({ maxEntries: 3, now: () => now });
  t.equal(c.seen('k', 'a', 1000), false);
  c.forget('k', 'a');
  t.equal(c.seen('k', 'a', 1000), false, 'recorded again after forget');
  t.equal(c.seen('k', 'b', 1000), false);
  t.equal(c.seen('k', 'c', 1000), false); // evicts only the stale first record of "a"
  t.equal(c.size, 3);
  t.equal(c.seen('k', 'a', 1000), true, 'the re-recorded "a" survived');
  t.equal(c.seen('k', 'd', 1000), false); // now the real oldest, "a", goes
  t.equal(c.seen('k', 'a', 1000), false);
  now = 5000; // everything expired; "a" is recorded afresh and its old record is ignored
  t.equal(c.seen('k', 'a', 1000), false);
  t.equal(c.size, 1);
  c.clear();
  t.equal(c.size, 0);
  t.equal(c.seen('k', 'a', 1000), false);
});

t.test('nonce cache: a long flood stays bounded and evicts the oldest first', async (t) => {
  // Timing is reported, not asserted (tests don't time things): Map-order eviction once made every
  // call O(entries), about 10 s for this loop; the FIFO takes well under a second.
  const c = new NonceCache({ maxEntries: 100_000 });
  const started = Date.now();
  for (let i = 0; i < 300_000; i++) c.seen('k', `n${i}`, 600_000);
  t.comment(`${Date.now() - started} ms for 300 000 calls`);
  t.equal(c.size, 100_000);
  t.equal(c.seen('k', 'n199999', 600_000), false, 'the oldest were evicted');
  t.equal(c.seen('k', 'n299999', 600_000), true, 'the newest are kept');
});

// ── the shell example against a real server ─────────────────────────────────────────────────────

const SCRIPT = fileURLToPath(new URL('../examples/sign-and-push.sh', import.meta.url));
const hasTool = (cmd: string, args: string[]) => {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const HAVE_OPENSSL_CURL = hasTool('openssl', ['version']) && hasTool('curl', ['--version']);
const HAVE_SM3 = HAVE_OPENSSL_CURL && /-sm3\b/i.test(execFileSync('openssl', ['dgst', '-list'], { encoding: 'utf8' }));

interface Seen { method: string; url: string; body: Buffer; contentType: string | undefined }

async function verifyingServer(seen: Seen[]): Promise<{ base: string; close: () => Promise<void> }> {
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, contentType: req.headers['content-type'] });
      try {
        const ok = verifyRequest({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, now: new Date(), keys: lookup, clockSkewSeconds: 300 });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ok));
      } catch (err) {
        const e = err instanceof GovgateError ? err : new GovgateError('GOVGATE_INTERNAL', { requestId: '-' });
        res.writeHead(e.statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(e));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function runScript(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', [SCRIPT, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('examples/sign-and-push.sh produces signatures the gateway accepts', { skip: HAVE_OPENSSL_CURL ? false : 'openssl or curl missing' }, async (t) => {
  const seen: Seen[] = [];
  const { base, close } = await verifyingServer(seen);
  t.teardown(close);
  const dir = mkdtempSync(join(tmpdir(), 'govgate-sign-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const json = join(dir, 'batch.json');
  writeFileSync(json, readFileSync(new URL('../docs/spec/examples/batch-valid.json', import.meta.url)));
  const xml = join(dir, 'batch.xml');
  writeFileSync(xml, readFileSync(new URL('../docs/spec/examples/batch-valid-gbk.xml', import.meta.url)));

  const asSha = { GOVGATE_KEY_ID: 'k-sha', GOVGATE_SECRET: SECRET_A };
  let r = await runScript([`${base}/api/v1/batches?dryRun=1`, json], asSha);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(JSON.parse(r.stdout), { keyId: 'k-sha', algorithm: 'hmac-sha256', deptCode: '11330100002489671K' });
  t.match(seen.at(-1), { method: 'POST', url: '/api/v1/batches?dryRun=1', contentType: 'application/json' });
  t.same(seen.at(-1)?.body, readFileSync(json), 'the bytes are sent unchanged');

  r = await runScript([`${base}/api/v1/batches`, xml], asSha);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.equal(seen.at(-1)?.contentType, 'application/xml');

  r = await runScript([`${base}/api/v1/receipts/r-42?x=1`], asSha);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(seen.at(-1), { method: 'GET', url: '/api/v1/receipts/r-42?x=1' });
  t.equal(seen.at(-1)?.body.length, 0);

  // A wrong secret: the gateway's error is printed and the exit status is 22.
  r = await runScript([`${base}/api/v1/batches`, json], { ...asSha, GOVGATE_SECRET: SECRET_B });
  t.equal(r.code, 22);
  t.equal(JSON.parse(r.stdout).code, 'GOVGATE_AUTH_SIGNATURE_INVALID');
  t.match(r.stderr, 'HTTP 401');

  // -p reproduces the worked example exactly.
  const ex = join(dir, 'example.json');
  writeFileSync(ex, EX.body);
  r = await runScript(['-p', `https://gw.example.gov.cn${EX.path}`, ex], { GOVGATE_KEY_ID: EX.keyId, GOVGATE_SECRET: EX.secret, GOVGATE_TIMESTAMP: String(EX.timestamp), GOVGATE_NONCE: EX.nonce });
  t.equal(r.stdout, `${stringToSign('POST', EX.path, EX.timestamp, EX.nonce, EX['hmac-sha256'].digest)}\n---\nAuthorization: ${exHeader('hmac-sha256')}\n`);
});

t.test('examples/sign-and-push.sh with SM3', { skip: HAVE_SM3 ? false : 'this openssl has no SM3' }, async (t) => {
  const seen: Seen[] = [];
  const { base, close } = await verifyingServer(seen);
  t.teardown(close);
  const file = fileURLToPath(new URL('../docs/spec/examples/case-valid.json', import.meta.url));
  const r = await runScript(['-a', 'sm3', `${base}/api/v1/records`, file], { GOVGATE_KEY_ID: 'k-sm3', GOVGATE_SECRET: SECRET_B });
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(JSON.parse(r.stdout), { keyId: 'k-sm3', algorithm: 'hmac-sm3' });
  // The SM3 key refuses a SHA-256 signature even with the right secret.
  const wrong = await runScript([`${base}/api/v1/records`, file], { GOVGATE_KEY_ID: 'k-sm3', GOVGATE_SECRET: SECRET_B });
  t.equal(wrong.code, 22);
  t.match(JSON.parse(wrong.stdout), { code: 'GOVGATE_AUTH_SIGNATURE_INVALID', details: { problem: 'algorithm-mismatch' } });
});
