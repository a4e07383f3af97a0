/**
 * Start-up checks of pull.adapters: the example configs validate; a bad adapter stops the start
 * with GOVGATE_CONFIG_INVALID naming the adapter, the option and the line; the generated adapter
 * docs exist for every kind in both registry lists.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { loadDepartments } from '../src/config/departments.js';
import { formatProblems } from '../src/config/yaml-source.js';
import { preparePullAdapters } from '../src/adapters/options.js';
import { DESTINATION_KINDS, PULL_KINDS } from '../src/adapters/index.js';
import { adapterDocs } from '../src/adapters/docs.js';
import { GovgateError } from '../src/errors.js';
import { departmentsDir } from './helpers/pull.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const departments = loadDepartments(departmentsDir, {}, { allowInlineSecrets: true });

t.test('every example config validates, options defaulted', async (t) => {
  const env = { SCJG_API_TOKEN: 'x', SCJG_API_PASSWORD: 'y', GOVGATE_WS_PASSWORD: 'z' };
  const files = readdirSync(join(root, 'config/examples')).filter((f) => f.startsWith('pull-') && f.endsWith('.yaml'));
  t.same(files.sort(), ['pull-db-pull.yaml', 'pull-file-drop.yaml', 'pull-rest-poll.yaml', 'pull-soap-poll.yaml']);
  for (const f of files) {
    const file = join(root, 'config/examples', f);
    const config = loadConfig({ file, env, cwd: root });
    const prepared = preparePullAdapters(config, departments, env, file);
    t.ok(prepared.length > 0, f);
  }
  const db = preparePullAdapters(loadConfig({ file: join(root, 'config/examples/pull-db-pull.yaml'), cwd: root }), departments, {});
  t.match(db[0]!.spec.options, { mode: 'cursor', maxRowsPerRun: 100_000, connection: { ssl: false, statementTimeoutMs: 60_000 } });
});

t.test('a bad adapter is refused at start, naming the adapter, the option and the line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'govgate-cfg-'));
  const file = join(dir, 'govgate.yaml');
  writeFileSync(file, [
    'pull:', '  adapters:',
    '    - name: a1', '      kind: rest-poll', "      dept: '11330100002489671K'", '      options:', '        url: ftp://nope', '        paging: { mode: pages }',
    '    - name: a2', '      kind: db-pul', "      dept: '11330100002489671K'",
    '    - name: a3', '      kind: db-pull', "      dept: '11330100002489671K'", "      schedule: 'every minute'",
    '      options: { driver: mysql, connection: { host: h, database: d, user: u, passwordEnv: NOT_SET_PW }, table: T, keyColumns: [ID], cursor: { column: UPD } }',
    '',
  ].join('\n'));
  const config = loadConfig({ file, cwd: dir });
  const err = (() => { try { preparePullAdapters(config, departments, {}, file); } catch (e) { return e; } return undefined; })();
  t.ok(err instanceof GovgateError);
  t.equal((err as GovgateError).code, 'GOVGATE_CONFIG_INVALID');
  const text = formatProblems(err as GovgateError);
  t.match(text, /govgate\.yaml:7:\d+ pull\.adapters\[0\]\.options\.url: 拉取适配器 a1：格式不符/);
  t.match(text, /pull\.adapters\[0\]\.options\.paging\.mode: .*expected one of none, page, offset, next-link; found "pages"/);
  t.match(text, /pull\.adapters\[1\]\.kind: .*unknown kind "db-pul"; known kinds: rest-poll, soap-poll, db-pull, file-drop/);
  t.match(text, /pull\.adapters\[2\]\.schedule: .*invalid cron expression/);
  t.match(text, /pull\.adapters\[2\]\.options\.connection\.passwordEnv: .*NOT_SET_PW is not set/);
});

t.test('docs/adapters has a page for every kind of both lists', async (t) => {
  const pages = adapterDocs().map((d) => d.path).sort();
  t.same(pages, [...PULL_KINDS, ...DESTINATION_KINDS].map((k) => `docs/adapters/${k.kind}.md`).sort());
  for (const d of adapterDocs()) t.match(d.content, /\| `[a-zA-Z.[\]]+`/, `${d.path} has an options table`);
});
