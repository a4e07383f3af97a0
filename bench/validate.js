// Parse + validate + rules throughput for a realistic ~1.5 KB case record, JSON and XML, on one core.
// Run: npm run bench:validate   (builds first; reads the compiled modules from dist/)
import { cpus } from 'node:os';
import { createValidator } from '../dist/schemas/validate.js';
import { intake } from '../dist/pipeline/intake.js';
import { exampleBatch, exampleCase } from '../dist/schemas/spec/examples.js';
import { documentToXml } from '../dist/schemas/xml-form.js';
import { canonicalJson } from '../dist/schemas/canonical.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

// A record of the size departments send (~1.5 KB as JSON, like the baseline's 1,629 B average): the
// example case with two steps and no attachments, with distinct case numbers so nothing is cached.
function record(i) {
  const r = exampleCase({
    caseNo: `330100-SJ-2026-${String(i).padStart(6, '0')}`,
    documents: undefined, specialProcedures: undefined, charges: undefined, sourceBizNo: undefined, promiseDueTime: undefined,
  });
  r.steps = r.steps.slice(0, 2);
  for (const k of ['legalRep', 'address', 'postcode']) delete r.applicant[k];
  for (const k of ['place', 'docNo']) delete r.acceptance[k];
  for (const k of ['certValidTo', 'certIssuer', 'decisionNo']) delete r.result[k];
  return JSON.parse(canonicalJson(r));
}

const N = 1000;
const BATCH = 100;
const records = Array.from({ length: N }, (_, i) => record(i));
const jsonPayloads = records.map((r) => Buffer.from(JSON.stringify(r), 'utf8'));
const xmlPayloads = records.map((r) => documentToXml(r, 'UTF-8'));
const batches = Array.from({ length: N / BATCH }, (_, b) => ({ ...exampleBatch(records.slice(b * BATCH, (b + 1) * BATCH)), batchId: `B${b}` }));
const jsonBatches = batches.map((b) => Buffer.from(JSON.stringify(b), 'utf8'));
const xmlBatches = batches.map((b) => documentToXml(b, 'UTF-8'));
const avg = (xs) => Math.round(xs.reduce((n, b) => n + b.length, 0) / xs.length);

const validator = createValidator();
for (const p of [jsonPayloads[0], xmlPayloads[0], jsonBatches[0], xmlBatches[0]]) {
  const res = intake(p, { validator });
  if (res.payloadFindings.length > 0 || !res.document?.records.every((r) => r.ok)) {
    throw new Error(`benchmark payload is not valid: ${JSON.stringify(res.payloadFindings.concat(res.document?.records[0]?.findings ?? []))}`);
  }
}

/** Records per second through intake(), median of ROUNDS runs of SECONDS each. */
function run(name, payloads, recordsPerPayload, contentType) {
  const rates = [];
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(SECONDS * 1e9);
    while (process.hrtime.bigint() < end) {
      const res = intake(payloads[n % payloads.length], { validator, contentType });
      if (res.document === undefined) throw new Error('rejected');
      n++;
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push((n * recordsPerPayload) / secs);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`${name.padEnd(26)} ${Math.round(median).toLocaleString('en-US').padStart(9)} records/s  (median of ${ROUNDS}×${SECONDS}s; min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates[rates.length - 1]).toLocaleString('en-US')}; ${(1e6 / median).toFixed(1)} µs/record)`);
  return median;
}

console.log(`node ${process.version} · ${cpus()[0]?.model ?? 'cpu'} · one thread`);
console.log(`record: JSON ${avg(jsonPayloads)} B, XML ${avg(xmlPayloads)} B; work per record: decode + parse + XML typing + schema + rules`);
const json1 = run('JSON, one record per payload', jsonPayloads, 1, 'application/json');
const json100 = run(`JSON, ${BATCH} per batch`, jsonBatches, BATCH, 'application/json');
const xml1 = run('XML, one record per payload', xmlPayloads, 1, 'application/xml');
const xml100 = run(`XML, ${BATCH} per batch`, xmlBatches, BATCH, 'application/xml');
const verdict = (x, target) => `${x >= target ? 'met' : 'NOT met'}`;
console.log(`targets: JSON ≥ 60,000 records/s: single ${verdict(json1, 60000)}, batch ${verdict(json100, 60000)}; XML ≥ 6,000 records/s: single ${verdict(xml1, 6000)}, batch ${verdict(xml100, 6000)}`);
