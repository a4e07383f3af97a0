// Durable ingest throughput through the push API against a real PostgreSQL server.
//
//   npm run bench:ingest          (builds first; DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres)
//
//   BENCH_ONLY=single,json,xml    run only these scenarios
//   BENCH_SECONDS=10              duration per scenario
//   BENCH_CONNECTIONS=8           connections of the JSON-batch scenario
//   BENCH_SINGLE_CONNECTIONS=50   connections of the single-record scenario
//   BENCH_PRESIGNED=n             single-record requests signed before the measured window (default 6,000 a second)
//   BENCH_INTAKE_WORKERS=n        intake.workers of the gateway (default: the config default)
//   BENCH_INTAKE_MIN_BYTES=n      intake.workerMinBytes of the gateway (default: the config default)
//   BENCH_CPU_PROF=/some/dir      start the gateway with --cpu-prof, profiles written there on exit
//   BENCH_GATEWAY_LOG=/some/file  append the gateway's stdout (its log) there
//   BENCH_NODE_FLAGS="--trace-gc" more node flags for the gateway process, space-separated
//
// The gateway runs as its own process (node bin/govgate.js start) on a fresh schema; autocannon
// generates signed load from this process, on the same machine (both share its 2 cores, as the
// baselines in ../shared/research/perf-baselines.md did). Every request carries new records, so
// each one is a real insert, not an "unchanged" short cut.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { signRequest } from '../dist/client/index.js';
import { DEMO_DEPT_2, exampleBatch } from '../dist/schemas/spec/examples.js';
import { documentToXml } from '../dist/schemas/xml-form.js';
import { cpuWindow, perRecord } from './cpu.js';
import { KEY, record } from './records.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
// Single-record requests signed before the measured window: beyond ~6,000 req/s for 10 s the rest are signed on the fly.
const PRESIGNED = Number(process.env.BENCH_PRESIGNED ?? DURATION * 6000);
const root = fileURLToPath(new URL('..', import.meta.url));
const schema = `bench_${Date.now().toString(36)}`;


function intakeConfig() {
  const lines = [
    ...(process.env.BENCH_INTAKE_WORKERS === undefined ? [] : [`  workers: ${Number(process.env.BENCH_INTAKE_WORKERS)}`]),
    ...(process.env.BENCH_INTAKE_MIN_BYTES === undefined ? [] : [`  workerMinBytes: ${Number(process.env.BENCH_INTAKE_MIN_BYTES)}`]),
  ];
  return lines.length === 0 ? [] : ['intake:', ...lines];
}

async function startGateway() {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-bench-'));
  const config = join(dir, 'govgate.yaml');
  writeFileSync(config, [
    'server:', '  port: 0', '  maxInFlight: 512',
    'database:', `  schema: ${schema}`, '  poolSize: 20',
    'departments:', `  dir: ${join(root, 'config/departments')}`,
    ...intakeConfig(),
    'demo:', '  enabled: true', '  hallSim: false',
    'log:', '  level: warn', '',
  ].join('\n'));
  const prof = [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
  const child = spawn(process.execPath, [...prof, join(root, 'bin/govgate.js'), 'start', '--config', config], {
    // GOVGATE_LOG_LEVEL as well as log.level: `govgate start` builds its logger from the
    // environment only (src/cli/start.ts), and a per-request info line costs ≈5% of the gateway's CPU.
    env: { GOVGATE_LOG_LEVEL: 'warn', ...process.env, DATABASE_URL }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (process.env.BENCH_GATEWAY_LOG) appendFileSync(process.env.BENCH_GATEWAY_LOG, d);
      out += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${out}`)));
  });
  return { child, url };
}

let seq = 0;
const run = Date.now().toString(36);

function scenario(id, name, { path, connections, records, xml }) {
  return { id, name, path, connections, records, xml };
}

/**
 * Bodies are built once as templates and only their case numbers are filled in per request, so the
 * load generator spends its CPU on sending, not on building records (it shares the cores).
 */
function template(s) {
  const MARK = '@@N@@';
  if (s.records === 1) return Buffer.from(JSON.stringify(record(`B-${run}-${MARK}`))).toString('utf8').split(MARK);
  const batch = { ...exampleBatch(Array.from({ length: s.records }, (_, i) => record(`B-${run}-${MARK}-${i}`))), senderDept: DEMO_DEPT_2.code, batchId: `B-${run}-${MARK}` };
  const text = s.xml ? documentToXml(batch, 'UTF-8').toString('utf8') : JSON.stringify(batch);
  return text.split(MARK);
}

async function load(gw, s, admin) {
  const url = gw.url;
  // Commits: the payloads of one group share one transaction id (xmin), so distinct xmin over the
  // scenario's raw rows is the number of group transactions it took.
  const before = (await admin.query(`SELECT coalesce(max(id), 0)::bigint AS id FROM ${schema}.raw_inbox`)).rows[0].id;
  const target = `${url}${s.path}`;
  const parts = template(s);
  const contentType = s.xml ? 'application/xml' : 'application/json';
  const signed = (n) => {
    const body = Buffer.from(parts.join(String(n)));
    return { body, headers: { ...signRequest({ method: 'POST', url: target, body, ...KEY }), 'content-type': contentType } };
  };
  // Single records: requests are signed before the measured window (a signature stays valid for
  // ±5 min), so that the load generator's HMAC-SM3 does not take the two cores from the gateway
  // it measures. Batches sign on the fly: per record their signing is small, and 170 kB bodies
  // signed ahead would not fit in memory.
  const ahead = s.records === 1 ? Array.from({ length: PRESIGNED }, () => signed(seq++)) : [];
  let next = 0;
  const cpu = cpuWindow({ gateway: [gw.child.pid], postgres: 'postgres' });
  const result = await autocannon({
    url: target,
    connections: s.connections,
    duration: DURATION,
    requests: [{
      method: 'POST',
      setupRequest: (req) => ({ ...req, ...(next < ahead.length ? ahead[next++] : signed(seq++)) }),
    }],
  });
  const used = cpu();
  const ok = result['2xx'];
  const rps = ok / DURATION;
  const g = (await admin.query(`SELECT count(*)::int AS payloads, count(DISTINCT xmin::text)::int AS commits FROM ${schema}.raw_inbox WHERE id > $1`, [before])).rows[0];
  return {
    load: loadavg()[0].toFixed(2),
    perCommit: g.commits === 0 ? 0 : (g.payloads / g.commits).toFixed(1),
    name: s.name,
    requestsPerSecond: Math.round(rps),
    recordsPerSecond: Math.round(rps * s.records),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    cpu: perRecord(used, ok * s.records),
  };
}

async function main() {
  console.log(`node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')} (schema ${schema}) · ${DURATION} s per scenario`);
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  const sc = (await admin.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
  console.log(`synchronous_commit = ${sc}; load generator (autocannon) and gateway on the same machine`);
  const gw = await startGateway();
  const results = [];
  try {
    const only = process.env.BENCH_ONLY?.split(',');
    for (const s of [
      scenario('json', 'JSON batch, 100 records per request', { path: '/api/v1/batches', connections: Number(process.env.BENCH_CONNECTIONS ?? 8), records: 100 }),
      // More clients make bigger groups and more requests per second at a longer wait (the group
      // commit answers one group per commit cycle); docs/performance.md lists 50 to 96.
      scenario('single', 'single record per request', { path: '/api/v1/records', connections: Number(process.env.BENCH_SINGLE_CONNECTIONS ?? 50), records: 1 }),
      scenario('xml', 'XML batch, 100 records per request', { path: '/api/v1/batches', connections: 8, records: 100, xml: true }),
    ]) {
      if (only !== undefined && !only.includes(s.id)) {
        results.push(undefined);
        continue;
      }
      const r = await load(gw, s, admin);
      results.push(r);
      console.log(`${r.name.padEnd(38)} ${String(r.recordsPerSecond).padStart(7)} records/s  ${String(r.requestsPerSecond).padStart(6)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}  errors ${r.errors}  payloads/commit ${r.perCommit}  load ${r.load}`);
      if (r.cpu) console.log(`${''.padEnd(38)} ${r.cpu}`);
    }
    const stored = (await admin.query(`SELECT count(*)::int AS n FROM ${schema}.records`)).rows[0].n;
    console.log(`records stored: ${stored}`);
  } finally {
    gw.child.kill('SIGTERM');
    await new Promise((r) => gw.child.on('exit', r));
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
  const [batch, single, xml] = results;
  const verdict = (r, ok) => (r === undefined ? 'not run' : ok(r) ? 'met' : 'NOT met');
  console.log(`targets: JSON batch ≥ 12,000 records/s ${verdict(batch, (r) => r.recordsPerSecond >= 12000)}; single ≥ 4,000 req/s with p99 < 50 ms ${verdict(single, (r) => r.requestsPerSecond >= 4000 && r.p99 < 50)}; XML batch ≥ 5,000 records/s ${verdict(xml, (r) => r.recordsPerSecond >= 5000)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
