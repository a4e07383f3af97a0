import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';

const examples = fileURLToPath(new URL('../docs/spec/examples/', import.meta.url));

const run = runCli;

t.test('valid examples exit 0', async (t) => {
  for (const f of ['case-valid.json', 'case-valid.xml', 'case-valid-gbk.xml', 'batch-valid.json', 'power-item-valid-gbk.xml']) {
    const r = await run('validate', join(examples, f));
    t.equal(r.code, 0, f);
    t.match(r.out, /0 rejected/);
  }
});

t.test('invalid examples exit 1 and say which record, which field, expected and found', async (t) => {
  const r = await run('validate', join(examples, 'batch-invalid-gbk.xml'));
  t.equal(r.code, 1);
  t.match(r.out, /XML · GBK/);
  t.match(r.out, /第 2 条 record #2\s+case 330100-SJ-2026-000124/);
  t.match(r.out, /GOVGATE_RULE_USCC_INVALID\s+\/applicant\/idNo/);
  t.match(r.out, /校验码应为 0，实际为 1/);
  t.match(r.out, /the check character should be 0, found 1/);
  t.match(r.out, /4 records: 1 accepted, 3 rejected/);
});

t.test('a directory is walked and --format json is machine-readable', async (t) => {
  const r = await run('validate', examples, '--format', 'json');
  t.equal(r.code, 1);
  const parsed = JSON.parse(r.out) as { ok: boolean; files: Array<{ file: string; rejected: number; recordReports: Array<{ findings: Array<{ code: string; path: string; expected?: unknown }> }> }> };
  t.equal(parsed.ok, false);
  t.equal(parsed.files.length, 18);
  const invalid = parsed.files.find((f) => f.file.endsWith('batch-invalid.json'))!;
  t.equal(invalid.rejected, 3);
  t.equal(invalid.recordReports[1]!.findings[0]!.code, 'GOVGATE_RULE_USCC_INVALID');
  t.equal(invalid.recordReports[1]!.findings[0]!.expected, '0');
});

t.test('hostile and malformed payloads are reported, not crashed on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-cli-'));
  writeFileSync(join(dir, 'bomb.xml'), '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol">]><record>&a;</record>');
  writeFileSync(join(dir, 'dup.json'), '{"recordType":"case","caseNo":"A","caseNo":"B"}');
  writeFileSync(join(dir, 'bad-gbk.xml'), Buffer.concat([Buffer.from('<?xml version="1.0" encoding="GBK"?><record><remark>'), Buffer.from([0xd6, 0x20, 0xff]), Buffer.from('</remark></record>')]));
  const r = await run('validate', dir);
  t.equal(r.code, 1);
  t.match(r.out, /GOVGATE_XML_DOCTYPE_FORBIDDEN/);
  t.match(r.out, /GOVGATE_JSON_DUPLICATE_KEY/);
  t.match(r.out, /GOVGATE_ENCODING_INVALID/);
  t.match(r.out, /3 files, 3 with errors/);
});

t.test('usage errors exit 2', async (t) => {
  t.equal((await run('validate', '/no/such/file.json')).code, 2);
  t.equal((await run('validate', examples, '--format', 'yaml')).code, 2);
});

t.test('a broken divisions table is a configuration error naming the file and line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-div-'));
  writeFileSync(join(dir, 'divisions.csv'), 'code,name\n330100,杭州市\n33010X,错误\n');
  const r = await run('validate', join(examples, 'case-valid.json'), '--divisions', join(dir, 'divisions.csv'));
  t.equal(r.code, 2);
  t.match(r.err, /divisions\.csv line 3 at code,name/);
  t.match(r.err, /6-digit code,name/);
});
