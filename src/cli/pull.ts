/**
 * `govgate pull <adapter> [--since T] [--until T]`: one run of a pull adapter now (or a backfill
 * of a time range), through the same runner, lock and run history as the scheduler; prints the
 * outcome. `govgate adapters check`: every adapter's connectivity and credentials check.
 */
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { CommanderError, type Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { loadDepartments } from '../config/departments.js';
import { preparePullAdapters } from '../adapters/options.js';
import { destinationKind } from '../adapters/index.js';
import { parseInstant } from '../adapters/pull/common.js';
import { pullJobName, runPull } from '../adapters/pull/runner.js';
import type { AdapterLogger, CheckResult, PullContext, PullRunOutcome } from '../adapters/types.js';
import { GovgateError } from '../errors.js';
import { validatorFor } from '../pipeline/validator-recipe.js';
import { openDb } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import { ingest } from '../store/queries/ingest.js';
import { withJobLock } from '../sync/scheduler.js';

const stderrLogger: AdapterLogger = {
  info: () => undefined,
  debug: () => undefined,
  warn: (obj, msg) => process.stderr.write(`warn: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
  error: (obj, msg) => process.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
};

function load(configOpt: string | undefined) {
  const file = configOpt ?? process.env['GOVGATE_CONFIG'];
  const config = loadConfig(file === undefined ? {} : { file });
  const departments = loadDepartments(config.departments.dir, process.env, { allowedAlgorithms: config.auth.algorithms, allowInlineSecrets: config.demo.enabled });
  const prepared = preparePullAdapters(config, departments, process.env, file === undefined ? undefined : resolve(file));
  return { config, departments, prepared };
}

export function renderOutcome(o: PullRunOutcome): string {
  const mark = o.status === 'ok' ? '✓' : '✗';
  const lines = [
    `${mark} ${o.adapter} (${o.trigger}) ${o.status} — ${o.durationMs} ms, run #${o.runId}`,
    `  读取 seen ${o.seen} · 接收 accepted ${o.accepted} · 拒收 rejected ${o.rejected} · 未变 unchanged ${o.unchanged} · 报文 payloads ${o.payloads}`,
  ];
  if (o.error !== undefined) lines.push(`  ${o.error.code}: ${o.error.message.zh}`, `  ${o.error.message.en}`);
  if (Object.keys(o.detail).length > 0) lines.push(`  ${JSON.stringify(o.detail)}`);
  return `${lines.join('\n')}\n`;
}

function renderCheck(name: string, kind: string, r: CheckResult): string {
  return `${r.ok ? '✓' : '✗'} ${name} (${kind}): ${r.message.zh} / ${r.message.en}\n`;
}

export function registerPullCommands(program: Command, setExit: (code: number) => void): void {
  program
    .command('pull')
    .description('立即运行一次拉取适配器，或按时间范围补取 / run a pull adapter now, or backfill a time range')
    .argument('<adapter>', 'adapter name (pull.adapters[].name)')
    .option('--since <time>', '补取起点（RFC 3339 或 YYYY-MM-DD） / backfill from (RFC 3339 or YYYY-MM-DD)')
    .option('--until <time>', '补取终点 / backfill until')
    .option('--config <file>', 'config file (or GOVGATE_CONFIG)')
    .action(async (name: string, opts: { since?: string; until?: string; config?: string }) => {
      const { config, departments, prepared } = load(opts.config);
      const chosen = prepared.find((p) => p.spec.name === name);
      if (chosen === undefined) {
        const e = new GovgateError('GOVGATE_PULL_ADAPTER_UNKNOWN', { found: name, expected: prepared.map((p) => p.spec.name).join(', ') || '-' });
        throw new CommanderError(2, 'govgate.pull', `${e.code}: ${e.messages.zh}\n${e.messages.en}`);
      }
      const at = (label: string, text: string | undefined) => {
        if (text === undefined) return undefined;
        const d = parseInstant(text);
        if (d === undefined) throw new CommanderError(2, 'govgate.pull', `${label} ${text} 不是有效时间 / is not a valid time`);
        return d;
      };
      const since = at('--since', opts.since);
      const until = at('--until', opts.until);
      const window = since === undefined && until === undefined ? undefined : { ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) };
      if (window !== undefined && !chosen.kind.backfill) {
        const e = new GovgateError('GOVGATE_PULL_BACKFILL_UNSUPPORTED', { kind: chosen.kind.kind });
        throw new CommanderError(2, 'govgate.pull', `${e.code}: ${e.messages.zh}\n${e.messages.en}`);
      }
      const db = await openDb(config.database.url === undefined ? { dataDir: config.database.dataDir, schema: config.database.schema } : { url: config.database.url, schema: config.database.schema, poolSize: 4 });
      const department = departments.find((d) => d.code === chosen.spec.dept)!;
      const limits = { maxBytes: config.limits.maxPayloadBytes, maxDepth: config.limits.maxDepth };
      const adapter = chosen.kind.create(chosen.spec, { logger: stderrLogger, env: process.env, department, limits });
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await migrate(db);
        const validator = validatorFor(config);
        // Routing is the gateway's (src/server.ts); a manual run stores the records and the
        // gateway's delivery picks them up when routes are configured there.
        const ctx: PullContext = {
          ingest: (input, inTransaction) => ingest(db, input, inTransaction === undefined ? {} : { inTransaction }),
          db, validator, departments, limits, logger: stderrLogger, instance: `${hostname()}:${process.pid}:cli`,
        };
        const locked = await withJobLock(db, pullJobName(name), () => runPull(adapter, chosen.spec, ctx, {
          trigger: window === undefined ? 'manual' : 'backfill', signal: controller.signal, ...(window === undefined ? {} : { window }),
        }));
        if (!locked.ran) {
          const e = new GovgateError('GOVGATE_PULL_BUSY', { adapter: name });
          process.stderr.write(`${e.code}: ${e.messages.zh}\n${e.messages.en}\n`);
          setExit(1);
          return;
        }
        process.stdout.write(renderOutcome(locked.value));
        setExit(locked.value.status === 'ok' ? 0 : 1);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await adapter.close();
        await db.close();
      }
    });

  program
    .command('adapters')
    .description('拉取适配器与转发目的地 / pull adapters and destinations')
    .command('check')
    .description('检查每个适配器的连通性与凭据 / check every adapter\'s connectivity and credentials')
    .option('--config <file>', 'config file (or GOVGATE_CONFIG)')
    .action(async (opts: { config?: string }) => {
      const { config, departments, prepared } = load(opts.config);
      const limits = { maxBytes: config.limits.maxPayloadBytes, maxDepth: config.limits.maxDepth };
      let bad = 0;
      let n = 0;
      for (const p of prepared) {
        const adapter = p.kind.create(p.spec, { logger: stderrLogger, env: process.env, department: departments.find((d) => d.code === p.spec.dept)!, limits });
        try {
          const r = await adapter.check();
          if (!r.ok) bad++;
          n++;
          process.stdout.write(renderCheck(p.spec.name, p.spec.kind, r));
        } finally {
          await adapter.close();
        }
      }
      for (const d of config.destinations) {
        const kind = destinationKind(d.kind);
        if (kind === undefined) continue;
        const dest = kind.create(d.name, d.options as never, { logger: stderrLogger, env: process.env });
        try {
          const r = await dest.check();
          if (!r.ok) bad++;
          n++;
          process.stdout.write(renderCheck(d.name, d.kind, r));
        } finally {
          await dest.close();
        }
      }
      if (n === 0) process.stdout.write('没有配置适配器 / no adapters configured\n');
      setExit(bad === 0 ? 0 : 1);
    });
}
