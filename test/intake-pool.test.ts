import t from 'tap';
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import { loadDepartments } from '../src/config/departments.js';
import { isGovgateError } from '../src/errors.js';
import { createIntakePool, inlineReader, intakeRecipe, type ReadJob } from '../src/pipeline/intake-pool.js';
import type { ReadPayload } from '../src/pipeline/read-payload.js';
import { buildValidator, type ValidatorRecipe } from '../src/pipeline/validator-recipe.js';
import { DEMO_DEPT, DEMO_DEPT_2, exampleBatch, exampleCase, examplePowerItem } from '../src/schemas/spec/examples.js';
import { documentToXml } from '../src/schemas/xml-form.js';
import { encodeContent } from '../src/store/content.js';

const root = new URL('..', import.meta.url);
const departments = loadDepartments(new URL('config/departments', root).pathname, {}, { allowInlineSecrets: true });
const recipe: ValidatorRecipe = { maxRecords: 1000 };
const limits = { maxBytes: 10 * 1024 * 1024, maxDepth: 32 };
const inline = inlineReader({ validator: buildValidator(recipe), limits, departments });

const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };
const cases = (n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => exampleCase({ ...own, caseNo: `330100-2026-${String(i).padStart(6, '0')}`, ...extra }));
const json = (doc: unknown) => Buffer.from(JSON.stringify(doc), 'utf8');

interface Sample { readonly name: string; readonly bytes: Buffer; readonly job: ReadJob }

const samples: Sample[] = [
  { name: 'a JSON batch', bytes: json(exampleBatch(cases(40))), job: { contentType: 'application/json', deptCode: DEMO_DEPT_2.code } },
  {
    name: 'a GBK XML batch with a rejected record',
    bytes: documentToXml(exampleBatch([...cases(5), exampleCase({ ...own, caseNo: 'BAD', applicant: { name: '' } })]), 'GBK'),
    job: { contentType: 'application/xml; charset=GBK', deptCode: DEMO_DEPT_2.code },
  },
  {
    name: 'a power item with its category, as routing reads it',
    bytes: json(exampleBatch([examplePowerItem({ ...own })])),
    job: { contentType: 'application/json', deptCode: DEMO_DEPT_2.code },
  },
  {
    name: 'a typed route given another type',
    bytes: json({ recordType: 'powerItem', ...examplePowerItem({ ...own }) }),
    job: { contentType: 'application/json', deptCode: DEMO_DEPT_2.code, expectedType: 'case' },
  },
  {
    name: "a department's own shape, read through its mapping",
    bytes: readFileSync(new URL('config/examples/ea-jc-case.json', root)),
    job: { contentType: 'application/json', deptCode: DEMO_DEPT.code },
  },
  { name: 'malformed JSON', bytes: Buffer.from('{"records": [1, 2,'), job: { contentType: 'application/json', deptCode: DEMO_DEPT_2.code } },
  { name: 'GBK bytes declared UTF-8', bytes: iconv.encode('{"x":"中文"}', 'gbk'), job: { contentType: 'application/json; charset=utf-8', deptCode: DEMO_DEPT_2.code } },
];

/** The result with its contents as a Buffer, so that a worker's Uint8Array and an inline Buffer compare alike. */
const comparable = (r: ReadPayload) => ({ ...r, contents: Buffer.from(r.contents) });

t.test('a worker reads every payload exactly as the main thread does', async (t) => {
  const pool = createIntakePool({ workers: 1, minBytes: 0, recipe: intakeRecipe(recipe, limits, departments), inline });
  t.teardown(() => pool.close());
  await pool.warm();
  for (const s of samples) {
    const expected = await inline.read(s.bytes, s.job);
    const got = await pool.read(s.bytes, s.job);
    t.same(comparable(got), comparable(expected), s.name);
  }
  t.same(pool.stats(), { workerReads: samples.length, inlineReads: 0, workersLost: 0 }, 'every read went to the worker');

  const [batch] = samples;
  const read = await pool.read(batch!.bytes, batch!.job);
  const first = read.records[0]!;
  const [o, n] = first.at!;
  const stored = Buffer.from(read.contents.subarray(o, o + n));
  t.equal(stored.toString('utf8'), encodeContent(JSON.parse(stored.toString('utf8'))).stored.toString('utf8'), 'contents hold the canonical JSON');
  t.equal(first.digest, encodeContent(JSON.parse(stored.toString('utf8'))).digest, 'and its digest');
  const item = await pool.read(samples[2]!.bytes, samples[2]!.job);
  t.equal(item.records[0]!.category, examplePowerItem()['category'], 'a power item carries its category');
});

t.test('small payloads and reads before a worker is ready stay on the main thread', async (t) => {
  const pool = createIntakePool({ workers: 2, minBytes: 4096, recipe: intakeRecipe(recipe, limits, departments), inline });
  t.teardown(() => pool.close());
  const small = samples.find((s) => s.name === 'malformed JSON')!;
  await pool.read(small.bytes, small.job);
  const big = samples[0]!;
  t.ok(big.bytes.length >= 4096);
  // Workers start with the first large payload; until they are ready the main thread reads.
  t.same(comparable(await pool.read(big.bytes, big.job)), comparable(await inline.read(big.bytes, big.job)));
  t.same(pool.stats(), { workerReads: 0, inlineReads: 2, workersLost: 0 });
  await pool.warm();
  // Several at once spread over both workers.
  const results = await Promise.all(Array.from({ length: 6 }, () => pool.read(big.bytes, big.job)));
  t.equal(results.length, 6);
  t.same(pool.stats(), { workerReads: 6, inlineReads: 2, workersLost: 0 });
});

t.test('a worker that cannot start leaves reading to the main thread', async (t) => {
  const warnings: object[] = [];
  const logger = { warn: (o: object) => warnings.push(o), error: () => undefined };
  // A mapping source the worker cannot compile (the main thread would have refused it at start).
  const broken = { ...intakeRecipe(recipe, limits, departments), mappings: { [DEMO_DEPT.code]: 42 } };
  const pool = createIntakePool({ workers: 1, minBytes: 0, recipe: broken, inline, logger });
  t.teardown(() => pool.close());
  await pool.warm();
  t.equal(pool.stats().workersLost, 1, 'the worker exited');
  t.equal(warnings.length, 1, 'and that was logged');
  const s = samples[0]!;
  t.same(comparable(await pool.read(s.bytes, s.job)), comparable(await inline.read(s.bytes, s.job)), 'reads still succeed');
  t.equal(pool.stats().inlineReads, 1);
});

t.test('reads on a worker that goes away fail with GOVGATE_INTAKE_WORKER_LOST, a 503 to retry', async (t) => {
  const pool = createIntakePool({ workers: 1, minBytes: 0, recipe: intakeRecipe(recipe, limits, departments), inline });
  await pool.warm();
  const big = json(exampleBatch(cases(1000)));
  const pending = pool.read(big, { contentType: 'application/json', deptCode: DEMO_DEPT_2.code });
  await pool.close();
  const err = await pending.then(() => undefined, (e: unknown) => e);
  t.ok(isGovgateError(err) && err.code === 'GOVGATE_INTAKE_WORKER_LOST' && err.statusCode === 503, 'the pending read failed with the code');
  t.equal((await pool.read(big, { contentType: 'application/json', deptCode: DEMO_DEPT_2.code })).records.length, 1000, 'a closed pool reads inline');
});

t.test('no workers: everything inline', async (t) => {
  const pool = createIntakePool({ workers: 0, minBytes: 0, recipe: intakeRecipe(recipe, limits, departments), inline });
  await pool.warm();
  const s = samples[0]!;
  await pool.read(s.bytes, s.job);
  t.same(pool.stats(), { workerReads: 0, inlineReads: 1, workersLost: 0 });
  await pool.close();
});
