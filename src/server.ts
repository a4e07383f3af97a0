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
import { createValidator } from './schemas/validate.js';
import { loadDivisions, shippedDivisions } from './schemas/spec/divisions.js';
import { buildApp } from './http/app.js';
import type { FastifyInstance } from 'fastify';
import { loadCatalogue } from './schemas/spec/catalogue.js';

export interface RunningGateway {
  readonly app: FastifyInstance;
  readonly db: Db;
  readonly config: Config;
  readonly departments: readonly Department[];
  readonly address: string;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly configFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides applied after loading (tests: port 0, a temporary data folder). */
  readonly overrides?: { port?: number; host?: string; dataDir?: string; databaseUrl?: string; schema?: string };
  readonly logger?: pino.Logger;
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

  const db = await openDb({
    ...(config.database.url === undefined ? { dataDir: config.database.dataDir } : { url: config.database.url, poolSize: config.database.poolSize }),
    schema: config.database.schema,
    logger,
  });
  try {
    await migrate(db);
    const validator = createValidator({
      maxRecords: config.limits.maxRecordsPerBatch,
      divisions: config.spec.divisionsFile === undefined ? shippedDivisions() : loadDivisions(config.spec.divisionsFile),
      ...(config.spec.catalogueFile === undefined ? {} : { catalogue: loadCatalogue(config.spec.catalogueFile) }),
    });
    const app = await buildApp({ config, departments, validator, store: createPushStore(db), logger });
    const address = await app.listen({ host: config.server.host, port: config.server.port });
    let closing: Promise<void> | undefined;
    return {
      app, db, config, departments, address,
      close: () => {
        closing ??= (async () => {
          await app.close();
          await db.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
