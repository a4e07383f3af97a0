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

function loadCatalogue(file: string): (code: string) => boolean {
  const codes = new Set(
    readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.split(',')[0]!.trim()).filter((l) => l !== '' && !l.startsWith('#')),
  );
  return (code) => codes.has(code);
}

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
    throw err;
  }
  return exitCode;
}
