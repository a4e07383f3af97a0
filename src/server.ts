/**
 * The composition root: configuration → departments → database → migrations → HTTP. Also owns
 * the process lifecycle: SIGTERM/SIGINT drain in-flight requests, then close the database.
 */
import pino from 'pino';
import { loadConfig } from './config/load.js';
import { loadDepartments, type Department } from './config/departments.js';
import { redactOptions } from './config/redact.js';
import type { Config } from './config/schema.js';
import { openDb, type Db } from './store/db.js';
import { migrate } from './store/migrate.js';
import { createPushStore } from './store/push-store.js';
import { validatorFor, validatorRecipe } from './pipeline/validator-recipe.js';
import { intakeLimits } from './pipeline/intake.js';
import { buildApp } from './http/app.js';
import { createIntakePool, inlineReader, intakeRecipe, type PayloadReader } from './pipeline/intake-pool.js';
import type { FastifyInstance } from 'fastify';
import { compileRoutes } from './sync/routing.js';
import { createDeliveryEngine, type DeliveryEngine } from './sync/delivery.js';
import { createRedriveRunner } from './sync/redrive.js';
import { adminRoutes } from './http/admin.js';
import { createDestinations } from './adapters/index.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import type { IngestOptions } from './store/queries/ingest.js';
import { HALL_DEMO_KEY, startHallSim, type HallSim } from './hall-sim/index.js';
import type { DestinationConfig, RouteConfig } from './config/schema.js';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { preparePullAdapters } from './adapters/options.js';
import type { PullContext } from './adapters/types.js';
import { ingest } from './store/queries/ingest.js';
import { createScheduler, housekeepingJobs, type Scheduler } from './sync/scheduler.js';
import { setupPulls } from './sync/scheduler-pull.js';

export interface RunningGateway {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly config: Config;
  readonly departments: readonly Department[];
  readonly address: string;
  readonly metrics: GatewayMetrics;
  /** Absent when delivery is off or no destination is enabled. */
  readonly engine: DeliveryEngine | undefined;
  /** Demo mode without destinations: the embedded hall simulator everything is forwarded to. */
  readonly demoHall?: HallSim;
  /** Pull adapters, their sweeps and housekeeping, on their schedules. */
  readonly scheduler: Scheduler;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly configFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides applied after loading (tests: port 0, a temporary data folder). */
  readonly overrides?: { port?: number; host?: string; dataDir?: string; databaseUrl?: string; schema?: string };
  readonly logger?: pino.Logger;
  /** An open database to run on instead of the configured one (tests); it is migrated but not closed. */
  readonly db?: Db;
}


export async function startGateway(options: StartOptions = {}): Promise<RunningGateway> {
  const env = options.env ?? process.env;
  const loaded = loadConfig({ ...(options.configFile === undefined ? {} : { file: options.configFile }), env });
  const o = options.overrides ?? {};
  const config: Config = {
    ...loaded,
    server: { ...loaded.server, ...(o.port === undefined ? {} : { port: o.port }), ...(o.host === undefined ? {} : { host: o.host }) },
    database: {
      ...loaded.database,
      ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }),
      ...(o.databaseUrl === undefined ? {} : { url: o.databaseUrl }),
      ...(o.schema === undefined ? {} : { schema: o.schema }),
    },
  };
  const logger = options.logger ?? pino({ level: config.log.level, redact: redactOptions });
  const departments = loadDepartments(config.departments.dir, env, { allowedAlgorithms: config.auth.algorithms, allowInlineSecrets: config.demo.enabled });
  // Pull adapter options are checked before anything is opened: a bad adapter stops the start.
  const pullAdapters = preparePullAdapters(config, departments, env, options.configFile === undefined ? undefined : resolve(options.configFile));

  const borrowed = options.db;
  const db = borrowed ?? await openDb({
    ...(config.database.url === undefined ? { dataDir: config.database.dataDir } : { url: config.database.url, poolSize: config.database.poolSize }),
    schema: config.database.schema,
    logger,
  });
  const closeDb = () => (borrowed === undefined ? db.close() : Promise.resolve());
  let demoHall: HallSim | undefined;
  let reader: PayloadReader | undefined;
  try {
    await migrate(db);
    const validator = validatorFor(config);
    const forwarding = await demoForwarding(config, logger);
    demoHall = forwarding.hall;
    const route = compileRoutes(forwarding.routes, forwarding.destinations);
    const ingestOptions: IngestOptions = route === undefined ? {} : { route };
    const destinations = createDestinations(forwarding.destinations, { logger, env });
    const metrics = createMetrics({ db, destinations: forwarding.destinations.map((d) => d.name) });
    const store = createPushStore(db, {
      // Nonces are pruned by the scheduler's maintenance:nonces job, not on the ingest path.
      logger, nonceTtlSeconds: config.auth.nonceTtlSeconds, pruneEveryMs: Number.POSITIVE_INFINITY, onReceipt: (r) => metrics.observeReceipt(r),
      ...(route === undefined ? {} : { groupCommit: { route } }),
    });
    const enabled = destinations.filter((d) => forwarding.destinations.find((c) => c.name === d.name)?.enabled !== false);
    const engine = config.delivery.enabled && enabled.length > 0
      ? createDeliveryEngine({ db, destinations: enabled, config: config.delivery, logger: logger.child({ component: 'delivery' }), metrics })
      : undefined;
    // Re-drive jobs run in every instance (batches are claimed with SKIP LOCKED); what they
    // re-queue is due at once, so the engine is woken rather than left to its poll.
    const redrive = createRedriveRunner({ db, logger: logger.child({ component: 'redrive' }), onProgress: () => engine?.poke() });
    const admin = adminRoutes({
      db, destinations: forwarding.destinations, ...(engine === undefined ? {} : { engine }), redriveRunner: redrive,
      checkDestination: (name) => destinations.find((d) => d.name === name)!.check(),
    });
    const limits = intakeLimits(config);
    const pool = createIntakePool({
      workers: config.intake.workers, minBytes: config.intake.workerMinBytes, logger: logger.child({ component: 'intake' }),
      recipe: intakeRecipe(validatorRecipe(config), limits, departments),
      inline: inlineReader({ validator, limits, departments }),
    });
    reader = pool;
    metrics.watchIntake(() => pool.stats());
    const app = await buildApp({ config, departments, validator, reader, store, logger, metrics, plugins: [admin] });
    // Pulled payloads take the push path's ingest with the same routing; the runner's hook (cursor,
    // seen digests, ledger) commits in the same transaction, after any hook of ingestOptions.
    const pullContext: PullContext = {
      ingest: async (input, inTransaction) => {
        const result = await ingest(db, input, {
          ...ingestOptions,
          ...(inTransaction === undefined ? {} : {
            inTransaction: async (tx, res, position) => {
              await ingestOptions.inTransaction?.(tx, res, position);
              await inTransaction(tx, res);
            },
          }),
        });
        metrics.observeReceipt(result.receipt);
        return result;
      },
      db, validator, departments, logger: logger.child({ component: 'pull' }), instance: `${hostname()}:${process.pid}`,
      limits,
    };
    const pulls = setupPulls(pullAdapters, pullContext, env);
    const scheduler = createScheduler({
      db, logger: pullContext.logger, timezone: config.spec.timezone,
      jobs: [...pulls.jobs, ...housekeepingJobs(db, pullContext.instance, { nonceTtlSeconds: config.auth.nonceTtlSeconds })],
    });
    const address = await app.listen({ host: config.server.host, port: config.server.port });
    engine?.start();
    redrive.start();
    await scheduler.start();
    let closing: Promise<void> | undefined;
    return {
      app, db, config, departments, address, metrics, engine, scheduler, ...(demoHall === undefined ? {} : { demoHall }),
      close: () => {
        closing ??= (async () => {
          // Stop taking work first (HTTP drains in-flight requests, workers finish their sends),
          // then close what they were using.
          // A running pull stops between payloads; the payload in flight commits or rolls back whole.
          await Promise.all([app.close(), engine?.stop(), scheduler.stop(), redrive.stop()]);
          await pulls.close();
          await reader?.close();
          await Promise.all(destinations.map((d) => d.close()));
          await demoHall?.close();
          await closeDb();
        })();
        return closing;
      },
    };
  } catch (err) {
    await reader?.close().catch(() => undefined);
    await demoHall?.close().catch(() => undefined);
    await closeDb().catch(() => undefined);
    throw err;
  }
}

/**
 * The destinations and routes to run with. In demo mode with none configured, an embedded hall
 * simulator on a free port receives everything, so a newcomer sees records travel end to end; its
 * data sits next to the gateway's (a sibling PGlite folder, or a sibling schema).
 */
async function demoForwarding(config: Config, logger: pino.Logger): Promise<{ destinations: readonly DestinationConfig[]; routes: readonly RouteConfig[]; hall?: HallSim }> {
  if (!config.demo.enabled || !config.demo.hallSim || config.destinations.length > 0) {
    return { destinations: config.destinations, routes: config.routes };
  }
  const { url, dataDir, schema } = config.database;
  const hall = await startHallSim({
    port: 0,
    ...(url === undefined ? { dataDir: `${dataDir}-hall` } : { databaseUrl: url, schema: `${schema}_hallsim` }),
    logger: logger.child({ component: 'hall-sim' }),
  });
  const destination: DestinationConfig = {
    name: 'hall', kind: 'standard', enabled: true,
    options: { url: hall.url, keyId: HALL_DEMO_KEY.keyId, secret: HALL_DEMO_KEY.secret, algorithm: HALL_DEMO_KEY.algorithm, timeoutMs: 30_000, maxSockets: 16 },
  };
  return { destinations: [destination], routes: [{ destination: 'hall' }], hall };
}
