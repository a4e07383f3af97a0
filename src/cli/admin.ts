/**
 * `govgate deadletters …` and `govgate destinations …`: dead letters and destinations straight on
 * the database named by the config (like `govgate audit verify`), so they work whether or not a
 * gateway is running — a PGlite data directory must not be open in a running gateway at the same
 * time (one process per data directory); with PostgreSQL any number of CLIs and gateways can.
 *
 * The actor of every re-drive and pause is `cli:<--by, $USER or the OS user name>`.
 * Exit codes: 0 ok, 1 not found / not open / wrong job state, 2 usage or configuration.
 */
import { Command, CommanderError } from 'commander';
import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { GovgateError, isGovgateError } from '../errors.js';
import { openDb, type Db } from '../store/db.js';
import { migrate } from '../store/migrate.js';
import {
  DEFAULT_REDRIVE_BATCH, MAX_LIST_LIMIT, checkDeadLetterFilter, countDeadLetters, createRedriveJob, getDeadLetter, listDeadLetters,
  listDestinations, listRedriveJobs, pauseDestination, pauseRedriveJob, redriveDeadLetter, redriveJobRemaining, resumeDestination,
  resumeRedriveJob,
  type DeadLetter, type DeadLetterDetail, type DeadLetterFilter, type DestinationOverview, type RedriveBatchResult, type RedriveJob,
} from '../store/queries/dead-letters.js';
import { driveRedriveJob } from '../sync/redrive.js';
import { deadLetterJson, detailJson, jobJson } from '../http/admin.js';

const usage = (zh: string, en: string) => new CommanderError(2, 'govgate.admin', `${zh} / ${en}`);

// ── shared ─────────────────────────────────────────────────────────────────────────────────────────

interface DbOptions { config?: string }
interface FilterOptions { destination?: string; dept?: string; type?: string; cause?: string; state?: string; since?: string; until?: string; reasonCode?: string }

/** `cli:<name>`; the name is what the operator said (--by), else who is logged in. */
export function cliActor(by: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let name = by ?? env['USER'] ?? env['USERNAME'];
  if (name === undefined || name === '') {
    try {
      name = userInfo().username;
    } catch {
      name = 'unknown';
    }
  }
  if (!/^[^\s\x00-\x1f\x7f]{1,64}$/u.test(name)) throw usage(`--by 应为 1–64 个非空白字符，实际为 ${JSON.stringify(name)}`, `--by must be 1–64 non-blank characters, found ${JSON.stringify(name)}`);
  return `cli:${name}`;
}

function loadCliConfig(file: string | undefined): Config {
  const f = file ?? process.env['GOVGATE_CONFIG'];
  return loadConfig(f === undefined ? {} : { file: f });
}

async function withDb<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(config.database.url === undefined
    ? { dataDir: config.database.dataDir, schema: config.database.schema }
    : { url: config.database.url, schema: config.database.schema });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

function positiveInt(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text) || Number(text) > max) throw usage(`${name} 应为 1–${max} 的整数，实际为 ${text}`, `${name} must be an integer from 1 to ${max}, found ${text}`);
  return Number(text);
}

function formatOf(text: string): 'text' | 'json' {
  if (text !== 'text' && text !== 'json') throw usage(`--format 应为 text 或 json，实际为 ${text}`, `--format must be text or json, not ${text}`);
  return text;
}

function filterOf(o: FilterOptions, allowState: boolean): DeadLetterFilter {
  const raw: Record<string, string | undefined> = {
    destination: o.destination, deptCode: o.dept, recordType: o.type, cause: o.cause, since: o.since, until: o.until, reasonCode: o.reasonCode,
    ...(allowState ? { state: o.state } : {}),
  };
  if (!allowState && o.state !== undefined) throw usage('--all 只重新投递待处理（open）的死信，不接受 --state', '--all re-drives open dead letters only; --state does not apply');
  return checkDeadLetterFilter(raw, { allowState });
}

const filterOptions = (c: Command, withState: boolean): Command => {
  c.option('--destination <name>', '目的地 / destination')
    .option('--dept <code>', '部门代码 / department code')
    .option('--type <recordType>', 'case | powerItem | supervision')
    .option('--cause <cause>', 'rejected（接收方拒收）| exhausted（重试超时） / refused, or retries exhausted')
    .option('--since <time>', '成为死信的时间 ≥（RFC 3339 或日期，日期按北京时间零点） / created at or after (RFC 3339 or a date, midnight China time)')
    .option('--until <time>', '成为死信的时间 < / created before')
    .option('--reason-code <code>', '接收方原因代码 / the receiver\'s reason code');
  if (withState) c.option('--state <state>', 'open（默认）| redriven | superseded | any');
  return c;
};

/** China Standard Time, the clock the operators read: `2026-03-01 08:00:00+08:00`. */
export function cst(d: Date | null | undefined): string {
  if (d == null) return '-';
  return `${new Date(d.getTime() + 8 * 3_600_000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')}+08:00`;
}

const CAUSE = { rejected: '接收方拒收 / refused by the receiver', exhausted: '重试超时 / retries exhausted' } as const;
const STATE = { open: '待处理 open', redriven: '已重新投递 redriven', superseded: '已被取代 superseded' } as const;

interface Reason { code?: unknown; message?: { zh?: unknown; en?: unknown }; class?: unknown; findings?: unknown }

function reasonOf(d: DeadLetter): Reason {
  return (d.reason !== null && typeof d.reason === 'object' ? d.reason : {}) as Reason;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

function indent(block: string, by = '    '): string {
  return block.split('\n').map((l) => `${by}${l}`).join('\n');
}

function excerpt(s: string, maxChars: number, maxLines: number): { text: string; cut: boolean } {
  let out = s.length > maxChars ? s.slice(0, maxChars) : s;
  const lines = out.split('\n');
  if (lines.length > maxLines) out = lines.slice(0, maxLines).join('\n');
  return { text: out, cut: out.length < s.length };
}

/** Reports a GovgateError the operator can act on; returns the exit code, or rethrows what is not one. */
function report(err: unknown): number {
  // Configuration problems go to main(), which prints them with file and line.
  if (!isGovgateError(err) || err.code === 'GOVGATE_CONFIG_INVALID' || err.code === 'GOVGATE_MAPPING_INVALID') throw err;
  process.stderr.write(`${err.code}: ${err.messages.zh}\n  ${err.messages.en}\n`);
  if (err.code === 'GOVGATE_REQUEST_INVALID') return 2;
  if (err.statusCode === 404 || err.statusCode === 409) return 1;
  throw err;
}

// ── rendering ──────────────────────────────────────────────────────────────────────────────────────

export function renderList(items: readonly DeadLetter[], count: number, next: number | null): string {
  const lines = items.map((d) => {
    const r = reasonOf(d);
    return `#${d.id}  ${d.destination}  ${d.deptCode}  ${d.recordType}  ${d.businessKey}  v${d.version}  ${d.cause}  ${text(r.code) || '-'}  ${cst(d.createdAt)}  ${d.state}`;
  });
  if (items.length === 0) lines.push('没有符合条件的死信 / no dead letters match');
  lines.push(`共 ${count} 条符合条件，显示 ${items.length} 条 / ${count} matching, ${items.length} shown${next === null ? '' : `; 下一页 next page: --after ${next}`}`);
  return `${lines.join('\n')}\n`;
}

export function renderDetail(d: DeadLetterDetail): string {
  const dl = d.deadLetter;
  const r = reasonOf(dl);
  const answer = (dl.answer !== null && typeof dl.answer === 'object' ? dl.answer : {}) as { status?: unknown; body?: unknown; error?: unknown };
  const out: string[] = [];
  out.push(`死信 Dead letter #${dl.id}  [${STATE[dl.state]}]`);
  out.push(`  记录 Record:          ${dl.recordType} ${dl.deptCode} / ${dl.businessKey}  网关版本 version ${dl.version}${d.record?.dataVer == null ? '' : `（数据版本 dataVer ${d.record.dataVer}）`}`);
  out.push(`  目的地 Destination:   ${dl.destination}`);
  out.push(`  原因类别 Cause:       ${dl.cause} — ${CAUSE[dl.cause]}`);
  out.push(`  接收方原因 Reason:    ${text(r.code) || '-'}${r.class === undefined ? '' : ` (${text(r.class)})`}`);
  if (r.message?.zh !== undefined) out.push(`                        ${text(r.message.zh)}`);
  if (r.message?.en !== undefined) out.push(`                        ${text(r.message.en)}`);
  if (Array.isArray(r.findings) && r.findings.length > 0) {
    for (const f of r.findings.slice(0, 10) as Array<{ code?: unknown; path?: unknown; message?: { zh?: unknown; en?: unknown } }>) {
      out.push(`                        - ${text(f.code)} ${text(f.path)} ${text(f.message?.zh)} / ${text(f.message?.en)}`);
    }
    if (r.findings.length > 10) out.push(`                        …（共 ${r.findings.length} 处 / ${r.findings.length} in all）`);
  }
  const ans: string[] = [];
  if (answer.status !== undefined) ans.push(`HTTP ${text(answer.status)}`);
  if (answer.error !== undefined) ans.push(text(answer.error));
  out.push(`  接收方应答 Answer:    ${ans.length === 0 ? '-' : ans.join(' ')}`);
  if (answer.body !== undefined) out.push(indent(excerpt(text(answer.body), 1000, 15).text, '                        '));
  out.push(`  尝试次数 Attempts:    ${dl.attempts}`);
  out.push(`  接收时间 Received:    ${cst(dl.recordAt)}`);
  out.push(`  成为死信 Dead since:  ${cst(dl.createdAt)}`);
  out.push(`  处理 Resolved:        ${dl.state === 'open' ? '-' : `${dl.state} — ${dl.resolvedBy ?? '?'} @ ${cst(dl.resolvedAt)}`}`);
  if (d.entry !== undefined) {
    const e = d.entry;
    out.push(`发件箱条目 Outbox entry #${e.id}: ${e.state}; 待投递版本 wanted v${e.wantedVersion}; 已应答版本 settled ${e.settledVersion === null ? '-' : `v${e.settledVersion}`}; 尝试 attempts ${e.attempts}; 下次 next ${cst(e.nextAttemptAt)}`);
    if (e.wantedVersion > dl.version) out.push(`  已有更新的版本 v${e.wantedVersion}：重新投递将标记为已取代 / a newer version exists: a re-drive marks this one superseded`);
  }
  out.push('重新投递记录 Re-drives:');
  if (d.redrives.length === 0) out.push('  （无 none）');
  for (const x of d.redrives) out.push(`  ${cst(x.at)}  ${x.actor}  ${x.result}${x.jobId === null ? '' : `  (任务 job #${x.jobId})`}`);
  if (d.record !== undefined) {
    const content = excerpt(JSON.stringify(d.record.content, null, 2), 3000, 60);
    out.push(`记录内容 Record content (${d.record.digest.slice(0, 16)}…):`);
    out.push(indent(content.text));
    if (content.cut) out.push('    …（已截断，完整内容用 --format json / truncated, use --format json for all of it）');
  }
  if (d.raw === undefined) {
    out.push('原始报文 Raw payload: 未找到（可能已按保留期删除） / not found (retention may have removed it)');
  } else {
    const w = d.raw;
    out.push(`原始报文 Raw payload: 回执 receipt ${w.receiptId}; ${w.contentType}${w.declaredEncoding === null ? '' : ` (${w.declaredEncoding})`}; ${w.size} 字节 bytes; sha256 ${w.sha256}`);
    out.push(`  来源 source ${w.source}${w.batchId === null ? '' : `; 批次 batch ${w.batchId}`}; 第 ${(d.record?.recordIndex ?? 0) + 1} 条记录 record #${(d.record?.recordIndex ?? 0) + 1}; 接收 received ${cst(w.receivedAt)}`);
    if (w.text !== null) {
      const ex = excerpt(w.text, 2000, 40);
      out.push(`  ── 摘录 excerpt (${w.textEncoding}) ──`);
      out.push(indent(ex.text));
      if (ex.cut) out.push('    …（已截断 / truncated）');
    } else {
      out.push(`  ── 无法按文本解码，前 256 字节（十六进制）/ not text, first 256 bytes (hex) ──`);
      out.push(indent(w.body.subarray(0, 256).toString('hex').replace(/(.{64})/g, '$1\n').trimEnd()));
    }
  }
  return `${out.join('\n')}\n`;
}

function renderJob(j: RedriveJob, remaining?: number): string {
  const f = Object.entries(j.filter).map(([k, v]) => `${k}=${text(v)}`).join(' ') || '（全部 all）';
  return `任务 job #${j.id}  ${j.state}  重新投递 requeued ${j.requeued}  已取代 superseded ${j.superseded}${remaining === undefined ? '' : `  剩余 remaining ${remaining}`}  每批 batch ${j.batchSize}  ${j.actor}  ${cst(j.createdAt)}  筛选 filter: ${f}`;
}

function renderDestination(d: DestinationOverview): string {
  const paused = d.paused
    ? `已暂停 PAUSED by ${d.pausedBy ?? '?'} @ ${cst(d.pausedAt)}${(() => {
      const m = (d.pausedReason as { message?: { zh?: unknown; en?: unknown } } | null)?.message;
      return m === undefined ? '' : ` — ${text(m.zh)} / ${text(m.en)}`;
    })()}`
    : '投递中 active';
  const cfg = d.configured ? `${d.kind ?? '?'}${d.enabled === false ? ' 已停用 disabled' : ''}` : '不在配置中 not configured';
  return `${d.name}  ${cfg}  ${paused}  待投递 pending ${d.depth.pending}  投递中 leased ${d.depth.leased}  最早 oldest ${Math.round(d.depth.oldestAgeSeconds)}s  待处理死信 open dead letters ${d.openDeadLetters}`;
}

// ── running a job in the foreground ────────────────────────────────────────────────────────────────

async function driveInForeground(db: Db, job: RedriveJob, total: number): Promise<RedriveJob> {
  const abort = new AbortController();
  const onSigint = () => {
    if (!abort.signal.aborted) process.stderr.write('\n正在当前批次完成后暂停… / pausing after the batch in progress…\n');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  let done = job.requeued + job.superseded;
  try {
    const last = await driveRedriveJob(db, job.id, {
      signal: abort.signal,
      onBatch: (r: RedriveBatchResult) => {
        // The last call of a job whose size is a multiple of the batch finds nothing: not worth a line.
        if (r.examined === 0) return;
        done += r.requeued + r.superseded;
        process.stdout.write(`  批次 batch: 重新投递 requeued +${r.requeued}, 已取代 superseded +${r.superseded} — 已处理 processed ${done}/${total}\n`);
      },
    });
    if (abort.signal.aborted && last.state === 'running') {
      const paused = await pauseRedriveJob(db, job.id);
      process.stdout.write(`任务 job #${paused.id} 已暂停 paused. 继续 resume: govgate deadletters resume-job ${paused.id}\n`);
      return paused;
    }
    if (last.state === 'done') {
      process.stdout.write(`任务 job #${last.id} 完成 done: 重新投递 requeued ${last.requeued}, 已被新版本取代 superseded ${last.superseded}\n`);
    } else if (last.state === 'paused') {
      process.stdout.write(`任务 job #${last.id} 已被暂停（另一操作） / was paused elsewhere. 继续 resume: govgate deadletters resume-job ${last.id}\n`);
    }
    return last;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

// ── commands ───────────────────────────────────────────────────────────────────────────────────────

export function registerAdmin(program: Command, setExitCode: (code: number) => void): void {
  /** Runs an action against the database; GovgateErrors the operator can act on become exit codes. */
  const act = <A extends unknown[]>(fn: (...args: A) => Promise<number | void>) => async (...args: A) => {
    try {
      setExitCode((await fn(...args)) ?? 0);
    } catch (err) {
      setExitCode(report(err));
    }
  };

  const dl = program.command('deadletters').description('死信：查看与重新投递 / dead letters: inspect and re-drive');

  filterOptions(dl.command('list').description('列出死信（默认仅待处理的） / list dead letters (open ones by default)'), true)
    .option('--limit <n>', `条数（最多 ${MAX_LIST_LIMIT}） / how many (at most ${MAX_LIST_LIMIT})`, '50')
    .option('--after <id>', '翻页：从该编号之后 / page on: after this id')
    .option('--order <order>', 'asc（最早的在前，默认）| desc', 'asc')
    .option('--format <format>', 'text | json', 'text')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (o: FilterOptions & DbOptions & { limit: string; after?: string; order: string; format: string }) => {
      const format = formatOf(o.format);
      const limit = positiveInt('--limit', o.limit, MAX_LIST_LIMIT);
      const after = o.after === undefined ? undefined : positiveInt('--after', o.after);
      if (o.order !== 'asc' && o.order !== 'desc') throw usage(`--order 应为 asc 或 desc，实际为 ${o.order}`, `--order must be asc or desc, not ${o.order}`);
      const filter = filterOf(o, true);
      await withDb(loadCliConfig(o.config), async (db) => {
        const [page, count] = await Promise.all([
          listDeadLetters(db, filter, { limit, order: o.order as 'asc' | 'desc', ...(after === undefined ? {} : { after }) }),
          countDeadLetters(db, filter),
        ]);
        process.stdout.write(format === 'json'
          ? `${JSON.stringify({ items: page.items.map(deadLetterJson), count, next: page.next }, null, 2)}\n`
          : renderList(page.items, count, page.next));
      });
    }));

  dl.command('show')
    .description('查看一条死信：原因、应答、尝试、重投记录与原始报文 / one dead letter: reason, answer, attempts, re-drives and the raw payload')
    .argument('<id>', '死信编号 / dead letter id')
    .option('--format <format>', 'text | json', 'text')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (idText: string, o: DbOptions & { format: string }) => {
      const format = formatOf(o.format);
      const id = positiveInt('<id>', idText);
      return withDb(loadCliConfig(o.config), async (db) => {
        const d = await getDeadLetter(db, id);
        if (d === undefined) throw new GovgateError('GOVGATE_NOT_FOUND', { what: '死信', whatEn: 'dead letter', found: String(id) });
        process.stdout.write(format === 'json' ? `${JSON.stringify(detailJson(d), null, 2)}\n` : renderDetail(d));
      });
    }));

  filterOptions(dl.command('redrive').description('重新投递一条死信，或用 --all 分批重新投递所有符合条件的待处理死信 / re-drive one dead letter, or with --all every open one matching the filters, in batches'), false)
    .argument('[id]', '死信编号 / dead letter id')
    .option('--all', '所有符合筛选条件的待处理死信（建立任务，分批执行；Ctrl-C 暂停） / every open dead letter matching the filters (a job in batches; Ctrl-C pauses it)')
    .option('--batch-size <n>', `每批条数（默认 ${DEFAULT_REDRIVE_BATCH}） / per batch (default ${DEFAULT_REDRIVE_BATCH})`)
    .option('--detach', '只建立任务，由运行中的网关执行 / only create the job; running gateways carry it out')
    .option('--by <name>', '操作人（默认当前用户） / who is acting (default: the logged-in user)')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (idText: string | undefined, o: FilterOptions & DbOptions & { all?: boolean; batchSize?: string; detach?: boolean; by?: string; state?: string }) => {
      const actor = cliActor(o.by);
      const filtered = o.destination ?? o.dept ?? o.type ?? o.cause ?? o.since ?? o.until ?? o.reasonCode;
      if (o.all !== true) {
        if (idText === undefined) throw usage('请给出死信编号，或用 --all 按条件全部重新投递', 'give a dead letter id, or --all to re-drive everything matching the filters');
        if (filtered !== undefined || o.batchSize !== undefined || o.detach === true) throw usage('筛选条件、--batch-size 和 --detach 只用于 --all', 'filters, --batch-size and --detach go with --all');
        const id = positiveInt('<id>', idText);
        return withDb(loadCliConfig(o.config), async (db) => {
          const r = await redriveDeadLetter(db, id, actor);
          process.stdout.write(r.result === 'requeued'
            ? `死信 #${id} 已重新排队投递 / re-queued: 发件箱条目 entry #${r.entry.id} ${r.entry.state}，版本 version v${r.entry.wantedVersion}，立即投递 due now（${actor}）\n`
            : `死信 #${id} 已有更新的版本 v${r.entry.wantedVersion}，标记为已取代，无需重发 / a newer version exists: marked superseded, nothing to resend（${actor}）\n`);
        });
      }
      if (idText !== undefined) throw usage('--all 与死信编号不能同时使用', '--all and a dead letter id cannot go together');
      const batchSize = o.batchSize === undefined ? undefined : positiveInt('--batch-size', o.batchSize, 10_000);
      const filter = filterOf(o, false);
      return withDb(loadCliConfig(o.config), async (db) => {
        const job = await createRedriveJob(db, { filter, actor, ...(batchSize === undefined ? {} : { batchSize }) });
        const total = await redriveJobRemaining(db, job);
        process.stdout.write(`任务 job #${job.id}：${total} 条待处理死信，每批 ${job.batchSize} 条 / ${total} open dead letters in scope, ${job.batchSize} per batch（${actor}）\n`);
        if (o.detach === true) {
          process.stdout.write(`已交由运行中的网关执行；查看进度 / running gateways carry it out; progress: govgate deadletters jobs\n`);
          return;
        }
        await driveInForeground(db, job, total);
      });
    }));

  dl.command('jobs')
    .description('重新投递任务（最新的在前） / re-drive jobs, newest first')
    .option('--state <state>', 'running | paused | done')
    .option('--limit <n>', '条数 / how many', '20')
    .option('--format <format>', 'text | json', 'text')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (o: DbOptions & { state?: string; limit: string; format: string }) => {
      const format = formatOf(o.format);
      const limit = positiveInt('--limit', o.limit, MAX_LIST_LIMIT);
      if (o.state !== undefined && !['running', 'paused', 'done'].includes(o.state)) throw usage(`--state 应为 running、paused 或 done，实际为 ${o.state}`, `--state must be running, paused or done, not ${o.state}`);
      await withDb(loadCliConfig(o.config), async (db) => {
        const page = await listRedriveJobs(db, { limit, ...(o.state === undefined ? {} : { state: o.state as RedriveJob['state'] }) });
        const rows = await Promise.all(page.items.map(async (j) => ({ j, remaining: await redriveJobRemaining(db, j) })));
        process.stdout.write(format === 'json'
          ? `${JSON.stringify({ items: rows.map((r) => jobJson(r.j, r.remaining)), next: page.next }, null, 2)}\n`
          : rows.length === 0 ? '没有重新投递任务 / no re-drive jobs\n' : `${rows.map((r) => renderJob(r.j, r.remaining)).join('\n')}\n`);
      });
    }));

  dl.command('pause-job')
    .description('暂停重新投递任务（当前批次完成后生效） / pause a re-drive job (after the batch in progress)')
    .argument('<id>', '任务编号 / job id')
    .option('--by <name>', '操作人 / who is acting')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (idText: string, o: DbOptions & { by?: string }) => {
      const id = positiveInt('<id>', idText);
      cliActor(o.by);
      await withDb(loadCliConfig(o.config), async (db) => {
        const job = await pauseRedriveJob(db, id);
        process.stdout.write(`${renderJob(job, await redriveJobRemaining(db, job))}\n继续 resume: govgate deadletters resume-job ${id}\n`);
      });
    }));

  dl.command('resume-job')
    .description('继续已暂停的重新投递任务，并在本进程中执行（Ctrl-C 再次暂停） / resume a paused re-drive job and run it here (Ctrl-C pauses it again)')
    .argument('<id>', '任务编号 / job id')
    .option('--detach', '只标记为继续，由运行中的网关执行 / only mark it running; running gateways carry it out')
    .option('--by <name>', '操作人 / who is acting')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (idText: string, o: DbOptions & { detach?: boolean; by?: string }) => {
      const id = positiveInt('<id>', idText);
      cliActor(o.by);
      await withDb(loadCliConfig(o.config), async (db) => {
        const job = await resumeRedriveJob(db, id);
        const remaining = await redriveJobRemaining(db, job);
        process.stdout.write(`${renderJob(job, remaining)}\n`);
        if (o.detach === true || job.state !== 'running') return;
        await driveInForeground(db, job, job.requeued + job.superseded + remaining);
      });
    }));

  const dest = program.command('destinations').description('转发目的地：状态、暂停与恢复 / forwarding destinations: state, pause and resume');

  dest.command('list')
    .description('目的地：配置、暂停状态、积压与待处理死信 / destinations: config, paused state, backlog and open dead letters')
    .option('--format <format>', 'text | json', 'text')
    .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)')
    .action(act(async (o: DbOptions & { format: string }) => {
      const format = formatOf(o.format);
      const config = loadCliConfig(o.config);
      await withDb(config, async (db) => {
        const items = await listDestinations(db, config.destinations.map((d) => ({ name: d.name, kind: d.kind, enabled: d.enabled })));
        process.stdout.write(format === 'json'
          ? `${JSON.stringify({ items }, null, 2)}\n`
          : items.length === 0 ? '没有配置目的地 / no destinations configured\n' : `${items.map(renderDestination).join('\n')}\n`);
      });
    }));

  for (const action of ['pause', 'resume'] as const) {
    const c = dest.command(action)
      .description(action === 'pause'
        ? '暂停向该目的地投递（所有实例；记录继续排队） / pause deliveries to it (every instance; records keep queueing)'
        : '恢复向该目的地投递 / resume deliveries to it')
      .argument('<name>', '目的地名称 / destination name')
      .option('--by <name>', '操作人 / who is acting')
      .option('--config <file>', '配置文件（或 GOVGATE_CONFIG） / config file (or GOVGATE_CONFIG)');
    if (action === 'pause') c.option('--note <text>', '说明 / a note on why');
    c.action(act(async (name: string, o: DbOptions & { by?: string; note?: string }) => {
      const actor = cliActor(o.by);
      const config = loadCliConfig(o.config);
      if (!config.destinations.some((d) => d.name === name)) {
        throw new GovgateError('GOVGATE_NOT_FOUND', { what: '目的地', whatEn: 'destination', found: name });
      }
      await withDb(config, async (db) => {
        if (action === 'pause') await pauseDestination(db, name, actor, o.note);
        else await resumeDestination(db, name, actor);
        const view = (await listDestinations(db, config.destinations.map((d) => ({ name: d.name, kind: d.kind, enabled: d.enabled })))).find((d) => d.name === name)!;
        process.stdout.write(`${renderDestination(view)}\n`);
      });
    }));
  }
}
