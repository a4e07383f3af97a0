import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { GovgateError } from '../src/errors.js';
import { loadConfig } from '../src/config/load.js';
import { configSchema, walkSchema, type Config, type SchemaNode } from '../src/config/schema.js';
import { formatProblems, type LocatedProblem } from '../src/config/yaml-source.js';
import { errorOf } from './helpers/errors.js';

const fixture = (name: string): string => new URL(`./fixtures/config/${name}`, import.meta.url).pathname;
const cwd = '/srv/govgate';

const problems = (err: GovgateError): LocatedProblem[] => err.details.problems as LocatedProblem[];

function writeTemp(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-config-'));
  const file = join(dir, 'govgate.yaml');
  writeFileSync(file, text);
  return file;
}

const DEFAULTS: Config = {
  server: { host: '127.0.0.1', port: 8080, bodyLimitBytes: 10 * 1024 * 1024, requestTimeoutMs: 30_000, maxInFlight: 64, trustProxy: false },
  database: { dataDir: resolve(cwd, '.govgate-data'), poolSize: 10, schema: 'public' },
  limits: { maxRecordsPerBatch: 1000, maxDepth: 32, maxPayloadBytes: 10 * 1024 * 1024 },
  intake: { workers: 1, workerMinBytes: 16 * 1024 },
  auth: { clockSkewSeconds: 300, nonceTtlSeconds: 600, algorithms: ['hmac-sha256', 'hmac-sm3'] },
  admin: { tokens: [] },
  departments: { dir: resolve(cwd, 'config/departments') },
  spec: { timezone: 'Asia/Shanghai' },
  destinations: [],
  routes: [],
  delivery: {
    enabled: true, batchSize: 200, concurrency: 4, leaseSeconds: 120, pollIntervalMs: 250, retryBaseMs: 1000, retryMaxMs: 300_000,
    maxRetryHours: 72, breakerThreshold: 5, breakerCooldownMs: 15_000,
  },
  pull: { adapters: [] },
  log: { level: 'info' },
  demo: { enabled: true, hallSim: true },
};

/** Every option set to a non-default value. Typed as Config: the compiler rejects options the type lacks. */
const FULL: Config = {
  server: { host: '0.0.0.0', port: 9443, bodyLimitBytes: 20 * 1024 * 1024, requestTimeoutMs: 60_000, maxInFlight: 128, trustProxy: true },
  database: { url: 'postgres://govgate:s3cret-pw@db.internal:5432/govgate', dataDir: '/var/lib/govgate', poolSize: 20, schema: 'govgate' },
  limits: { maxRecordsPerBatch: 500, maxDepth: 16, maxPayloadBytes: 5 * 1024 * 1024 },
  intake: { workers: 3, workerMinBytes: 64 * 1024 },
  auth: { clockSkewSeconds: 120, nonceTtlSeconds: 900, algorithms: ['hmac-sm3'] },
  admin: { tokens: ['admin-token-0123456789abcdef0123456789abcdef'] },
  departments: { dir: '/etc/govgate/departments' },
  spec: { catalogueFile: '/etc/govgate/catalogue.json', divisionsFile: '/etc/govgate/gbt2260.csv', timezone: 'Asia/Urumqi' },
  destinations: [{
    name: 'hall', kind: 'standard', enabled: false,
    options: { url: 'https://hall.example.gov.cn/', keyId: 'city-gw-2026', secret: 'hall-secret-0123456789abcdef0123456789', algorithm: 'hmac-sm3', timeoutMs: 20_000, maxSockets: 8 },
  }],
  routes: [{ destination: 'hall', recordTypes: ['case'], departments: ['11330100002489671K'], categories: ['01'] }],
  delivery: {
    enabled: false, batchSize: 100, concurrency: 2, leaseSeconds: 60, pollIntervalMs: 500, retryBaseMs: 2000, retryMaxMs: 600_000,
    maxRetryHours: 24, breakerThreshold: 3, breakerCooldownMs: 30_000,
  },
  pull: { adapters: [{ name: 'scjg-db', kind: 'db-pull', dept: '11330100002489671K', schedule: '*/5 * * * *', enabled: false, options: { table: 'cases' } }] },
  log: { level: 'debug' },
  demo: { enabled: false, hallSim: false },
};

t.test('without a file every option takes its default and demo mode is on', async (t) => {
  const cfg = loadConfig({ env: {}, cwd });
  t.same(cfg, DEFAULTS);
  t.same(Object.keys(cfg), Object.keys(configSchema.properties ?? {}), 'sections in schema order');
});

t.test('the result is deep-frozen', async (t) => {
  const cfg = loadConfig({ env: {}, cwd });
  t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.server) && Object.isFrozen(cfg.auth.algorithms));
  t.throws(() => { (cfg.server as { port: number }).port = 1; }, TypeError);
  t.throws(() => { (cfg.auth.algorithms as string[]).push('x'); }, TypeError);
  const again = loadConfig({ env: {}, cwd });
  t.not(again.auth.algorithms, cfg.auth.algorithms, 'defaults are not shared between loads');
});

t.test('a fully-populated config validates and round-trips; the type and the schema list the same options', async (t) => {
  const file = writeTemp(stringify(FULL));
  t.same(loadConfig({ file, env: {}, cwd }), FULL);

  // Every option of the schema is set in FULL, so an option added to one and not the other fails here.
  const missing: string[] = [];
  for (const leaf of walkSchema(configSchema as SchemaNode)) {
    if (leaf.section) continue;
    let v: unknown = FULL;
    // `*` stands for the items of an array: FULL sets every field of the first one.
    for (const seg of leaf.path) v = (v as Record<string, unknown> | undefined)?.[seg === '*' ? 0 : seg];
    if (v === undefined) missing.push(leaf.path.join('.'));
  }
  t.same(missing, [], 'every schema option appears in FULL');
});

t.test('a file changes only what it names; an empty section means defaults; demo is off with a file', async (t) => {
  const cfg = loadConfig({ file: fixture('minimal.yaml'), env: {}, cwd });
  t.same(cfg, { ...DEFAULTS, server: { ...DEFAULTS.server, port: 9090 }, log: { level: 'warn' }, demo: { enabled: false, hallSim: true } });
  t.same(loadConfig({ file: writeTemp(''), env: {}, cwd }).demo, { enabled: false, hallSim: true }, 'an empty file is all defaults');
  t.same(loadConfig({ file: writeTemp('demo:\n  enabled: true\n'), env: {}, cwd }).demo, { enabled: true, hallSim: true });
});

t.test('environment variables override the file', async (t) => {
  const file = writeTemp(stringify(FULL));
  const cfg = loadConfig({
    file, cwd,
    env: {
      DATABASE_URL: 'postgresql://other:pw@10.0.0.5/gw',
      HOST: '10.1.2.3',
      PORT: '8443',
      GOVGATE_ADMIN_TOKEN: 'token-a-0123456789abcdef0123456789abcdef, token-b-0123456789abcdef0123456789abcdef',
      GOVGATE_LOG_LEVEL: 'warn',
    },
  });
  t.equal(cfg.database.url, 'postgresql://other:pw@10.0.0.5/gw');
  t.equal(cfg.server.host, '10.1.2.3');
  t.equal(cfg.server.port, 8443);
  t.same(cfg.admin.tokens, ['token-a-0123456789abcdef0123456789abcdef', 'token-b-0123456789abcdef0123456789abcdef']);
  t.equal(cfg.log.level, 'warn');
  t.equal(cfg.server.bodyLimitBytes, FULL.server.bodyLimitBytes, 'others untouched');

  const blank = loadConfig({ file, cwd, env: { DATABASE_URL: '', PORT: '  ' } });
  t.equal(blank.database.url, FULL.database.url, 'an empty variable is unset');
  t.equal(blank.server.port, FULL.server.port);
  t.equal(loadConfig({ env: { DATABASE_URL: 'postgres://u:p@h/d' }, cwd }).database.url, 'postgres://u:p@h/d', 'works without a file too');
});

t.test('relative paths resolve against the working directory', async (t) => {
  const cfg = loadConfig({ file: writeTemp('database:\n  dataDir: data\nspec:\n  catalogueFile: ./cat.json\n'), env: {}, cwd });
  t.equal(cfg.database.dataDir, '/srv/govgate/data');
  t.equal(cfg.spec.catalogueFile, '/srv/govgate/cat.json');
  t.equal(cfg.departments.dir, '/srv/govgate/config/departments');
});

t.test('every mistake is reported with file, line and column, expected and found', async (t) => {
  const err = errorOf(() => loadConfig({ file: 'test/fixtures/config/bad.yaml', env: {} }));
  t.equal(err.code, 'GOVGATE_CONFIG_INVALID');
  t.equal(err.statusCode, 500);
  const list = problems(err).map((p) => ({ line: p.line, column: p.column, path: p.path }));
  t.same(list, [
    { line: 5, column: 3, path: 'server.prot' },
    { line: 6, column: 9, path: 'server.port' },
    { line: 7, column: 16, path: 'server.maxInFlight' },
    { line: 9, column: 8, path: 'database.url' },
    { line: 11, column: 29, path: 'auth.algorithms[1]' },
    { line: 14, column: 7, path: 'admin.tokens[0]' },
    { line: 16, column: 10, path: 'log.level' },
    { line: 18, column: 12, path: 'demo.enabled' },
  ]);
  const by = (path: string): LocatedProblem | undefined => problems(err).find((p) => p.path === path);
  t.equal(by('server.prot')?.file, 'test/fixtures/config/bad.yaml', 'the file as the operator named it');
  t.match(by('server.prot'), { zh: /未知选项 "prot"，是否应为 "port"？/, en: /unknown option "prot"; did you mean "port"\?/ });
  t.match(by('server.port'), { expected: 'integer', found: '8080', en: /expected an integer, found a string "8080"/ });
  t.match(by('server.maxInFlight'), { en: /must be ≥ 1, found 0/ });
  t.match(by('auth.algorithms[1]'), { en: /expected one of hmac-sha256, hmac-sm3; found "hmac-md5"/ });
  t.match(by('admin.tokens[0]'), { en: /at least 32 characters/ });
  t.match(by('log.level'), { zh: /应为以下之一：fatal、error、warn、info、debug、trace、silent，实际为 "verbose"/ });
  t.match(by('demo.enabled'), { en: /expected a boolean \(true\/false\), found a string "yes"/ });
  // The first problem fills the message: file and line in both languages.
  t.match(err.messages.zh, /^配置错误：test\/fixtures\/config\/bad\.yaml 第 5 行 server\.prot：/);
  t.match(err.messages.en, /^configuration error in test\/fixtures\/config\/bad\.yaml line 5 at server\.prot: /);
  t.equal(err.details.line, 5);
  t.equal(err.details.column, 3);
  t.match(formatProblems(err), /^test\/fixtures\/config\/bad\.yaml:5:3 server\.prot: 未知选项/);
});

t.test('secrets never appear in errors', async (t) => {
  const err = errorOf(() => loadConfig({ file: fixture('bad.yaml'), env: {} }));
  const all = `${JSON.stringify(err)} ${err.message} ${formatProblems(err)}`;
  t.notMatch(all, /hunter2/, 'not the database password');
  t.notMatch(all, /short-token/, 'not an admin token');
  t.match(problems(err).find((p) => p.path === 'database.url')?.found, /redacted/);

  const malformed = errorOf(() => loadConfig({ env: { DATABASE_URL: 'postgres://govgate:p@ss w0rd@' }, cwd }));
  t.notMatch(`${JSON.stringify(malformed)} ${malformed.message}`, /w0rd/, 'a malformed URL is not echoed either');
  t.match(malformed.messages.en, /not a valid PostgreSQL connection string/);
});

t.test('a bad environment variable is named as the source', async (t) => {
  const err = errorOf(() => loadConfig({ env: { PORT: 'http', GOVGATE_LOG_LEVEL: 'loud' }, cwd }));
  t.same(problems(err).map((p) => [p.file, p.path, p.line]), [
    ['环境变量 GOVGATE_LOG_LEVEL / environment variable GOVGATE_LOG_LEVEL', 'log.level', undefined],
    ['环境变量 PORT / environment variable PORT', 'server.port', undefined],
  ]);
  t.equal(err.details.line, '-');
});

t.test('checks across options', async (t) => {
  const skew = errorOf(() => loadConfig({ file: writeTemp('auth:\n  clockSkewSeconds: 600\n  nonceTtlSeconds: 900\n'), env: {}, cwd }));
  t.match(problems(skew), [{ path: 'auth.nonceTtlSeconds', line: 3, en: /at least twice clockSkewSeconds \(1200\)/ }]);
  const tz = errorOf(() => loadConfig({ file: writeTemp('spec:\n  timezone: Asia/Beijing\n'), env: {}, cwd }));
  t.match(problems(tz), [{ path: 'spec.timezone', line: 2, column: 13, en: /unknown time zone "Asia\/Beijing"/ }]);
});

t.test('broken files', async (t) => {
  const missing = errorOf(() => loadConfig({ file: 'no-such-file.yaml', env: {}, cwd }));
  t.equal(missing.code, 'GOVGATE_CONFIG_INVALID');
  t.match(missing.messages.en, /does not exist/);

  const syntax = errorOf(() => loadConfig({ file: fixture('syntax.yaml'), env: {} }));
  t.equal(syntax.code, 'GOVGATE_CONFIG_INVALID');
  t.match(problems(syntax)[0], { line: 2, column: 9, en: /^YAML syntax error: Nested mappings are not allowed in compact mappings$/ });

  const dup = errorOf(() => loadConfig({ file: fixture('dup.yaml'), env: {} }));
  t.match(problems(dup)[0], { line: 3, en: /YAML syntax error: Map keys must be unique/ });

  const gbk = errorOf(() => loadConfig({ file: fixture('gbk.yaml'), env: {} }));
  t.match(gbk.messages.en, /not valid UTF-8/);

  const scalar = errorOf(() => loadConfig({ file: writeTemp('just text\n'), env: {}, cwd }));
  t.match(scalar.messages.en, /top level of the config file must be a mapping/);

  const nullSection = errorOf(() => loadConfig({ file: writeTemp('server:\n  port:\n'), env: {}, cwd }));
  t.match(problems(nullSection)[0], { path: 'server.port', line: 2, en: /expected an integer, found an empty value/ });
});

t.test('a required-but-missing value points at its parent', async (t) => {
  const err = errorOf(() => loadConfig({ file: writeTemp('auth:\n  algorithms: []\n'), env: {}, cwd }));
  t.match(problems(err), [{ path: 'auth.algorithms', line: 2, column: 15, en: /at least 1 entries, found 0/ }]);
});
