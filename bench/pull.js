// db-pull throughput: 100,000 department rows from a real PostgreSQL table into accepted records.
//
//   npm run bench:pull             (builds first; DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres)
//
//   BENCH_ROWS=100000              rows in the department table
//   BENCH_BATCH=1000               db-pull batchSize (rows per query and per payload)
//   BENCH_CPU_PROF=1               write a CPU profile of the run (node --cpu-prof is the alternative)
//
// The department table (EA_JC columns, an update-time column, index on (time, key)) and the
// gateway's schema live on the same server, as a 前置库 next to the gateway's database often
// does; each row goes through the whole path: read → digest → JSON payload → intake (parse, the
// department's EA_JC mapping, validation) → ingest (raw inbox, record versions, cursor, seen
// digests, all in one transaction per page).
import { hostname, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { loadDepartments } from '../dist/config/departments.js';
import { checkKindOptions } from '../dist/adapters/options.js';
import { dbPull } from '../dist/adapters/pull/db-pull.js';
import { runPull } from '../dist/adapters/pull/runner.js';
import { EA_JC_COLUMNS, EA_JC_DEPT, eaJcRow } from '../dist/adapters/pull/simulators/ea-jc.js';
import { createValidator } from '../dist/schemas/validate.js';
import { openDb } from '../dist/store/db.js';
import { migrate } from '../dist/store/migrate.js';
import { ingest } from '../dist/store/queries/ingest.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1000);
const root = fileURLToPath(new URL('..', import.meta.url));
const tag = Date.now().toString(36);
const table = `bench_ea_jc_${tag}`;
const schema = `bench_pull_${tag}`;

const u = new URL(DATABASE_URL);
const conn = { host: u.hostname, port: Number(u.port || 5432), database: u.pathname.slice(1) || 'postgres', user: decodeURIComponent(u.username || 'postgres'), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
const source = new pg.Client(conn);
await source.connect();

// The department table, filled server-side from one template row (only the key and name vary).
const template = eaJcRow(0);
const cols = EA_JC_COLUMNS.map((c) => `${c} varchar(400)`).join(', ');
await source.query(`CREATE TABLE ${table} (${cols}, update_time timestamp(6) NOT NULL, PRIMARY KEY (projid, dataver))`);
const exprs = EA_JC_COLUMNS.map((c) => {
  if (c === 'PROJID') return `'330100-SJ-2026-' || lpad(g::text, 7, '0')`;
  if (c === 'ORGBUSNO') return `'SCJG2026' || lpad(g::text, 7, '0')`;
  if (c === 'PROJECTNAME') return `'关于杭州某某餐饮有限公司（' || g || '）食品经营许可的申请'`;
  return `'${template[c].replace(/'/g, "''")}'`;
});
const t0 = Date.now();
await source.query(`INSERT INTO ${table} (${EA_JC_COLUMNS.join(', ')}, update_time)
  SELECT ${exprs.join(', ')}, timestamp '2026-03-01 00:00:00' + (g / 7) * interval '1 second' FROM generate_series(1, ${ROWS}) AS g`);
await source.query(`CREATE INDEX ${table}_upd ON ${table} (update_time, projid)`);
await source.query(`ANALYZE ${table}`);
console.log(`department table ${table}: ${ROWS} rows in ${Date.now() - t0} ms (7 rows share each timestamp)`);

const db = await openDb({ url: DATABASE_URL, schema, poolSize: 4 });
await migrate(db);
const departments = loadDepartments(`${root}config/departments`, {}, { allowInlineSecrets: true });
const department = departments.find((d) => d.code === EA_JC_DEPT);
const limits = { maxBytes: 64 * 1024 * 1024, maxDepth: 32 };
const { options, problems } = checkKindOptions(dbPull, {
  driver: 'postgres', connection: conn, table, keyColumns: ['projid'], columnCase: 'upper',
  cursor: { column: 'update_time', lagSeconds: 0, overlapSeconds: 0 }, batchSize: BATCH, maxRowsPerRun: ROWS * 2,
}, {});
if (problems.length > 0) throw new Error(JSON.stringify(problems));
const spec = { name: 'bench', kind: 'db-pull', dept: EA_JC_DEPT, schedule: '* * * * *', enabled: true, options };
const logger = { info() {}, debug() {}, warn(o, m) { console.warn(m, o); }, error(o, m) { console.error(m, o); } };
const adapter = dbPull.create(spec, { logger, env: {}, department, limits });
const ctx = {
  ingest: (input, inTransaction) => ingest(db, input, inTransaction === undefined ? {} : { inTransaction }),
  db, validator: createValidator({ maxRecords: BATCH }), departments, limits, logger, instance: `${hostname()}:bench`,
};

let session;
if (process.env.BENCH_CPU_PROF) {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const started = process.hrtime.bigint();
const out = await runPull(adapter, spec, ctx, { trigger: 'manual' });
const ms = Number(process.hrtime.bigint() - started) / 1e6;
if (session) {
  const { profile } = await session.post('Profiler.stop');
  const file = `${root}bench-pull-${tag}.cpuprofile`;
  writeFileSync(file, JSON.stringify(profile));
  console.log(`CPU profile: ${file}`);
}

const { rows: [{ n }] } = await db.query('SELECT count(*)::int AS n FROM records');
const rate = Math.round((out.accepted / ms) * 1000);
console.log(JSON.stringify({ status: out.status, seen: out.seen, accepted: out.accepted, rejected: out.rejected, payloads: out.payloads, recordsStored: n, ms: Math.round(ms) }));
console.log(`db-pull: ${rate} rows/s accepted (${ROWS} rows, batch ${BATCH}) — target ≥ 8,000 ${rate >= 8000 ? 'met' : 'NOT met'}`);
console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}, node ${process.version}`);

await adapter.close();
await db.exec(`DROP SCHEMA ${schema} CASCADE`);
await db.close();
await source.query(`DROP TABLE ${table}`);
await source.end();
if (out.status !== 'ok' || out.accepted !== ROWS) process.exitCode = 1;
