// Parse + validate + rules throughput for a realistic ~1.5 KB case record, JSON and XML, on one core.
// Run: npm run bench:validate   (builds first; reads the compiled modules from dist/)
import { cpus } from 'node:os';
import { createValidator } from '../dist/schemas/validate.js';
import { intake } from '../dist/pipeline/intake.js';
import { exampleCase } from '../dist/schemas/spec/examples.js';
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
const jsonPayloads = Array.from({ length: N }, (_, i) => Buffer.from(JSON.stringify(record(i)), 'utf8'));
const xmlPayloads = Array.from({ length: N }, (_, i) => documentToXml(record(i), 'UTF-8'));
const avg = (xs) => Math.round(xs.reduce((n, b) => n + b.length, 0) / xs.length);

const validator = createValidator();
for (const p of [jsonPayloads[0], xmlPayloads[0]]) {
  const res = intake(p, { validator });
  if (!res.document?.records[0]?.ok) throw new Error(`benchmark record is not valid: ${JSON.stringify(res.payloadFindings.concat(res.document?.records[0]?.findings ?? []))}`);
}

function run(name, payloads, contentType) {
  const rates = [];
  for (let round = 0; round < ROUNDS; round++) {
    let n = 0;
    const end = process.hrtime.bigint() + BigInt(SECONDS * 1e9);
    const start = process.hrtime.bigint();
    while (process.hrtime.bigint() < end) {
      for (let i = 0; i < 100; i++) {
        const res = intake(payloads[(n + i) % N], { validator, contentType });
        if (res.document === undefined) throw new Error('rejected');
      }
      n += 100;
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(n / secs);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`${name.padEnd(5)} ${Math.round(median).toLocaleString('en-US').padStart(9)} records/s  (median of ${ROUNDS}×${SECONDS}s; min ${Math.round(rates[0])}, max ${Math.round(rates[rates.length - 1])}; ${(1e6 / median).toFixed(1)} µs/record)`);
  return median;
}

console.log(`node ${process.version} · ${cpus()[0]?.model ?? 'cpu'} · 1 core (single thread)`);
console.log(`record size: JSON ${avg(jsonPayloads)} B, XML ${avg(xmlPayloads)} B; work per record: decode + parse + XML typing + schema + rules`);
const json = run('JSON', jsonPayloads, 'application/json');
const xml = run('XML', xmlPayloads, 'application/xml');
console.log(`targets: JSON ≥ 60,000 records/s ${json >= 60000 ? 'met' : 'NOT met'}; XML ≥ 6,000 records/s ${xml >= 6000 ? 'met' : 'NOT met'}`);
