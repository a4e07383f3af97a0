// End to end: push → gateway (ingest, outbox) → hall-sim acknowledgement, against a real
// PostgreSQL server, with a healthy hall simulator.
//
//   npm run bench:e2e             (builds first; DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres)
//
//   BENCH_ONLY=throughput,latency,backlog   run only these scenarios
//   BENCH_SECONDS=20                         load duration of the throughput and latency scenarios
//   BENCH_BACKLOG=1000000                    outbox entries for the backlog scenario
//   BENCH_CPU_PROF=/some/dir                 CPU profiles of the gateway (start/) and hall-sim (hall-sim/)
//   BENCH_BATCH, BENCH_CONCURRENCY           delivery batch size and requests in flight (default: the
//                                            throughput scenario 500 and 4, the others the product's 200 and 4)
//
// Three processes share the machine's cores: the gateway, the hall simulator and this one (the
// load generator, autocannon); PostgreSQL runs beside them. Figures are read from the database:
// `deliveries` holds one row per acknowledged version with the time it was accepted (record_at)
// and acknowledged (acked_at).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';
import { signRequest } from '../dist/client/index.js';
import { DEMO_DEPT_2, exampleBatch } from '../dist/schemas/spec/examples.js';
import { cpuWindow, perRecord } from './cpu.js';
import { KEY, record } from './records.js';
import { HALL_DEMO_KEY } from '../dist/hall-sim/index.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
const ONLY = process.env.BENCH_ONLY?.split(',');
const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = Date.now().toString(36);

function spawnListening(args, env, pattern) {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_CPU_PROF, args[0])] : [];
  const child = spawn(process.execPath, [...prof, join(root, 'bin/govgate.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}:\n${out}`)));
  });
  return { child, url };
}

async function startHall(schema) {
  const h = spawnListening(['hall-sim', '--port', '0', '--database-url', DATABASE_URL, '--schema', schema, '--log-level', 'warn'], {}, /listening on (http:\/\/[\d.]+:\d+)/);
  return { child: h.child, url: await h.url };
}

async function startGateway(schema, hallUrl, delivery) {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-e2e-'));
  const config = join(dir, 'govgate.yaml');
  writeFileSync(config, stringify({
    server: { port: 0, maxInFlight: 512 },
    database: { url: DATABASE_URL, schema, poolSize: 20 },
    departments: { dir: join(root, 'config/departments') },
    demo: { enabled: true, hallSim: false },
    log: { level: 'warn' },
    destinations: [{ name: 'hall', kind: 'standard', options: { url: hallUrl, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_KEY.secret, algorithm: HALL_DEMO_KEY.algorithm } }],
    routes: [{ destination: 'hall' }],
    // The product's defaults (batch 200, 4 in flight) unless a scenario or BENCH_BATCH /
    // BENCH_CONCURRENCY says otherwise.
    delivery: {
      ...(process.env.BENCH_BATCH === undefined ? {} : { batchSize: Number(process.env.BENCH_BATCH) }),
      ...(process.env.BENCH_CONCURRENCY === undefined ? {} : { concurrency: Number(process.env.BENCH_CONCURRENCY) }),
      ...delivery,
    },
  }));
  const g = spawnListening(['start', '--config', config], { GOVGATE_LOG_LEVEL: 'warn' }, /listening on (http:\/\/[\d.]+:\d+)/);
  return { child: g.child, url: await g.url };
}

async function stop(p) {
  if (p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.on('exit', r));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Signed batches of 100 fresh records, built from a template so the load generator stays cheap. */
function pushOptions(url, extra) {
  const MARK = '@@N@@';
  const parts = JSON.stringify({ ...exampleBatch(Array.from({ length: 100 }, (_, i) => record(`E2E-${stamp}-${MARK}-${i}`))), senderDept: DEMO_DEPT_2.code, batchId: `E2E-${stamp}-${MARK}` }).split(MARK);
  let seq = 0;
  const target = `${url}/api/v1/batches`;
  return {
    url: target,
    ...extra,
    requests: [{
      method: 'POST',
      setupRequest: (req) => {
        const body = Buffer.from(parts.join(`${extra.tag}${seq++}`));
        return { ...req, body, headers: { ...signRequest({ method: 'POST', url: target, body, ...KEY }), 'content-type': 'application/json' } };
      },
    }],
  };
}

async function counts(admin, schema, { sampling = false } = {}) {
  // While sampling under load: the highest ids, read from the primary keys, not count(*) over
  // growing tables, which cost PostgreSQL ≈ 12 µs of CPU per record pushed (pg_stat_statements).
  // In a run without failures the ids have no gaps, so their differences are the rates.
  const n = (table) => (sampling ? `SELECT coalesce(max(id), 0) FROM ${schema}.${table}` : `SELECT count(*) FROM ${schema}.${table}`);
  // The backlog through the two partial indexes (pending, leased) rather than a scan of the outbox.
  const backlog = sampling
    ? `(SELECT count(*) FROM ${schema}.outbox WHERE state = 'pending') + (SELECT count(*) FROM ${schema}.outbox WHERE state = 'leased')`
    : `SELECT count(*) FROM ${schema}.outbox WHERE state <> 'done'`;
  const r = await admin.query(`SELECT (${n('records')})::int AS accepted, (${n('deliveries')})::int AS acked, (${backlog})::int AS backlog`);
  return r.rows[0];
}

async function drain(admin, schema, limitMs) {
  const end = Date.now() + limitMs;
  for (;;) {
    const c = await counts(admin, schema);
    if (c.backlog === 0 || Date.now() > end) return c;
    await sleep(500);
  }
}

async function throughput(admin) {
  const schema = `bench_e2e_t_${stamp}`;
  const hall = await startHall(`${schema}_hall`);
  // Batches of 500 (the default is 200): fewer requests and statements per record, 4,222 against
  // 3,813 acknowledged records/s in alternating runs.
  const gw = await startGateway(schema, hall.url, { batchSize: Number(process.env.BENCH_BATCH ?? 500) });
  try {
    // Sample acknowledgements each second during the load: "sustained" is the rate while pushing.
    const samples = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ at: Date.now(), ...(await counts(admin, schema, { sampling: true })) });
        await sleep(1000);
      }
    })();
    const cpu = cpuWindow({ gateway: [gw.child.pid], 'hall-sim': [hall.child.pid], postgres: 'postgres' });
    const result = await autocannon(pushOptions(gw.url, { connections: 8, duration: SECONDS, tag: 't' }));
    const used = cpu();
    sampling = false;
    await sampler;
    const drainStart = Date.now();
    const end = await drain(admin, schema, 300_000);
    const drainSeconds = (Date.now() - drainStart) / 1000;
    // Skip the first 3 s (warm-up: the outbox fills before the first acknowledgements).
    const steady = samples.filter((s) => s.at - samples[0].at >= 3000);
    const first = steady[0];
    const last = steady[steady.length - 1];
    const ackRate = (last.acked - first.acked) / ((last.at - first.at) / 1000);
    const ingestRate = (last.accepted - first.accepted) / ((last.at - first.at) / 1000);
    return {
      ingestRate: Math.round(ingestRate), ackRate: Math.round(ackRate), backlogAtEnd: samples[samples.length - 1].backlog,
      drainSeconds: Math.round(drainSeconds), accepted: end.accepted, acked: end.acked, non2xx: result.non2xx, errors: result.errors,
      // Per record accepted during the load; the deliveries it caused mostly happened in the same window.
      cpu: perRecord(used, samples[samples.length - 1].accepted),
    };
  } finally {
    await stop(gw);
    await stop(hall);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_hall CASCADE`);
  }
}

async function latency(admin) {
  const schema = `bench_e2e_l_${stamp}`;
  const hall = await startHall(`${schema}_hall`);
  const gw = await startGateway(schema, hall.url, { pollIntervalMs: 50 });
  try {
    // 10 batches of 100 a second: 1,000 records/s offered.
    const result = await autocannon(pushOptions(gw.url, { connections: 4, overallRate: 10, duration: SECONDS, tag: 'l' }));
    await drain(admin, schema, 60_000);
    const r = await admin.query(`SELECT count(*)::int AS n,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM acked_at - record_at)) * 1000 AS p50,
        percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM acked_at - record_at)) * 1000 AS p99,
        max(extract(epoch FROM acked_at - record_at)) * 1000 AS max
      FROM ${schema}.deliveries`);
    const row = r.rows[0];
    return { offered: Math.round(result['2xx'] * 100 / SECONDS), acked: row.n, p50: Math.round(row.p50), p99: Math.round(row.p99), max: Math.round(row.max), pushP99: result.latency.p99 };
  } finally {
    await stop(gw);
    await stop(hall);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_hall CASCADE`);
  }
}

async function heapMb(url) {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const v = (name) => Math.round(Number(new RegExp(`^govgate_${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20);
    return { heapTotal: v('nodejs_heap_size_total_bytes'), heapUsed: v('nodejs_heap_size_used_bytes'), external: v('nodejs_external_memory_bytes') };
  } catch {
    return undefined;
  }
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

async function backlog(admin) {
  const schema = `bench_e2e_b_${stamp}`;
  const hall = await startHall(`${schema}_hall`);
  // First run: migrate, with delivery off; then fill records and outbox in bulk with SQL (pushing a
  // million records through HTTP would take minutes and measure ingest, which the other scenarios do).
  let gw = await startGateway(schema, hall.url, { enabled: false });
  await stop(gw);
  const content = record('BACKLOG-X');
  const fill = Date.now();
  await admin.query(`SET search_path = ${schema}`);
  await admin.query(`
    WITH r AS (
      INSERT INTO records (dept_code, record_type, business_key, data_ver, version, digest, content, raw_id, record_index, received_at)
      SELECT $1, 'case', 'BACKLOG-' || g, 3, 1, sha256(('BACKLOG-' || g)::bytea), jsonb_set($2::jsonb, '{caseNo}', to_jsonb('BACKLOG-' || g)), 0, 0, now()
      FROM generate_series(1, $3::int) g
      RETURNING id, dept_code, record_type, business_key, received_at
    )
    INSERT INTO outbox (destination, dept_code, record_type, business_key, wanted_version, record_id, record_at)
    SELECT 'hall', dept_code, record_type, business_key, 1, id, received_at FROM r`, [DEMO_DEPT_2.code, JSON.stringify(content), BACKLOG]);
  await admin.query('ANALYZE outbox');
  await admin.query('RESET search_path');
  const fillSeconds = (Date.now() - fill) / 1000;

  gw = await startGateway(schema, hall.url, {});
  const started = Date.now();
  const rss = [];
  const heap = [];
  try {
    for (;;) {
      const c = await counts(admin, schema, { sampling: true });
      const mb = rssMb(gw.child.pid);
      rss.push(mb);
      // What the RSS is made of, from the gateway's own /metrics (prom-client's process metrics).
      if (rss.length % 30 === 0) heap.push(await heapMb(gw.url));
      if (c.backlog === 0 || Date.now() - started > 1_800_000) break;
      await sleep(1000);
    }
    const seconds = (Date.now() - started) / 1000;
    const c = await counts(admin, schema);
    const valid = rss.filter((x) => x !== undefined);
    const quarter = Math.max(1, Math.floor(valid.length / 4));
    return {
      entries: BACKLOG, fillSeconds: Math.round(fillSeconds), drainSeconds: Math.round(seconds), drainRate: Math.round(c.acked / seconds), left: c.backlog,
      rssMaxMb: Math.max(...valid), rssFirstQuarterMaxMb: Math.max(...valid.slice(0, quarter)), rssLastQuarterMaxMb: Math.max(...valid.slice(-quarter)),
      heap: heap.filter((h) => h !== undefined),
    };
  } finally {
    await stop(gw);
    await stop(hall);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_hall CASCADE`);
  }
}

async function main() {
  console.log(`node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · PostgreSQL at ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')} · gateway, hall-sim and load generator on the same machine`);
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  try {
    console.log(`synchronous_commit = ${(await admin.query('SHOW synchronous_commit')).rows[0].synchronous_commit}`);
    if (ONLY === undefined || ONLY.includes('throughput')) {
      const r = await throughput(admin);
      console.log(`throughput (${SECONDS} s, JSON batches of 100, 8 connections): ingest ${r.ingestRate} records/s, hall acknowledgements ${r.ackRate} records/s sustained; backlog at the end of the load ${r.backlogAtEnd}, drained in ${r.drainSeconds} s; accepted ${r.accepted}, acknowledged ${r.acked}; non-2xx ${r.non2xx}, errors ${r.errors}`);
      if (r.cpu) console.log(`  ${r.cpu}`);
      console.log(`  target ≥ 6,000 records/s acknowledged: ${r.ackRate >= 6000 ? 'met' : 'NOT met'}`);
    }
    if (ONLY === undefined || ONLY.includes('latency')) {
      const r = await latency(admin);
      console.log(`latency at ${r.offered} records/s offered (${SECONDS} s): receipt → hall acknowledgement p50 ${r.p50} ms, p99 ${r.p99} ms, max ${r.max} ms over ${r.acked} records (push p99 ${r.pushP99} ms)`);
      console.log(`  target p99 < 1 s: ${r.p99 < 1000 ? 'met' : 'NOT met'}`);
    }
    if (ONLY === undefined || ONLY.includes('backlog')) {
      const r = await backlog(admin);
      console.log(`backlog of ${r.entries} entries (filled by SQL in ${r.fillSeconds} s): drained in ${r.drainSeconds} s (${r.drainRate} records/s), left ${r.left}; gateway RSS max ${r.rssMaxMb} MB (first quarter ${r.rssFirstQuarterMaxMb} MB, last quarter ${r.rssLastQuarterMaxMb} MB)`);
      if (r.heap.length > 0) console.log(`  gateway heap every 30 s (MB, total/used/external): ${r.heap.map((h) => `${h.heapTotal}/${h.heapUsed}/${h.external}`).join(' ')}`);
      console.log(`  target RSS flat and < 300 MB: ${r.rssMaxMb < 300 ? 'met' : 'NOT met'}`);
    }
  } finally {
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
