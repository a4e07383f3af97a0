import t from 'tap';
import pino from 'pino';
import { loadConfig } from '../src/config/load.js';
import { loadDepartments } from '../src/config/departments.js';
import { REDACT_PATHS, redactOptions } from '../src/config/redact.js';

const DB_PASSWORD = 'pg-password-Zq81';
const ADMIN_TOKEN = 'admin-token-7f3a9c0e5b2d4e6f8a1c3e5g7i9k1m3o';
const DEPT_SECRET = 'dept-secret-env-0123456789-0123456789-xyz';
const SIGNATURE = 'sig-b64-QUJDREVGR0hJSktMTU5PUA==';
const HALL_SECRET = 'hall-secret-0123456789abcdef0123456789';

t.test('the redaction paths come from the x-secret marks', async (t) => {
  for (const p of ['database.url', 'admin.tokens', 'config.database.url', 'config.admin.tokens', 'keys[*].secret', 'department.keys[*].secret', 'departments[*].keys[*].secret', 'req.headers.authorization', 'req.headers["x-govgate-signature"]']) {
    t.ok(REDACT_PATHS.includes(p), p);
  }
  t.ok(Object.isFrozen(REDACT_PATHS));
});

t.test('logging the config, departments and request headers leaks no secret', async (t) => {
  const lines: string[] = [];
  const log = pino({ redact: redactOptions }, { write: (s: string) => { lines.push(s); } });

  const config = loadConfig({ env: { DATABASE_URL: `postgres://govgate:${DB_PASSWORD}@db.internal/govgate`, GOVGATE_ADMIN_TOKEN: ADMIN_TOKEN }, cwd: '/srv' });
  const departments = loadDepartments(new URL('../config/departments', import.meta.url).pathname, {});
  const inline = departments.flatMap((d) => d.keys.map((k) => k.secret));
  t.ok(inline.length >= 2 && inline.every((s) => s.length >= 32));

  log.info({ config }, 'config loaded');
  log.info(config, 'config as the merge object');
  log.info({ departments }, 'departments loaded');
  log.info({ department: departments[0] }, 'one department');
  log.info(departments[1] ?? {}, 'department as the merge object');
  log.info({ req: { method: 'POST', url: '/v1/records', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-govgate-signature': SIGNATURE, 'content-type': 'application/json' } } }, 'request');
  const secretEnvDept = { code: 'x', keys: [{ id: 'k', secret: DEPT_SECRET }] };
  // Adapter options are free-form in the config schema; their secrets come from each kind's schema.
  const withAdapters = {
    ...config,
    destinations: [{ name: 'hall', kind: 'standard', enabled: true, options: { url: 'https://hall.example/', keyId: 'k', secret: HALL_SECRET } }],
  };
  log.info({ config: withAdapters }, 'config with a destination');
  log.info(withAdapters, 'config with a destination as the merge object');
  log.info({ department: secretEnvDept }, 'env-sourced secret');

  const out = lines.join('');
  for (const secret of [DB_PASSWORD, ADMIN_TOKEN, DEPT_SECRET, SIGNATURE, HALL_SECRET, ...inline]) {
    t.notOk(out.includes(secret), `no ${secret.slice(0, 12)}… in the log`);
  }
  t.ok(out.includes('[REDACTED]'));
  t.ok(out.includes('127.0.0.1') && out.includes('demo-scjg-2026') && out.includes('application/json'), 'what is not secret is still logged');
});
