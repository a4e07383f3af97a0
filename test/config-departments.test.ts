import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GovgateError } from '../src/errors.js';
import { loadDepartments } from '../src/config/departments.js';
import type { LocatedProblem } from '../src/config/yaml-source.js';
import { errorOf } from './helpers/errors.js';

const DEMO_DIR = new URL('../config/departments', import.meta.url).pathname;
const SECRET = 'test-secret-0123456789-0123456789-abcdef';

const problems = (err: GovgateError): LocatedProblem[] => err.details.problems as LocatedProblem[];

function dir(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'govgate-depts-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const dept = (code: string, keys: string, extra = ''): string => `code: '${code}'\nname: 测试局\nkeys:\n${keys}${extra}`;
const key = (id: string, more = ''): string => `  - id: ${id}\n    algorithm: hmac-sha256\n    secret: ${SECRET}\n${more}`;

t.test('the demo departments load', async (t) => {
  const depts = loadDepartments(DEMO_DIR, {});
  t.same(depts.map((d) => [d.code, d.name, d.regionCode]), [
    ['11330100002489671K', '杭州市市场监督管理局', '330100'],
    ['11330100002490146A', '杭州市规划和自然资源局', '330100'],
  ]);
  const [scjg, ghzy] = depts;
  t.same(scjg?.keys.map((k) => [k.id, k.algorithm, k.active, k.secretSource]), [
    ['demo-scjg-2026', 'hmac-sha256', true, 'inline'],
    ['demo-scjg-2026-sm3', 'hmac-sm3', false, 'inline'],
  ]);
  t.ok(scjg?.mapping, 'the market-regulation bureau maps EA_JC records');
  t.equal(scjg?.mapping?.recordType, 'case');
  t.equal(ghzy?.mapping, undefined, 'the planning bureau sends standard records');
  t.ok(Object.isFrozen(depts) && Object.isFrozen(scjg) && Object.isFrozen(scjg?.keys[0]));
});

t.test('secretEnv reads the secret from the environment', async (t) => {
  const d = dir({ '330100001.yaml': dept('330100001', '  - id: k1\n    algorithm: hmac-sm3\n    secretEnv: GOVGATE_SECRET_330100001\n    notAfter: 2027-01-01T00:00:00+08:00\n') });
  const [one] = loadDepartments(d, { GOVGATE_SECRET_330100001: SECRET });
  t.same(one?.keys, [{ id: 'k1', algorithm: 'hmac-sm3', secret: SECRET, secretSource: 'env', active: true, notAfter: '2027-01-01T00:00:00+08:00' }]);

  const unset = errorOf(() => loadDepartments(d, {}));
  t.equal(unset.code, 'GOVGATE_CONFIG_INVALID');
  t.match(problems(unset), [{ file: join(d, '330100001.yaml'), line: 6, column: 16, path: 'keys[0].secretEnv', en: /GOVGATE_SECRET_330100001 is not set/ }]);

  const short = errorOf(() => loadDepartments(d, { GOVGATE_SECRET_330100001: 'abc' }));
  t.match(problems(short), [{ line: 6, en: /too short: at least 32 characters/ }]);
  t.notMatch(JSON.stringify(short), /"abc"/, 'the short secret is not echoed');
});

t.test('inline secrets can be refused outside demo mode', async (t) => {
  const d = dir({ '330100001.yaml': dept('330100001', key('k1')) });
  t.equal(loadDepartments(d, {})[0]?.keys[0]?.secret, SECRET);
  const err = errorOf(() => loadDepartments(d, {}, { allowInlineSecrets: false }));
  t.match(problems(err), [{ line: 6, path: 'keys[0].secret', en: /refused outside demo mode: use secretEnv/ }]);
  t.notMatch(JSON.stringify(err), new RegExp(SECRET));
});

t.test('at most two keys are active at once', async (t) => {
  const d = dir({ '330100001.yaml': dept('330100001', key('k1') + key('k2') + key('k3', '    active: false\n') + key('k4')) });
  const err = errorOf(() => loadDepartments(d, {}));
  t.match(problems(err), [{ line: 4, path: 'keys', en: /3 keys are active; at most 2/ }]);
  const ok = dir({ '330100001.yaml': dept('330100001', key('k1') + key('k2') + key('k3', '    active: false\n')) });
  t.equal(loadDepartments(ok, {})[0]?.keys.filter((k) => k.active).length, 2);
});

t.test('each key has exactly one of secret and secretEnv', async (t) => {
  const d = dir({
    '330100001.yaml': dept('330100001', '  - id: k1\n    algorithm: hmac-sha256\n'),
    '330100002.yaml': dept('330100002', `  - id: k2\n    algorithm: hmac-sha256\n    secret: ${SECRET}\n    secretEnv: X\n`),
  });
  const err = errorOf(() => loadDepartments(d, { X: SECRET }));
  t.same(problems(err).map((p) => [p.file.slice(-14), p.line, p.path]), [['330100001.yaml', 4, 'keys[0]'], ['330100002.yaml', 4, 'keys[0]']]);
});

t.test('the code matches the file name, and codes and key ids are unique', async (t) => {
  const wrongName = errorOf(() => loadDepartments(dir({ 'scjg.yaml': dept('330100001', key('k1')) }), {}));
  t.match(problems(wrongName), [{ line: 1, path: 'code', en: /name the file 330100001\.yaml/ }]);

  const dupKey = errorOf(() => loadDepartments(dir({ '330100001.yaml': dept('330100001', key('k1')), '330100002.yaml': dept('330100002', key('k1')) }), {}));
  t.match(problems(dupKey), [{ file: /330100002\.yaml$/, line: 4, path: 'keys[0].id', en: /already used in .*330100001\.yaml; key ids must be unique/ }]);

  const dupCode = errorOf(() => loadDepartments(dir({ '330100001.yaml': dept('330100001', key('k1')), '330100001.yml': dept('330100001', key('k2')) }), {}));
  t.match(problems(dupCode), [{ path: 'code', en: /also used by/ }]);
});

t.test('schema errors name the line, and quoting hints are given', async (t) => {
  const d = dir({
    '330100001.yaml': 'code: 330100001\nname: 测试局\nregionCode: 3301\nkeys:\n  - id: k1\n    algorithm: hmac-md5\n    secret: short\n    enabled: true\n',
  });
  const err = errorOf(() => loadDepartments(d, {}));
  t.same(problems(err).map((p) => [p.line, p.path]), [[1, 'code'], [3, 'regionCode'], [6, 'keys[0].algorithm'], [7, 'keys[0].secret'], [8, 'keys[0].enabled']]);
  t.match(problems(err)[0]?.en, /expected a string, found an integer 330100001 \(quote codes made of digits/);
  t.notMatch(JSON.stringify(err), /"short"/, 'a secret that is too short is still a secret');
});

t.test('an algorithm the gateway does not allow is refused', async (t) => {
  const d = dir({ '330100001.yaml': dept('330100001', key('k1')) });
  const err = errorOf(() => loadDepartments(d, {}, { allowedAlgorithms: ['hmac-sm3'] }));
  t.match(problems(err), [{ line: 5, path: 'keys[0].algorithm', en: /not enabled in auth\.algorithms/ }]);
});

t.test('notAfter must be a real date-time', async (t) => {
  const d = dir({ '330100001.yaml': dept('330100001', key('k1', '    notAfter: 2027-02-30T00:00:00+08:00\n')) });
  t.match(problems(errorOf(() => loadDepartments(d, {}))), [{ line: 7, path: 'keys[0].notAfter', en: /not a real date and time/ }]);
});

t.test('a mapping mistake is reported at its line in the department file', async (t) => {
  const text = [
    "code: '330100001'", // 1
    'name: 测试局', // 2
    'keys:', // 3
    `  - { id: k1, algorithm: hmac-sha256, secret: ${SECRET} }`, // 4
    'mapping:', // 5
    '  recordType: case', // 6
    '  fields:', // 7
    '    caseNo: /PROJID', // 8
    '    applyTime: { from: /SBSJ, transform: [{ date: yyyyMMddHHmmsss }] }', // 9
    '',
  ].join('\n');
  const err = errorOf(() => loadDepartments(dir({ '330100001.yaml': text }), {}));
  t.equal(err.code, 'GOVGATE_MAPPING_INVALID');
  t.match(problems(err), [{ file: /330100001\.yaml$/, line: 9, column: 51, path: 'fields.applyTime.transform[0].date', en: /unsupported letters sss|appears twice/ }]);
});

t.test('an unreadable directory stops the start', async (t) => {
  const err = errorOf(() => loadDepartments('/no/such/dir', {}));
  t.equal(err.code, 'GOVGATE_CONFIG_INVALID');
  t.match(err.messages.en, /cannot read the department directory \/no\/such\/dir \(ENOENT\)/);
  t.same(loadDepartments(dir({ 'README.md': '# not a department' }), {}), [], 'other files are ignored');
});
