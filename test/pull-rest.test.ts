/**
 * rest-poll against a real HTTP server (the department REST simulator): JSON and GBK XML, GET and
 * POST, the three paging styles, basic / bearer / signed authentication, updated-since cursors,
 * backfill, and the failures a department API produces (5xx, redirects, refused credentials,
 * an HTML error page with status 200).
 */
import t from 'tap';
import { restPoll } from '../src/adapters/pull/rest-poll.js';
import { DeptRestSimulator, type DeptRestOptions } from '../src/adapters/pull/simulators/dept-rest.js';
import { badEaJcRow, EA_JC_DEPT, eaJcRow } from '../src/adapters/pull/simulators/ea-jc.js';
import { readCursor } from '../src/store/queries/pull.js';
import { pullHarness } from './helpers/pull.js';

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => eaJcRow(from + i));

async function sim(t: { teardown(fn: () => unknown): void }, o: DeptRestOptions) {
  const s = new DeptRestSimulator(o);
  await s.start();
  t.teardown(() => s.close());
  return s;
}

t.test('JSON over GET, page numbers, bearer token from the environment, updated-since cursor', async (t) => {
  const s = await sim(t, { paging: 'page', auth: { type: 'bearer', token: 'tok-0123456789' } });
  const h = await pullHarness(t);
  s.add(rows(1, 5), new Date(Date.now() - 3_600_000));
  s.add([badEaJcRow(6)], new Date(Date.now() - 3_600_000));
  const a = h.adapter(restPoll, {
    name: 'scjg-rest',
    options: {
      url: s.url, itemsPath: '/data/records', auth: { type: 'bearer', tokenEnv: 'SCJG_TOKEN' },
      incremental: { sinceParam: 'updatedSince', overlapSeconds: 60 }, paging: { mode: 'page', pageSize: 2 },
    },
  }, { SCJG_TOKEN: 'tok-0123456789' });
  t.match(await a.adapter.check(), { ok: true });

  const first = await h.run(a);
  t.match(first, { status: 'ok', seen: 6, accepted: 5, rejected: 1, payloads: 3 });
  t.notOk('updatedSince' in s.requests.at(-1)!.params, 'the first run asks for everything');
  const cursor = (await readCursor(h.db, 'scjg-rest')).cursor as { since: string };
  t.ok(Date.parse(cursor.since) <= Date.now());

  s.add(rows(7, 2));
  const before = s.requests.length;
  const second = await h.run(a);
  t.match(second, { status: 'ok', accepted: 2, unchanged: 0 });
  const asked = s.requests[before]!.params['updatedSince']!;
  t.equal(Date.parse(asked), Math.floor((Date.parse(cursor.since) - 60_000) / 1000) * 1000, 'since = previous start − overlap (whole seconds, rounded down)');
  t.equal((await h.versions(EA_JC_DEPT)).size, 7);
});

t.test('GBK XML over POST (form body), offset paging, basic auth: the raw GBK bytes are kept', async (t) => {
  const s = await sim(t, { format: 'xml-gbk', paging: 'offset', auth: { type: 'basic', username: 'gg', password: 'pw-secret-1' } });
  const h = await pullHarness(t);
  s.add(rows(1, 3));
  const a = h.adapter(restPoll, {
    name: 'gbk-xml',
    options: {
      url: s.url, method: 'POST', bodyFormat: 'form', body: { areaCode: '330100' }, itemsPath: '/DATA/ROW',
      auth: { type: 'basic', username: 'gg', password: 'pw-secret-1' },
      incremental: { sinceParam: 'updatedSince', format: 'yyyy-MM-dd HH:mm:ss', start: '2026-01-01T00:00:00+08:00' },
      paging: { mode: 'offset', pageSize: 2 },
    },
  });
  const out = await h.run(a);
  t.match(out, { status: 'ok', accepted: 3, payloads: 2 });
  t.same(s.requests.map((r) => [r.method, r.params['offset'], r.params['areaCode'], r.params['updatedSince']]), [
    ['POST', '0', '330100', '2026-01-01 00:00:00'], ['POST', '2', '330100', '2026-01-01 00:00:00'],
  ]);
  const { rows: raw } = await h.db.query<{ body: Buffer; declared_encoding: string; content_type: string }>(
    "SELECT body, declared_encoding, content_type FROM raw_inbox WHERE source = 'pull:gbk-xml' ORDER BY id LIMIT 1");
  t.equal(raw[0]!.declared_encoding, 'gbk');
  t.ok(raw[0]!.body.includes(Buffer.from([0xc7, 0xeb, 0xc7, 0xf3, 0xb3, 0xc9, 0xb9, 0xa6])), 'the raw payload is the GBK bytes (请求成功)');
  const names = await h.db.query<{ n: string }>("SELECT content->'applicant'->>'name' AS n FROM records LIMIT 1");
  t.equal(names.rows[0]!.n, '杭州某某餐饮有限公司', 'decoded correctly');
});

t.test('next links and a signed request header', async (t) => {
  const key = { keyId: 'govgate-scjg', secret: 'a-signing-secret-of-32-characters!!', algorithm: 'hmac-sm3' as const };
  const s = await sim(t, { paging: 'next-link', auth: { type: 'signed', ...key } });
  const h = await pullHarness(t);
  s.add(rows(1, 5));
  const a = h.adapter(restPoll, {
    name: 'signed',
    options: {
      url: s.url, itemsPath: '/data/records', auth: { type: 'signed', keyId: key.keyId, secretEnv: 'SIGN_SECRET', algorithm: key.algorithm },
      incremental: { sinceParam: 'updatedSince' }, paging: { mode: 'next-link', nextLinkPath: '/next', pageSize: 2 },
    },
  }, { SIGN_SECRET: key.secret });
  const out = await h.run(a);
  t.match(out, { status: 'ok', accepted: 5, payloads: 3 });
  t.equal(s.requests.length, 3);
  t.match(s.requests[1]!.url, /cursor=2/);
});

t.test('backfill sends the range and leaves the cursor alone', async (t) => {
  const s = await sim(t, {});
  const h = await pullHarness(t);
  s.add(rows(1, 2), new Date('2026-02-10T12:00:00+08:00'));
  s.add(rows(3, 2), new Date('2026-03-10T12:00:00+08:00'));
  const a = h.adapter(restPoll, { name: 'bf', options: { url: s.url, itemsPath: '/data/records', incremental: { sinceParam: 'updatedSince', untilParam: 'updatedUntil' } } });
  const out = await h.run(a, { trigger: 'backfill', window: { since: new Date('2026-02-01T00:00:00+08:00'), until: new Date('2026-02-28T00:00:00+08:00') } });
  t.match(out, { status: 'ok', accepted: 2 });
  t.same(s.requests[0]!.params, { updatedSince: '2026-02-01T00:00:00+08:00', updatedUntil: '2026-02-28T00:00:00+08:00' });
  t.equal((await readCursor(h.db, 'bf')).cursor, undefined);
});

t.test('failures: 5xx, redirect, refused credentials, an HTML page with 200 — the cursor never moves past them', async (t) => {
  const s = await sim(t, { auth: { type: 'bearer', token: 'right-token' } });
  const h = await pullHarness(t);
  s.add(rows(1, 2));
  const a = h.adapter(restPoll, { name: 'flaky', options: { url: s.url, itemsPath: '/data/records', auth: { type: 'bearer', token: 'right-token' }, incremental: { sinceParam: 'updatedSince' } } });

  s.failNext(503, 'busy');
  t.match(await h.run(a), { status: 'failed', error: { code: 'GOVGATE_PULL_SOURCE_ERROR', message: { en: /HTTP 503/ } } });
  s.failNext(302, '', { location: 'http://evil.example/steal' });
  t.match(await h.run(a), { status: 'failed', error: { code: 'GOVGATE_PULL_SOURCE_ERROR', message: { en: /redirect to http:\/\/evil\.example\/steal/ } } });
  t.equal(s.requests.length, 2, 'the redirect was not followed');
  s.failNext(200, '<html><body>系统维护中</body></html>');
  const html = await h.run(a);
  t.match(html, { status: 'failed', error: { code: 'GOVGATE_PULL_PAYLOAD_REJECTED' }, detail: { payloadsRejected: 1 } });
  t.equal(await h.rawCount('pull:flaky'), 1, 'the HTML page is kept as evidence');
  t.equal((await readCursor(h.db, 'flaky')).cursor, undefined, 'the cursor did not move');

  t.match(await h.run(a), { status: 'ok', accepted: 2 }, 'the next good run takes everything');

  const wrong = h.adapter(restPoll, { name: 'wrong', options: { url: s.url, auth: { type: 'bearer', token: 'wrong-token' } } });
  t.match(await wrong.adapter.check(), { ok: false, detail: { code: 'GOVGATE_PULL_SOURCE_AUTH', status: 401 } });
  t.match(await h.run(wrong), { status: 'failed', error: { code: 'GOVGATE_PULL_SOURCE_AUTH' } });
  t.notMatch(JSON.stringify(await wrong.adapter.check()), /wrong-token/);

  const down = h.adapter(restPoll, { name: 'down', options: { url: 'http://127.0.0.1:9/api', timeoutMs: 2000 } });
  t.match(await down.adapter.check(), { ok: false, detail: { code: 'GOVGATE_PULL_SOURCE_UNAVAILABLE' } });
});
