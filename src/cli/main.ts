/**
 * The `govgate` command: thin commands over the same modules the gateway runs.
 * Exit codes: 0 ok, 1 the input has errors (or a check failed), 2 usage or configuration error.
 */
import { Command, CommanderError } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createValidator } from '../schemas/validate.js';
import { loadDivisions, shippedDivisions } from '../schemas/spec/divisions.js';
import { generateDocs } from '../schemas/docs.js';
import { collectFiles, hasAnyError, readInput, renderText, validateFile } from './validate.js';
import { runStart } from './start.js';
import { runDemoPush } from './demo.js';
import { loadConfig } from '../config/load.js';
import { loadDepartments } from '../config/departments.js';
import { formatProblems } from '../config/yaml-source.js';
import { isGovgateError } from '../errors.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { verifyChain } from '../store/queries/verify-chain.js';
import { applyMapping, sourceRecords } from '../pipeline/mapping.js';
import { readDocument } from '../schemas/wire/index.js';
import { loadCatalogue } from '../schemas/spec/catalogue.js';


/** Writes or compares the generated files; returns the paths that differ. */
export function syncDocs(root: string, write: boolean): string[] {
  const stale: string[] = [];
  for (const f of generateDocs()) {
    const path = resolve(root, f.path);
    const want = typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : f.content;
    let have: Buffer | undefined;
    try {
      have = readFileSync(path);
    } catch {
      have = undefined;
    }
    if (have !== undefined && have.equals(want)) continue;
    stale.push(f.path);
    if (write) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, want);
    }
  }
  return stale;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('govgate')
    .description('政务数据交换网关 / government data-exchange gateway')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('validate')
    .description('校验 JSON 或 XML 报文（文件、目录或 - 表示标准输入） / validate JSON or XML payloads (files, directories or - for stdin)')
    .argument('<paths...>', 'files, directories or -')
    .option('--format <format>', 'text | json', 'text')
    .option('--content-type <type>', '按此 Content-Type 解读（含 charset） / read as this Content-Type (with charset)')
    .option('--catalogue <file>', '事项目录：每行一个实施编码 / power item catalogue: one item code per line')
    .option('--divisions <file>', '完整的 GB/T 2260 区划表（CSV code,name 或 JSON） / full GB/T 2260 table')
    .action((paths: string[], opts: { format: string; contentType?: string; catalogue?: string; divisions?: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new CommanderError(2, 'govgate.format', `--format must be text or json, not ${opts.format}`);
      const validator = createValidator({
        divisions: opts.divisions === undefined ? shippedDivisions() : loadDivisions(opts.divisions),
        ...(opts.catalogue === undefined ? {} : { catalogue: loadCatalogue(opts.catalogue) }),
      });
      const reports = collectFiles(paths).map((file) => validateFile(file === '-' ? '(stdin)' : file, readInput(file), validator, opts.contentType));
      process.stdout.write(opts.format === 'json' ? `${JSON.stringify({ files: reports, ok: !hasAnyError(reports) }, null, 2)}\n` : renderText(reports));
      exitCode = hasAnyError(reports) ? 1 : 0;
    });

  const docs = program.command('docs').description('生成的文档 / generated documentation');
  docs
    .command('generate')
    .description('从规范源生成 docs/spec、docs/errors.md 等 / write the generated docs')
    .option('--root <dir>', 'project root', process.cwd())
    .action((opts: { root: string }) => {
      const changed = syncDocs(opts.root, true);
      process.stdout.write(changed.length === 0 ? 'docs are up to date\n' : `wrote ${changed.length} files:\n${changed.map((f) => `  ${f}`).join('\n')}\n`);
    });
  docs
    .command('check')
    .description('生成的文档是否最新（CI 使用） / fail when generated docs are stale (used by CI)')
    .option('--root <dir>', 'project root', process.cwd())
    .action((opts: { root: string }) => {
      const stale = syncDocs(opts.root, false);
      if (stale.length > 0) {
        process.stderr.write(`生成的文档已过期，请运行 npm run docs / stale generated docs, run npm run docs:\n${stale.map((f) => `  ${f}`).join('\n')}\n`);
        exitCode = 1;
      } else process.stdout.write('generated docs are up to date\n');
    });

  program
    .command('start')
    .description('启动网关（无配置时为演示模式：内嵌 PGlite、两个演示部门） / start the gateway (demo mode without a config)')
    .option('--config <file>', '配置文件（也可用环境变量 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(async (opts: { config?: string }) => {
      exitCode = await runStart(opts);
    });

  program
    .command('demo')
    .description('演示 / demo helpers')
    .command('push')
    .description('向运行中的演示网关推送样例数据 / push sample records to a running demo gateway')
    .option('--url <url>', 'gateway address', 'http://127.0.0.1:8080')
    .option('--departments <dir>', 'department files', 'config/departments')
    .option('--hall <url>', '演示网厅模拟器地址：推送后显示转发到达的记录 / the demo hall simulator: show the records forwarded to it')
    .action(async (opts: { url: string; departments: string; hall?: string }) => {
      exitCode = await runDemoPush({ url: opts.url, departmentsDir: opts.departments, ...(opts.hall === undefined ? {} : { hallUrl: opts.hall }) });
    });

  program
    .command('audit')
    .description('审计 / audit')
    .command('verify')
    .description('校验原始报文哈希链 / verify the raw-payload hash chains')
    .option('--config <file>', 'config file (or GOVGATE_CONFIG)')
    .option('--dept <code>', '只校验该部门 / only this department')
    .action(async (opts: { config?: string; dept?: string }) => {
      const file = opts.config ?? process.env['GOVGATE_CONFIG'];
      const config = loadConfig(file === undefined ? {} : { file });
      const db = await openDb(config.database.url === undefined ? { dataDir: config.database.dataDir, schema: config.database.schema } : { url: config.database.url, schema: config.database.schema });
      try {
        await migrate(db);
        const reports = await verifyChain(db, opts.dept);
        for (const r of reports) {
          process.stdout.write(r.ok
            ? `✓ ${r.dept}: ${r.entries} 条，哈希链完整 / entries, chain intact; head ${r.headHash ?? '-'}\n`
            : `✗ ${r.dept}: 第 ${r.brokenAt ?? '?'} 条处断裂（${r.reason ?? '?'}） / chain broken at entry ${r.brokenAt ?? '?'} (${r.reason ?? '?'})\n`);
        }
        if (reports.length === 0) process.stdout.write('没有原始报文 / no raw payloads yet\n');
        exitCode = reports.every((r) => r.ok) ? 0 : 1;
      } finally {
        await db.close();
      }
    });

  program
    .command('mapping')
    .description('部门字段映射 / department mappings')
    .command('test')
    .description('显示每条记录映射前后的内容与校验结果 / show each record before and after mapping, and its validation')
    .argument('<dept>', 'department code')
    .argument('<file>', 'a payload in the department\'s own shape')
    .option('--departments <dir>', 'department files', 'config/departments')
    .action((dept: string, file: string, opts: { departments: string }) => {
      const d = loadDepartments(opts.departments, process.env, { allowInlineSecrets: true }).find((x) => x.code === dept);
      if (d === undefined) throw new CommanderError(2, 'govgate.dept', `部门 ${dept} 不存在 / no department ${dept} in ${opts.departments}`);
      if (d.mapping === undefined) throw new CommanderError(2, 'govgate.dept', `部门 ${dept} 没有字段映射 / department ${dept} has no mapping`);
      const read = readDocument(readInput(file), { maxBytes: 50 * 1024 * 1024, maxDepth: 64 });
      if (!read.ok) {
        process.stdout.write(renderText([{ file, records: 0, accepted: 0, rejected: 0, warnings: 0, payloadFindings: [read.finding], recordReports: [] }]));
        exitCode = 1;
        return;
      }
      const validator = createValidator({ divisions: shippedDivisions() });
      let bad = 0;
      sourceRecords(d.mapping, read.value).forEach((source, i) => {
        const m = applyMapping(d.mapping!, source);
        const v = validator.validateRecord(JSON.parse(JSON.stringify(m.record)) as unknown, i, m.recordType);
        const findings = [...m.findings, ...v.findings];
        if (findings.some((f) => f.severity === 'error')) bad++;
        process.stdout.write(`── 第 ${i + 1} 条 record #${i + 1} ──\n映射前 before:\n${JSON.stringify(source, null, 2)}\n映射后 after:\n${JSON.stringify(m.record, null, 2)}\n`);
        process.stdout.write(renderText([{ file: `${file} #${i + 1}`, records: 1, accepted: findings.some((f) => f.severity === 'error') ? 0 : 1, rejected: findings.some((f) => f.severity === 'error') ? 1 : 0, warnings: findings.filter((f) => f.severity === 'warning').length, payloadFindings: [], recordReports: [{ index: i, ok: !findings.some((f) => f.severity === 'error'), findings }] }]));
      });
      exitCode = bad === 0 ? 0 : 1;
    });

  (await import('./hall-sim.js')).registerHallSim(program, (code) => { exitCode = code; });
  (await import('./admin.js')).registerAdmin(program, (code) => { exitCode = code; });
  (await import('./pull.js')).registerPullCommands(program, (code) => { exitCode = code; });

  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (err.code.startsWith('govgate.')) process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`文件不存在 / no such file: ${(err as NodeJS.ErrnoException).path ?? err.message}\n`);
      return 2;
    }
    if (isGovgateError(err) && (err.code === 'GOVGATE_CONFIG_INVALID' || err.code === 'GOVGATE_MAPPING_INVALID')) {
      process.stderr.write(`${formatProblems(err)}\n`);
      return 2;
    }
    throw err;
  }
  return exitCode;
}
