/** `govgate start`: run the gateway until SIGTERM/SIGINT, then drain and close cleanly. */
import { formatProblems } from '../config/yaml-source.js';
import { isGovgateError } from '../errors.js';
import { startGateway, type RunningGateway } from '../server.js';

export async function runStart(opts: { config?: string }): Promise<number> {
  const configFile = opts.config ?? process.env['GOVGATE_CONFIG'];
  let gw: RunningGateway;
  try {
    // The logger is built from the loaded config (log.level, or GOVGATE_LOG_LEVEL over it).
    gw = await startGateway(configFile === undefined ? {} : { configFile });
  } catch (err) {
    if (isGovgateError(err) && (err.code === 'GOVGATE_CONFIG_INVALID' || err.code === 'GOVGATE_MAPPING_INVALID')) {
      process.stderr.write(`${formatProblems(err)}\n`);
      return 2;
    }
    if (isGovgateError(err)) {
      process.stderr.write(`${err.code}: ${err.messages.zh}\n${err.messages.en}\n`);
      return 1;
    }
    throw err;
  }
  printBanner(gw, configFile);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      gw.app.log.info({ signal }, '正在停止：处理完在途请求后关闭 / stopping: draining in-flight requests');
      // A second signal while draining means "now": exit without waiting.
      process.once(signal, () => process.exit(130));
      gw.close().then(resolve, (err: unknown) => {
        gw.app.log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function printBanner(gw: RunningGateway, configFile: string | undefined): void {
  const { config } = gw;
  const out: string[] = [
    '',
    `govgate 政务数据交换网关 — 监听 listening on ${gw.address}`,
    `  接口文档 API docs:        ${gw.address}/docs`,
    `  健康检查 health:           ${gw.address}/healthz  ${gw.address}/readyz`,
    `  配置 config:               ${configFile ?? '(默认配置 defaults)'}`,
    gw.db.engine === 'pglite'
      ? `  数据库 database:           内嵌 PGlite（${config.database.dataDir}）——不做 fsync，仅供演示与测试；生产请设置 DATABASE_URL / embedded PGlite, no fsync: demos and tests only; set DATABASE_URL in production`
      : `  数据库 database:           PostgreSQL（schema ${gw.db.schema}）`,
    `  部门 departments:          ${gw.departments.length}`,
  ];
  if (config.demo.enabled) {
    out.push('', '演示部门与密钥（仅供演示） / demo departments and keys (demo only):');
    for (const d of gw.departments) {
      for (const k of d.keys.filter((x) => x.active)) {
        out.push(`  ${d.code}  ${d.name}  keyId=${k.id}  ${k.algorithm}  secret=${k.secretSource === 'inline' ? k.secret : `(env)`}${d.mapping === undefined ? '' : '  （带字段映射 with mapping）'}`);
      }
    }
    if (gw.demoHall !== undefined) {
      out.push('', `统一网厅模拟器（接收转发的记录） / hall simulator (receives forwarded records): ${gw.demoHall.url}`,
        `  已收记录 received records:  ${gw.demoHall.url}/_sim/records`,
        `  转发指标 forwarding metrics: ${gw.address}/metrics`);
    }
    out.push('', `再开一个终端运行 / in another terminal run:  npm run demo:push${gw.demoHall === undefined ? '' : ` -- --hall ${gw.demoHall.url}`}`, '');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
