/**
 * file-export, the outbound ferry, against real directories and real databases: options are
 * checked at start with file and line; a gateway routing to it writes batch + manifest files that
 * file-drop on a second database ingests into identical records; resends are recognised on the far
 * side; the manifest is never visible before its batch file; a broken directory pauses the
 * destination; signatures are checked by file-drop. Runs on PGlite, and on the real server with
 * GOVGATE_TEST_DATABASE_URL.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { createDestinations } from '../src/adapters/index.js';
import { checkKindOptions } from '../src/adapters/options.js';
import { fileExportDestination, type FileExportOptions } from '../src/adapters/destinations/file-export.js';
import { fileDrop, manifestSigningText } from '../src/adapters/pull/file-drop.js';
import type { Destination, OutboundRecord } from '../src/adapters/types.js';
import { loadConfig } from '../src/config/load.js';
import type { LocatedProblem } from '../src/config/yaml-source.js';
import { GovgateClient } from '../src/client/index.js';
import { startGateway, type RunningGateway } from '../src/server.js';
import { setDestinationPaused } from '../src/store/queries/outbox.js';
import type { Db } from '../src/store/db.js';
import { batch, caseRecord, DEPT, DEPT_KEY } from './helpers/forwarding.js';
import { TEST_DATABASE_URL, testDb, type Teardown } from './helpers/db.js';
import { pullHarness, quietLogger } from './helpers/pull.js';
import { errorOf } from './helpers/errors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const FERRY_KEY = { keyId: 'city-gw-2026', secret: 'ferry-secret-0123456789abcdef0123456789', algorithm: 'hmac-sm3' as const };
const tmp = (what: string) => mkdtempSync(join(tmpdir(), `govgate-${what}-`));

// ── helpers ──────────────────────────────────────────────────────────────────────────────────────


/** A destination as the gateway creates it: options checked and defaulted first. */
function exporter(t: Teardown, options: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Destination {
  const { options: checked, problems } = checkKindOptions(fileExportDestination as never, options, env);
  if (problems.length > 0) throw new Error(`options refused: ${JSON.stringify(problems)}`);
  const d = fileExportDestination.create('ferry-out', checked as unknown as FileExportOptions, { logger: quietLogger, env });
  t.teardown(() => d.close());
  return d;
}

let entries = 0;
/** A record version as the delivery engine hands it over. */
function outbound(caseNo: string, o: { version?: number; at?: Date; overrides?: Record<string, unknown> } = {}): OutboundRecord {
  const content = caseRecord(caseNo, o.overrides);
  const version = o.version ?? 1;
  return {
    entryId: String(++entries), deptCode: DEPT, recordType: 'case', businessKey: caseNo, version, dataVer: null,
    idempotencyKey: `${DEPT}:case:${version}:${caseNo}`, content, contentJson: JSON.stringify(content), receivedAt: o.at ?? new Date('2026-03-10T09:00:00Z'),
  };
}

const never = new AbortController().signal;

/** The ferry: everything but temporary files crosses, batch files before manifests, as a ferry that honours the manifest-last rule does. */
function carry(from: string, to: string): string[] {
  const names = readdirSync(from, { withFileTypes: true }).filter((d) => d.isFile() && !d.name.startsWith('.')).map((d) => d.name);
  const ordered = [...names.filter((n) => !n.endsWith('.manifest.json')), ...names.filter((n) => n.endsWith('.manifest.json'))];
  for (const n of ordered) renameSync(join(from, n), join(to, n));
  return ordered;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort();
}

async function rows<T = Record<string, unknown>>(db: Db, sql: string, params: unknown[] = []): Promise<T[]> {
  return (await db.query<T & Record<string, unknown>>(sql, params)).rows;
}

/** The records of a department as both sides store them: key, version, digest and content. */
async function stored(db: Db): Promise<Array<{ business_key: string; version: number; digest: string; content: unknown }>> {
  return rows(db, "SELECT business_key, version, encode(digest, 'hex') AS digest, content FROM records WHERE dept_code = $1 ORDER BY business_key, version", [DEPT]);
}

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A real gateway whose only destination is a file-export into `exportDir`. */
async function startExporter(t: Teardown, exportDir: string, options: Record<string, unknown> = {}): Promise<{ gateway: RunningGateway; client: GovgateClient }> {
  const dir = tmp('fx-gw');
  const gwDb = await testDb(t);
  const config = {
    departments: { dir: join(root, 'config/departments') },
    demo: { enabled: true },
    log: { level: 'silent' },
    database: TEST_DATABASE_URL === undefined ? { dataDir: join(dir, 'data') } : { url: TEST_DATABASE_URL, schema: gwDb.schema },
    destinations: [{ name: 'ferry-out', kind: 'file-export', options: { dir: exportDir, ...FERRY_KEY, ...options } }],
    routes: [{ destination: 'ferry-out' }],
    delivery: { pollIntervalMs: 20, retryBaseMs: 50, retryMaxMs: 500, leaseSeconds: 5, concurrency: 1 },
  };
  const configFile = join(dir, 'govgate.yaml');
  writeFileSync(configFile, stringify(config));
  const gateway = await startGateway({ configFile, env: {}, overrides: { port: 0 }, db: gwDb });
  t.teardown(() => gateway.close());
  return { gateway, client: new GovgateClient({ baseUrl: gateway.address, ...DEPT_KEY }) };
}

const settled = (db: Db) => async () => (await rows(db, "SELECT 1 FROM outbox WHERE state <> 'done'")).length === 0;

// ── options ──────────────────────────────────────────────────────────────────────────────────────

t.test('options are checked at start: problems name file, line and option', async (t) => {
  const dir = tmp('fx-cfg');
  const write = (text: string) => {
    const file = join(dir, `c${++entries}.yaml`);
    writeFileSync(file, text);
    return file;
  };
  const shape = errorOf(() => loadConfig({ env: {}, file: write([
    'destinations:', //                1
    '  - name: ferry-out', //          2
    '    kind: file-export', //        3
    '    options:', //                 4
    '      format: xml', //            5
    '      encoding: EBCDIC', //       6
    "      fsync: 'yes'", //           7
    '      filePrefix: .hidden', //    8
    'routes:',
    '  - destination: ferry-out',
  ].join('\n')) }));
  t.equal(shape.code, 'GOVGATE_CONFIG_INVALID');
  const found = (shape.details.problems as LocatedProblem[]).map((p) => [p.path, p.line]);
  t.same(found, [
    ['destinations[0].options.dir', 5],
    ['destinations[0].options.encoding', 6],
    ['destinations[0].options.fsync', 7],
    ['destinations[0].options.filePrefix', 8],
  ]);
  t.match((shape.details.problems as LocatedProblem[])[0], { en: /dir/ }, 'the missing export directory is named');

  const rules = errorOf(() => loadConfig({ env: {}, file: write([
    'destinations:', //                          1
    '  - name: ferry-out', //                    2
    '    kind: file-export', //                  3
    '    options:', //                           4
    '      dir: /var/spool/ferry', //            5
    '      encoding: GBK', //                    6
    '      keyId: city-gw-2026', //              7
    '      secretEnv: GOVGATE_FERRY_SECRET', //  8
  ].join('\n')) }));
  const ruleProblems = rules.details.problems as LocatedProblem[];
  t.same(ruleProblems.map((p) => [p.path, p.line]), [['destinations[0].options.encoding', 6], ['destinations[0].options.secretEnv', 8]]);
  t.match(ruleProblems[0], { zh: /JSON 文件总是 UTF-8/, en: /JSON files are always UTF-8/ });
  t.match(ruleProblems[1], { en: /GOVGATE_FERRY_SECRET is not set/ });

  const half = errorOf(() => loadConfig({ env: {}, file: write('destinations:\n  - name: f\n    kind: file-export\n    options:\n      dir: /x\n      secret: ferry-secret-0123456789abcdef0123456789\n') }));
  t.match((half.details.problems as LocatedProblem[])[0], { path: 'destinations[0].options.keyId', en: /without keyId/ });
  t.notMatch(JSON.stringify(half), /ferry-secret-0123/, 'the secret is not echoed');

  const ok = loadConfig({ env: { GOVGATE_FERRY_SECRET: FERRY_KEY.secret }, file: write('destinations:\n  - name: f\n    kind: file-export\n    options:\n      dir: /x\n      format: xml\n      encoding: GB18030\n      keyId: k1\n      secretEnv: GOVGATE_FERRY_SECRET\n') });
  t.match(ok.destinations[0]!.options, { dir: '/x', format: 'xml', encoding: 'GB18030', filePrefix: 'govgate', manifestSuffix: '.manifest.json', sm3: true, fsync: true, algorithm: 'hmac-sha256' }, 'defaults filled in');

  const example = loadConfig({ cwd: root, env: { GOVGATE_FERRY_SECRET: FERRY_KEY.secret }, file: join(root, 'config/examples/destination-file-export.yaml') });
  t.match(example.destinations, [{ kind: 'file-export', options: { departmentDirs: true, algorithm: 'hmac-sm3' } }], 'the example config loads');

  // A relative directory resolves against the working directory at start.
  const d = exporter(t, { dir: relative(process.cwd(), dir) });
  t.match(await d.check(), { ok: true, detail: { dir } });
});

// ── end to end ───────────────────────────────────────────────────────────────────────────────────

t.test('a gateway exports to files that file-drop on another database ingests unchanged; resends are recognised', async (t) => {
  const out = tmp('fx-out');
  const landing = tmp('fx-land');
  const { gateway, client } = await startExporter(t, out);
  t.match(await createDestinations(gateway.config.destinations, { logger: quietLogger, env: {} })[0]!.check(), { ok: true, detail: { dir: out } });

  const receipt = await client.submitBatch(batch([caseRecord('FX-1'), caseRecord('FX-2', { caseName: '关于杭州某某餐饮有限公司（滨江）食品经营许可的申请' }), caseRecord('FX-3')]));
  t.equal(receipt.counts.accepted, 3);
  await until('exported', settled(gateway.db));

  const files = listing(out);
  t.equal(files.length, 2, 'one batch file and its manifest, no temporary files');
  const manifestName = files.find((f) => f.endsWith('.manifest.json'))!;
  const manifest = JSON.parse(readFileSync(join(out, manifestName), 'utf8')) as { batchId: string; deptCode: string; files: Array<{ name: string; records: number; sha256: string; sm3?: string }>; signature: { keyId: string; algorithm: string } };
  t.match(manifest, { manifestVersion: 1, deptCode: DEPT, files: [{ format: 'json', records: 3 }], signature: { keyId: FERRY_KEY.keyId, algorithm: 'hmac-sm3' } });
  t.match(manifest.batchId, /^govgate-[0-9a-f]{32}$/);
  t.ok(manifest.files[0]!.sm3, 'SM3 digest beside SHA-256');
  const envelope = JSON.parse(readFileSync(join(out, manifest.files[0]!.name), 'utf8')) as { batchId: string; idempotencyKeys: string[]; records: Array<{ caseNo: string }> };
  t.equal(envelope.batchId, manifest.batchId);
  t.same(envelope.idempotencyKeys, ['FX-1', 'FX-2', 'FX-3'].map((k) => `${DEPT}:case:1:${k}`), 'each record carries its idempotency key');
  const [delivered] = await rows(gateway.db, "SELECT count(*)::int AS n, min(receiver_ref) AS ref FROM deliveries WHERE outcome = 'new'");
  t.equal(delivered!['n'], 3);
  t.match(delivered!['ref'], new RegExp(`^${manifest.batchId}#0$`));

  // The ferry carries the files; a govgate on the far side takes them with file-drop, verifying the signature.
  carry(out, landing);
  const far = await pullHarness(t);
  const drop = far.adapter(fileDrop, { name: 'ferry-in', dept: DEPT, options: { dir: landing, signatureKeys: [FERRY_KEY] } });
  t.match(await far.run(drop), { status: 'ok', seen: 3, accepted: 3, rejected: 0, payloads: 1, detail: { batchesDone: 1 } });
  const near = await stored(gateway.db);
  t.equal(near.length, 3);
  t.same(await stored(far.db), near, 'the same records, versions, digests and content on both sides');
  const report = JSON.parse(readFileSync(join(landing, 'done', manifest.batchId, `${manifest.batchId}.report.json`), 'utf8')) as { signature: unknown };
  t.same(report.signature, { keyId: FERRY_KEY.keyId, verified: true });

  // The engine sends the same versions again (a crash before settling, a lease that ran out):
  // the same batch, byte for byte; the far side's ledger knows it and stores nothing.
  await gateway.db.query("UPDATE outbox SET state = 'pending', next_attempt_at = now()");
  gateway.engine!.poke();
  await until('re-exported', async () => listing(out).length === 2 && (await settled(gateway.db)()));
  t.same(listing(out), files, 'the same names');
  t.equal(createHash('sha256').update(readFileSync(join(out, manifestName))).digest('hex'), createHash('sha256').update(readFileSync(join(landing, 'done', manifest.batchId, manifestName))).digest('hex'), 'the same bytes');

  // Before the ferry took it: already in the export directory, so nothing is written twice.
  const before = statSync(join(out, manifestName)).mtimeMs;
  await gateway.db.query("UPDATE outbox SET state = 'pending', next_attempt_at = now()");
  gateway.engine!.poke();
  await until('settled as duplicates', async () => (await rows(gateway.db, "SELECT 1 FROM deliveries WHERE outcome = 'duplicate'")).length === 3);
  t.equal(statSync(join(out, manifestName)).mtimeMs, before, 'not rewritten');
  t.same(listing(out), files);

  carry(out, landing);
  t.match(await far.run(drop), { status: 'ok', seen: 3, accepted: 0, unchanged: 3, payloads: 0, detail: { batchesDone: 1 } });

  // A different grouping of versions already sent (here two of the three) is a new batch: the far
  // side ingests it and its store answers unchanged for content it already holds.
  await gateway.db.query("UPDATE outbox SET state = 'pending', next_attempt_at = now() WHERE business_key <> 'FX-3'");
  gateway.engine!.poke();
  await until('a regrouped batch', async () => listing(out).length === 2 && (await settled(gateway.db)()));
  t.not(listing(out).find((f) => f.endsWith('.manifest.json')), manifestName, 'another batch id');
  carry(out, landing);
  t.match(await far.run(drop), { status: 'ok', seen: 2, accepted: 0, unchanged: 2, payloads: 1, detail: { batchesDone: 1 } });
  t.same(await stored(far.db), near, 'still exactly one version of each record');

  // A new version follows as a new batch and arrives as version 2.
  await client.submitRecord(caseRecord('FX-1', { dataVer: 9 }));
  await until('version 2 exported', settled(gateway.db));
  carry(out, landing);
  t.match(await far.run(drop), { status: 'ok', accepted: 1, detail: { batchesDone: 1 } });
  t.same(await stored(far.db), await stored(gateway.db));
});

t.test('XML in GB18030 crosses too; a character GBK cannot express pauses instead of writing "?"', async (t) => {
  const out = tmp('fx-xml');
  const landing = tmp('fx-xml-land');
  const records = [outbound('FX-X1', { overrides: { caseName: '关于𠮷野家餐饮有限公司食品经营许可的申请' } }), outbound('FX-X2')];
  const gb = exporter(t, { dir: out, format: 'xml', encoding: 'GB18030', filePrefix: 'xml' });
  t.match(await gb.send(records, never), { class: 'ok', records: [{ class: 'delivered' }, { class: 'delivered' }] });
  const [batchFile] = listing(out).filter((f) => f.endsWith('.xml'));
  t.match(readFileSync(join(out, batchFile!)).subarray(0, 60).toString('latin1'), /^<\?xml version="1.0" encoding="GB18030"\?>/);

  carry(out, landing);
  const far = await pullHarness(t);
  t.match(await far.run(far.adapter(fileDrop, { name: 'ferry-xml', dept: DEPT, options: { dir: landing } })), { status: 'ok', accepted: 2 });
  const farContent = await rows<{ content: Record<string, unknown> }>(far.db, 'SELECT content FROM records ORDER BY business_key');
  t.same(farContent.map((r) => r.content), records.map((r) => r.content), 'the XML form round-trips every field');

  const gbk = exporter(t, { dir: out, format: 'xml', encoding: 'GBK' });
  const verdict = await gbk.send(records, never);
  t.match(verdict, { class: 'config', reason: { code: 'GOVGATE_FILE_EXPORT_UNENCODABLE', message: { en: /FX-X1 holds the character U\+20BB7/ } } });
  t.same(listing(out), [], 'nothing written');
});

// ── durability ───────────────────────────────────────────────────────────────────────────────────

t.test('a manifest is never visible before its complete batch file', async (t) => {
  const out = tmp('fx-order');
  const d = exporter(t, { dir: out, keyId: FERRY_KEY.keyId, secret: FERRY_KEY.secret });

  // A reader polling the directory as hard as it can while batches are written, as a ferry does.
  let writing = true;
  let checks = 0;
  const violations: string[] = [];
  const reader = (async () => {
    while (writing) {
      for (const name of await readdir(out)) {
        if (!name.endsWith('.manifest.json')) continue;
        const m = JSON.parse(await readFile(join(out, name), 'utf8')) as { files: Array<{ name: string; bytes: number; sha256: string }> };
        for (const f of m.files) {
          const bytes = await readFile(join(out, f.name)).catch(() => undefined);
          checks++;
          if (bytes === undefined || bytes.length !== f.bytes || createHash('sha256').update(bytes).digest('hex') !== f.sha256) violations.push(`${name} → ${f.name}`);
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  for (let i = 0; i < 40; i++) {
    const v = await d.send(Array.from({ length: 20 }, (_, j) => outbound(`FX-O${i}-${j}`)), never);
    t.equal(v.class, 'ok');
  }
  writing = false;
  await reader;
  t.same(violations, [], 'every manifest the reader saw had its complete batch file');
  t.ok(checks > 40, `the reader looked ${checks} times`);
  t.equal(listing(out).length, 80);
  t.same(readdirSync(out).filter((f) => f.startsWith('.')), [], 'no temporary file left');

  // By structure: when the batch file cannot be placed, no manifest is written; when the manifest
  // cannot be placed, the batch file alone is inert (no reader takes it) and a resend completes it.
  const blocked = tmp('fx-block');
  const b = exporter(t, { dir: blocked, filePrefix: 'blk' });
  const records = [outbound('FX-B1')];
  await b.send(records, never);
  const names = listing(blocked);
  const batchName = names.find((n) => !n.endsWith('.manifest.json'))!;
  const manifestName = names.find((n) => n.endsWith('.manifest.json'))!;
  execFileSync('rm', [join(blocked, batchName), join(blocked, manifestName)]);
  mkdirSync(join(blocked, batchName));
  t.match(await b.send(records, never), { class: 'config', reason: { code: 'EISDIR' } });
  t.notOk(existsSync(join(blocked, manifestName)), 'no manifest without its batch file');
  execFileSync('rmdir', [join(blocked, batchName)]);
  mkdirSync(join(blocked, manifestName));
  t.match(await b.send(records, never), { class: 'config', reason: { code: 'EISDIR', message: { en: /manifest/ } } });
  t.ok(statSync(join(blocked, batchName)).isFile(), 'the batch file was placed first');
  execFileSync('rmdir', [join(blocked, manifestName)]);
  t.match(await b.send(records, never), { class: 'ok' });
  t.same(listing(blocked), names);
  t.same(readdirSync(blocked).filter((f) => f.startsWith('.')), [], 'failed writes leave no temporary file');
});

t.test('a directory that cannot be written pauses the destination; fixed and resumed, delivery continues', async (t) => {
  const parent = tmp('fx-pause');
  const out = join(parent, 'not-yet');
  const { gateway, client } = await startExporter(t, out);
  await client.submitRecord(caseRecord('FX-P1'));
  await until('paused', async () => (await rows(gateway.db, 'SELECT 1 FROM destination_state WHERE paused')).length === 1);
  const [st] = await rows(gateway.db, "SELECT paused_by, paused_reason->>'class' AS class, paused_reason->>'code' AS code FROM destination_state");
  t.same(st, { paused_by: 'gateway', class: 'config', code: 'ENOENT' });
  t.same(await rows(gateway.db, 'SELECT state, attempts FROM outbox'), [{ state: 'pending', attempts: 0 }], 'put back, attempt not counted');
  const check = await fileExportDestination.create('ferry-out', { ...(gateway.config.destinations[0]!.options as unknown as FileExportOptions) }, { logger: quietLogger, env: {} }).check();
  t.match(check, { ok: false, detail: { error: 'ENOENT' }, message: { zh: /导出目录不存在/ } });

  mkdirSync(out);
  await setDestinationPaused(gateway.db, 'ferry-out', false, 'test');
  gateway.engine!.poke();
  await until('delivered after the resume', settled(gateway.db));
  t.equal(listing(out).length, 2);
});

t.test('departmentDirs: each department in its own sub-directory, created when needed', async (t) => {
  const out = tmp('fx-dept');
  const d = exporter(t, { dir: out, departmentDirs: true });
  t.match(await d.send([outbound('FX-D1')], never), { class: 'ok', answer: { body: new RegExp(`${DEPT}/govgate-`) } });
  t.same(readdirSync(out), [DEPT]);
  t.equal(listing(join(out, DEPT)).length, 2);
  t.match(await d.send([outbound('FX-D2')], never), { class: 'ok' }, 'the directory is there now');
  const missing = exporter(t, { dir: join(out, 'gone'), departmentDirs: true });
  t.match(await missing.send([outbound('FX-D3')], never), { class: 'config', reason: { code: 'ENOENT' } }, 'a missing export directory is still a configuration error');
});

t.test('a full disk is transient, a read-only file system pauses (needs mount: root in a container)', async (t) => {
  const mnt = tmp('fx-mnt');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'ignore' });
  } catch {
    t.comment('skipped: cannot mount a tmpfs here');
    return;
  }
  t.teardown(() => execFileSync('umount', [mnt]));
  const d = exporter(t, { dir: mnt });
  const big = Array.from({ length: 60 }, (_, i) => outbound(`FX-FULL-${i}`));
  t.match(await d.send(big, never), { class: 'transient', reason: { code: 'ENOSPC' } });
  t.same(readdirSync(mnt), [], 'the partial temporary file is removed');
  t.match(await d.send([outbound('FX-SMALL')], never), { class: 'ok' }, 'a batch that fits goes');
  execFileSync('mount', ['-o', 'remount,ro', mnt]);
  t.match(await d.send([outbound('FX-RO')], never), { class: 'config', reason: { code: 'EROFS' } });
  t.match(await d.check(), { ok: false, detail: { error: 'EROFS' } });
});

// ── signatures ───────────────────────────────────────────────────────────────────────────────────

t.test('file-drop verifies signatures: tampered batches and manifests, unsigned and unknown keys go to failed/', async (t) => {
  const out = tmp('fx-sig');
  const landing = tmp('fx-sig-land');
  const signed = exporter(t, { dir: out, ...FERRY_KEY, filePrefix: 'sig' });
  const unsigned = exporter(t, { dir: out, filePrefix: 'plain' });
  const otherKey = exporter(t, { dir: out, keyId: 'someone-else', secret: 'another-secret-0123456789abcdef01234567', filePrefix: 'other' });

  const exportOne = async (d: Destination, caseNo: string): Promise<{ batchId: string; manifest: string; file: string }> => {
    const before = new Set(readdirSync(out));
    t.match(await d.send([outbound(caseNo)], never), { class: 'ok' });
    const added = readdirSync(out).filter((f) => !before.has(f));
    const manifest = added.find((f) => f.endsWith('.manifest.json'))!;
    return { batchId: manifest.replace('.manifest.json', ''), manifest, file: added.find((f) => f !== manifest)! };
  };
  const good = await exportOne(signed, 'FX-S1');
  const badFile = await exportOne(signed, 'FX-S2');
  const badManifest = await exportOne(signed, 'FX-S3');
  const plain = await exportOne(unsigned, 'FX-S4');
  const stranger = await exportOne(otherKey, 'FX-S5');

  // Corrupt a batch file in transit, and rewrite a manifest to vouch for a forged file.
  writeFileSync(join(out, badFile.file), readFileSync(join(out, badFile.file), 'utf8').replace('FX-S2', 'FX-Z2'));
  const forged = readFileSync(join(out, badManifest.file), 'utf8').replace('FX-S3', 'FX-Z3');
  writeFileSync(join(out, badManifest.file), forged);
  const m = JSON.parse(readFileSync(join(out, badManifest.manifest), 'utf8')) as { files: Array<{ sha256: string; sm3?: string; bytes: number }> };
  m.files[0]!.sha256 = createHash('sha256').update(forged).digest('hex');
  m.files[0]!.sm3 = createHash('sm3').update(forged).digest('hex');
  m.files[0]!.bytes = Buffer.byteLength(forged);
  writeFileSync(join(out, badManifest.manifest), JSON.stringify(m));
  carry(out, landing);

  const far = await pullHarness(t);
  const drop = far.adapter(fileDrop, { name: 'ferry-sig', dept: DEPT, options: { dir: landing, signatureKeys: [{ ...FERRY_KEY }] } });
  t.match(await far.run(drop), { status: 'ok', accepted: 1, detail: { batchesDone: 1, batchesFailed: 4 } });
  t.same([...(await far.versions(DEPT)).keys()], ['FX-S1'], 'only the genuine batch got in');
  t.ok(existsSync(join(landing, 'done', good.batchId)));
  const failed = (b: { batchId: string }) => JSON.parse(readFileSync(join(landing, 'failed', b.batchId, `${b.batchId}.report.json`), 'utf8')) as { status: string; problems: Array<{ code: string; message: { zh: string; en: string } }> };
  t.match(failed(badFile).problems, [{ code: 'GOVGATE_FILE_DROP_DIGEST_MISMATCH' }], 'a changed file no longer matches its signed digest');
  t.match(failed(badManifest).problems, [{ code: 'GOVGATE_FILE_DROP_SIGNATURE_INVALID', message: { en: /does not match the manifest/ } }], 'a changed manifest no longer matches its signature');
  t.match(failed(plain).problems, [{ code: 'GOVGATE_FILE_DROP_SIGNATURE_MISSING', message: { zh: /没有签名/ } }]);
  t.match(failed(stranger).problems, [{ code: 'GOVGATE_FILE_DROP_SIGNATURE_INVALID', message: { en: /unknown key id someone-else/ } }]);
  t.same(readdirSync(join(landing, 'failed', badManifest.batchId)).sort(), [badManifest.file, badManifest.manifest, `${badManifest.batchId}.report.json`].sort(), 'the batch moved whole, with its report');
  t.equal(await far.rawCount('pull:ferry-sig'), 1, 'refused bytes never reach the raw inbox');

  // The signature covers exactly the manifest without its signature block, in canonical form.
  const kept = JSON.parse(readFileSync(join(landing, 'done', good.batchId, good.manifest), 'utf8')) as Record<string, unknown>;
  t.notMatch(manifestSigningText(kept), /signature/);

  // Without keys, signed and unsigned manifests are taken as before; with requireSignature: false, unsigned ones too.
  const open = tmp('fx-sig-open');
  await exportOne(unsigned, 'FX-S6');
  await exportOne(signed, 'FX-S7');
  carry(out, open);
  const loose = await pullHarness(t);
  t.match(await loose.run(loose.adapter(fileDrop, { name: 'ferry-open', dept: DEPT, options: { dir: open } })), { status: 'ok', accepted: 2, detail: { batchesDone: 2 } });
  const transition = tmp('fx-sig-transition');
  await exportOne(unsigned, 'FX-S8');
  carry(out, transition);
  const lenient = await pullHarness(t);
  t.match(await lenient.run(lenient.adapter(fileDrop, { name: 'ferry-lenient', dept: DEPT, options: { dir: transition, signatureKeys: [FERRY_KEY], requireSignature: false } })), { status: 'ok', accepted: 1 });

  // Key options are checked like the destination's.
  t.throws(() => far.adapter(fileDrop, { name: 'x', dept: DEPT, options: { dir: landing, signatureKeys: [{ keyId: 'k', secretEnv: 'GOVGATE_NOPE' }] } }), /GOVGATE_NOPE is not set/);
  t.throws(() => far.adapter(fileDrop, { name: 'y', dept: DEPT, options: { dir: landing, signatureKeys: [{ keyId: 'k' }] } }), /exactly one of secret and secretEnv/);
});
