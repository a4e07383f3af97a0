/**
 * The database goes away mid-run (a TCP proxy between gateway and PostgreSQL is cut): pushes get
 * 503 GOVGATE_DB_UNAVAILABLE with Retry-After — never a 200 for data that was not stored — and the
 * gateway recovers by itself when the database is back. The password never appears in an answer.
 */
import t from 'tap';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { loadDepartments } from '../src/config/departments.js';
import { buildApp } from '../src/http/app.js';
import { openDb } from '../src/store/db.js';
import { createPushStore } from '../src/store/push-store.js';
import { createValidator } from '../src/schemas/validate.js';
import { GovgateClient, GovgateClientError } from '../src/client/index.js';
import { DEMO_DEPT_2, exampleCase } from '../src/schemas/spec/examples.js';
import { TEST_DATABASE_URL, testDb } from './helpers/db.js';

/** A TCP proxy to PostgreSQL that the test can cut and restore. */
function proxy(target: URL): { port(): number; listen(): Promise<void>; cut(): Promise<void> } {
  let server: Server | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  const listen = () => new Promise<void>((resolve) => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as { port: number }).port;
      resolve();
    });
  });
  const cut = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
  };
  return { port: () => port, listen, cut };
}

if (TEST_DATABASE_URL === undefined) {
  t.pass('the outage test needs a PostgreSQL server (GOVGATE_TEST_DATABASE_URL)');
} else {
  const serverUrl = TEST_DATABASE_URL;
  t.test('database outage: 503 with Retry-After while it is down, recovery when it is back', async (t) => {
    const schemaDb = await testDb(t);
    const target = new URL(serverUrl);
    const p = proxy(target);
    await p.listen();
    t.teardown(() => p.cut());
    const viaProxy = new URL(serverUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(p.port());
    viaProxy.password = 'sekrit-password-must-not-leak';

    const db = await openDb({ url: viaProxy.toString(), schema: schemaDb.schema, poolSize: 4, connectTimeoutMs: 2000 });
    t.teardown(() => db.close().catch(() => undefined));
    const base = loadConfig({ env: {} });
    const departments = loadDepartments(fileURLToPath(new URL('../config/departments/', import.meta.url)), {}, { allowInlineSecrets: true });
    const app = await buildApp({ config: base, departments, validator: createValidator(), store: createPushStore(db) });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    t.teardown(() => app.close());
    const client = new GovgateClient({ baseUrl: url, keyId: 'demo-ghzy-2026', secret: 'demo-only-secret-ghzy-330100-do-not-use-in-production', algorithm: 'hmac-sm3' });
    const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };

    t.equal((await client.submitRecord(exampleCase({ ...own, caseNo: 'OUT-1' }))).status, 'accepted');

    await p.cut();
    const err = await client.submitRecord(exampleCase({ ...own, caseNo: 'OUT-2' })).catch((e: unknown) => e);
    t.ok(err instanceof GovgateClientError, String(err));
    t.match(err, { status: 503, code: 'GOVGATE_DB_UNAVAILABLE' });
    t.notMatch(JSON.stringify((err as GovgateClientError).body), /sekrit/);
    const ready = await fetch(`${url}/readyz`);
    t.equal(ready.status, 503);
    t.notMatch(await ready.text(), /sekrit/);

    await p.listen();
    // The pool reconnects on its own; the first attempt after the outage may still hit a dead socket.
    let receipt;
    for (let i = 0; i < 20 && receipt === undefined; i++) {
      receipt = await client.submitRecord(exampleCase({ ...own, caseNo: 'OUT-2' })).catch(async () => {
        await new Promise((r) => setTimeout(r, 250));
        return undefined;
      });
    }
    t.equal(receipt?.status, 'accepted', 'recovered without a restart');
    const stored = await schemaDb.query<{ n: number }>(`SELECT count(*)::int AS n FROM records WHERE business_key = ANY($1::text[])`, [['OUT-1', 'OUT-2']]);
    t.equal(stored.rows[0]!.n, 2);
  });
}
