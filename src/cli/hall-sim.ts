/**
 * `govgate hall-sim`: the unified government hall simulator as a process, for department
 * sandboxes and demos (docs/hall-sim.md). Runs until SIGTERM/SIGINT, then drains and exits 0.
 */
import { Command, CommanderError } from 'commander';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../client/sign.js';
import { redactUrl } from '../store/db.js';
import {
  DEFAULT_HALL_BODY_LIMIT, DEFAULT_HALL_SCHEMA, HALL_DEMO_KEY, checkFaults, startHallSim,
  type Faults, type HallSim, type HallSimKey, type HallSimOptions,
} from '../hall-sim/index.js';

export const DEFAULT_HALL_PORT = 9090;

const usage = (zh: string, en: string) => new CommanderError(2, 'govgate.hallsim', `${zh} / ${en}`);

/**
 * `keyId:secret[:algorithm]`. The key id ends at the first colon (so this flag cannot carry an id
 * that contains one); the last segment is the algorithm only when it names one, so a secret may
 * contain colons.
 */
export function parseKeyOption(text: string): HallSimKey {
  const first = text.indexOf(':');
  if (first <= 0 || first === text.length - 1) {
    throw usage(`--key 应为 密钥编号:密钥[:算法]，实际为 ${JSON.stringify(text.slice(0, 20))}…`, 'the format of --key is keyId:secret[:algorithm]');
  }
  const keyId = text.slice(0, first);
  let secret = text.slice(first + 1);
  let algorithm: SigningAlgorithm = 'hmac-sha256';
  const last = secret.lastIndexOf(':');
  if (last > 0 && (SIGNING_ALGORITHMS as readonly string[]).includes(secret.slice(last + 1))) {
    algorithm = secret.slice(last + 1) as SigningAlgorithm;
    secret = secret.slice(0, last);
  }
  return { keyId, secret, algorithm };
}

/** `50` or `20-200` (also `20,200`). */
export function parseLatency(text: string): number | [number, number] {
  const m = /^(\d+)(?:\s*[-,]\s*(\d+))?$/.exec(text.trim());
  if (m === null) throw usage(`--latency-ms 应为毫秒数或 最小-最大，实际为 ${text}`, `--latency-ms must be milliseconds or min-max, found ${text}`);
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

/** `startSec:durationSec`, seconds after the start. */
export function parseOutage(text: string): { startSec: number; durationSec: number } {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(text.trim());
  if (m === null) throw usage(`--outage 应为 开始秒数:持续秒数，实际为 ${text}`, `--outage must be startSec:durationSec, found ${text}`);
  return { startSec: Number(m[1]), durationSec: Number(m[2]) };
}

function parseNumber(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) throw usage(`${name} 应为数字，实际为 ${text}`, `${name} must be a number, found ${text}`);
  return n;
}

export interface HallSimCliOptions {
  host: string;
  port: string;
  databaseUrl?: string;
  dataDir?: string;
  schema: string;
  key: string[];
  latencyMs?: string;
  errorRate?: string;
  timeoutRate?: string;
  timeoutHoldMs?: string;
  faultPhase?: string;
  rejectRate?: string;
  rejectKey: string[];
  outage: string[];
  outageMode?: string;
  bodyLimit?: string;
  logLevel: string;
}

/** The options of `startHallSim` the flags describe; throws a usage error (exit 2) when one is wrong. */
export function hallSimOptionsFromCli(opts: HallSimCliOptions, env: NodeJS.ProcessEnv = process.env): HallSimOptions {
  const port = Number(opts.port);
  if (!/^\d+$/.test(opts.port) || port > 65_535) throw usage(`--port 应为 0–65535，实际为 ${opts.port}`, `--port must be 0–65535, found ${opts.port}`);
  const faults: Record<string, unknown> = {};
  if (opts.latencyMs !== undefined) faults['latencyMs'] = parseLatency(opts.latencyMs);
  if (opts.errorRate !== undefined) faults['errorRate'] = parseNumber('--error-rate', opts.errorRate);
  if (opts.timeoutRate !== undefined) faults['timeoutRate'] = parseNumber('--timeout-rate', opts.timeoutRate);
  if (opts.timeoutHoldMs !== undefined) faults['timeoutHoldMs'] = parseNumber('--timeout-hold-ms', opts.timeoutHoldMs);
  if (opts.faultPhase !== undefined) faults['faultPhase'] = opts.faultPhase;
  if (opts.rejectRate !== undefined) faults['rejectRate'] = parseNumber('--reject-rate', opts.rejectRate);
  if (opts.rejectKey.length > 0) faults['rejectKeys'] = opts.rejectKey;
  if (opts.outage.length > 0) faults['outages'] = opts.outage.map(parseOutage);
  if (opts.outageMode !== undefined) faults['outageMode'] = opts.outageMode;
  const checked = checkFaults(faults);
  if (!checked.ok) throw new CommanderError(2, 'govgate.hallsim', checked.problems.join('\n'));
  const databaseUrl = opts.databaseUrl ?? (env['HALLSIM_DATABASE_URL'] || undefined);
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
  if (!levels.includes(opts.logLevel)) throw usage(`--log-level 应为 ${levels.join('、')} 之一`, `--log-level must be one of ${levels.join(', ')}`);
  let bodyLimitBytes = DEFAULT_HALL_BODY_LIMIT;
  if (opts.bodyLimit !== undefined) {
    bodyLimitBytes = parseNumber('--body-limit', opts.bodyLimit);
    if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1) throw usage('--body-limit 应为正整数（字节）', '--body-limit must be a positive integer (bytes)');
  }
  return {
    host: opts.host,
    port,
    keys: opts.key.length === 0 ? [HALL_DEMO_KEY] : opts.key.map(parseKeyOption),
    ...(databaseUrl !== undefined ? { databaseUrl } : opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
    schema: opts.schema,
    faults: checked.value,
    bodyLimitBytes,
    logLevel: opts.logLevel as NonNullable<HallSimOptions['logLevel']>,
  };
}

function describeFaults(f: Faults): string {
  const parts: string[] = [];
  if (f.latencyMs !== 0) parts.push(`latencyMs=${JSON.stringify(f.latencyMs)}`);
  if (f.errorRate > 0) parts.push(`errorRate=${f.errorRate}`);
  if (f.timeoutRate > 0) parts.push(`timeoutRate=${f.timeoutRate} (hold ${f.timeoutHoldMs} ms)`);
  if (f.errorRate > 0 || f.timeoutRate > 0) parts.push(`faultPhase=${f.faultPhase}`);
  if (f.rejectRate > 0) parts.push(`rejectRate=${f.rejectRate}`);
  if (f.rejectKeys.length > 0) parts.push(`rejectKeys=${f.rejectKeys.length}`);
  if (f.outages.length > 0) parts.push(`outages=${f.outages.map((o) => `${o.startSec}s+${o.durationSec}s`).join(',')} (${f.outageMode})`);
  return parts.length === 0 ? '无 none' : parts.join('  ');
}

/** What the command prints at start. Secrets appear only for the published demo key. */
export function hallSimBanner(sim: Pick<HallSim, 'url' | 'db' | 'faults'>, options: HallSimOptions): string {
  const keys = options.keys ?? [HALL_DEMO_KEY];
  const db = sim.db.engine === 'postgres'
    ? `PostgreSQL ${redactUrl(options.databaseUrl ?? '')}（schema ${sim.db.schema}）`
    : `内嵌 PGlite（${options.dataDir ?? '内存 in memory'}，schema ${sim.db.schema}）——不做 fsync / embedded PGlite, no fsync`;
  const out = [
    '',
    `govgate hall-sim 统一政务大厅模拟器 — listening on ${sim.url}`,
    `  提交 submit:           POST ${sim.url}/api/v1/batches`,
    `  对账 reconcile:        GET  ${sim.url}/api/v1/reconciliation?deptCode=…&day=YYYY-MM-DD[&recordType=…][&keys=true]`,
    `  控制 control:          ${sim.url}/_sim/stats  /_sim/faults  /_sim/outage  /_sim/rejected  /_sim/records  /_sim/reset`,
    `  健康检查 health:        ${sim.url}/healthz`,
    `  数据库 database:        ${db}`,
    `  故障 faults:            ${describeFaults(sim.faults())}`,
    '  密钥 keys (任一部门可用 each valid for any department):',
  ];
  for (const k of keys) {
    const demo = k.keyId === HALL_DEMO_KEY.keyId && k.secret === HALL_DEMO_KEY.secret;
    out.push(`    keyId=${k.keyId}  ${k.algorithm ?? 'hmac-sha256'}${demo ? `  secret=${k.secret}  （演示密钥，仅供演示 demo key, demo only）` : ''}`);
  }
  out.push(
    '',
    '⚠ 控制接口 /_sim/* 无需认证，任何能访问此地址的人都可以改故障设置、读取和清空数据；只在本机或隔离的测试网络中运行。',
    '⚠ The control endpoints /_sim/* are open: anyone who can reach this address can change faults, read and clear the data.',
    '  Run it on localhost or an isolated test network only.',
    '',
  );
  return out.join('\n');
}

export async function runHallSim(opts: HallSimCliOptions): Promise<number> {
  const options = hallSimOptionsFromCli(opts);
  let sim: HallSim;
  try {
    sim = await startHallSim(options);
  } catch (err) {
    process.stderr.write(`大厅模拟器启动失败 / the hall simulator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  process.stdout.write(`${hallSimBanner(sim, options)}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`正在停止 stopping (${signal})…\n`);
      // A second signal while draining means "now".
      process.once(signal, () => process.exit(130));
      sim.close().then(resolve, (err: unknown) => {
        process.stderr.write(`关闭失败 / shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds `hall-sim` to the `govgate` command. */
export function registerHallSim(program: Command, setExitCode: (code: number) => void): void {
  program
    .command('hall-sim')
    .description('启动统一政务大厅模拟器（上游接收方，可注入故障） / run the unified government hall simulator (upstream receiver, fault injection)')
    .option('--host <host>', '监听地址 / listen address', '127.0.0.1')
    .option('--port <port>', '端口，0 为任意空闲端口 / port, 0 for any free one', String(DEFAULT_HALL_PORT))
    .option('--database-url <url>', 'PostgreSQL 服务器（或环境变量 HALLSIM_DATABASE_URL）；默认内嵌 PGlite / PostgreSQL server (or HALLSIM_DATABASE_URL); default embedded PGlite')
    .option('--data-dir <dir>', 'PGlite 数据目录；默认在内存中 / PGlite data directory; default in memory')
    .option('--schema <name>', '模拟器的 schema / the simulator\'s schema', DEFAULT_HALL_SCHEMA)
    .option('--key <keyId:secret[:algorithm]>', '签名密钥，可重复；默认演示密钥 hall-demo / signing key, repeatable; default the demo key hall-demo', collect, [])
    .option('--latency-ms <ms|min-max>', '每个请求增加的延迟 / delay added to every request')
    .option('--error-rate <0..1>', '应答 503（偶尔 500/502）的比例 / share answered 503 (sometimes 500/502)')
    .option('--timeout-rate <0..1>', '不应答的比例 / share never answered')
    .option('--timeout-hold-ms <ms>', '不应答时保持连接的时长（默认 120000） / how long an unanswered socket is held (default 120000)')
    .option('--fault-phase <phase>', 'before | after | mixed（默认 mixed）：故障发生在入库前还是入库后 / before or after the batch is stored')
    .option('--reject-rate <0..1>', '按业务主键拒收的比例 / share of business keys refused')
    .option('--reject-key <key>', '总是拒收的业务主键，可重复 / a business key always refused, repeatable', collect, [])
    .option('--outage <startSec:durationSec>', '停机时段（相对启动时刻），可重复 / outage window after start, repeatable', collect, [])
    .option('--outage-mode <mode>', 'reset | 503（默认 reset：重置连接） / reset the connection (default) or answer 503')
    .option('--body-limit <bytes>', `报文大小上限（默认 ${DEFAULT_HALL_BODY_LIMIT}） / body size limit (default ${DEFAULT_HALL_BODY_LIMIT})`)
    .option('--log-level <level>', '日志级别 / log level', 'warn')
    .action(async (opts: HallSimCliOptions) => {
      setExitCode(await runHallSim(opts));
    });
}
