/**
 * One database interface over two engines: a `pg` pool against a PostgreSQL server (production)
 * and PGlite, PostgreSQL compiled to WASM running in-process (zero set-up demos, trials, tests).
 * Both run the same SQL and the same migrations; nothing above `src/store/` knows which it has.
 *
 * Differences the interface smooths over:
 * - int8 comes back as a JS number from both (PGlite's default; pg would give strings). Ids and
 *   sequence numbers stay far below 2^53, and the parser throws rather than round if one ever doesn't.
 * - bytea comes back as a Uint8Array from both (pg's Buffer is one).
 * - Errors from pg never carry the password: node-postgres attaches client objects to pool errors
 *   (brianc/node-postgres#1568) and puts the whole connection string into ERR_INVALID_URL
 *   (#3145), so every error leaving this module is rebuilt from an allow-list of fields.
 */
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { GovgateError } from '../errors.js';

export interface QueryResult<R> {
  readonly rows: R[];
  /** Rows returned, or rows affected for INSERT/UPDATE/DELETE without RETURNING. */
  readonly rowCount: number;
}

export interface QueryOptions {
  /**
   * Prepare the statement under this name once per connection and reuse it, saving the parse and
   * plan of every later call (pg only; PGlite ignores it). Only for constant SQL text: one name,
   * one text, for the life of the process.
   */
  readonly name?: string;
}

export interface Queryable {
  /** One statement with `$n` parameters. */
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** A script of several statements and no parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
}

/** The handle a transaction callback gets. It is dead once the callback's promise settles. */
export type Tx = Queryable;

export interface Db extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** The PostgreSQL schema that holds govgate's tables (the connection's search_path). */
  readonly schema: string;
  /**
   * Runs `fn` in one transaction (READ COMMITTED) on one connection: commits when it resolves, rolls
   * back and rethrows when it rejects. Use only `tx` inside: on PGlite a call to the outer `Db`
   * would wait for the transaction that is waiting for it.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** PGlite only: the whole database as a tarball, to open copies from (`pgliteSnapshot`). */
  snapshot?(): Promise<Blob>;
}

/** The logging surface the store needs; a pino logger fits it. */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface OpenDbOptions {
  /** `postgres://…` — PostgreSQL server mode. Secret: it holds the password. */
  url?: string;
  /** PGlite data directory, used when `url` is absent. Neither given → PGlite in memory. */
  dataDir?: string;
  /** @defaultValue `'public'` */
  schema?: string;
  /** @defaultValue 10 */
  poolSize?: number;
  logger?: StoreLogger;
  /** Fail a connection attempt after this long instead of hanging. @defaultValue 10000 */
  connectTimeoutMs?: number;
  /**
   * PGlite only: start from a `dumpDataDir()` snapshot instead of running initdb — about 0.6 s
   * instead of 2.5 s, which is what makes one fresh database per test affordable.
   */
  pgliteSnapshot?: Blob;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openDb(options: OpenDbOptions = {}): Promise<Db> {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema)) {
    // Interpolated into search_path and DDL, so only plain lower-case identifiers are allowed.
    throw new TypeError(`invalid schema name ${JSON.stringify(schema)}: expected ${SCHEMA_NAME.source}`);
  }
  return options.url === undefined ? openPglite(options, schema) : openPostgres(options.url, options, schema);
}

// ── PGlite ────────────────────────────────────────────────────────────────────────────────────────

const BYTEA_OID = 17;

function toByteaHex(value: unknown): string {
  if (!(value instanceof Uint8Array)) throw new TypeError('a bytea parameter must be a Uint8Array');
  return `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`;
}

async function openPglite(options: OpenDbOptions, schema: string): Promise<Db> {
  options.logger?.warn(
    { engine: 'pglite', dataDir: options.dataDir ?? '(memory)' },
    'PGlite issues no fsync: data it acknowledged can be lost in a crash or power failure. ' +
      'Use it for demos, tests and trials only; set database.url (DATABASE_URL) to a PostgreSQL server for production. ' +
      'One process per data directory.',
  );
  const init: ConstructorParameters<typeof PGlite>[0] = {
    // PGlite's own bytea codecs build hex one byte at a time in JS: 20 ms for a 120 kB payload,
    // most of an ingest. Node's native hex is ~100× faster, and parsing to a Buffer matches pg.
    serializers: { [BYTEA_OID]: (value: unknown) => toByteaHex(value) },
    parsers: { [BYTEA_OID]: (text: string) => Buffer.from(text.slice(2), 'hex') },
  };
  if (options.dataDir !== undefined) init.dataDir = options.dataDir;
  if (options.pgliteSnapshot !== undefined) init.loadDataDir = options.pgliteSnapshot;
  const lite = await PGlite.create(init);
  // PGlite is one session for the whole instance, so a plain SET holds for every later query.
  await lite.query(`SET search_path TO ${schema}`);
  let closed = false;

  const wrap = (q: Pick<PGlite, 'query' | 'exec'>, alive: () => boolean): Queryable => ({
    async query<R extends object>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      if (!alive()) throw new Error('database handle used after it was closed or its transaction ended');
      const res = await q.query<R>(sql, params === undefined ? undefined : [...params]);
      return { rows: res.rows, rowCount: res.affectedRows || res.rows.length };
    },
    async exec(sql: string): Promise<void> {
      if (!alive()) throw new Error('database handle used after it was closed or its transaction ended');
      await q.exec(sql);
    },
  });

  const base = wrap(lite, () => !closed);
  return {
    engine: 'pglite',
    schema,
    query: base.query,
    exec: base.exec,
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      if (closed) throw new Error('database handle used after it was closed');
      return lite.transaction(async (liteTx) => {
        let open = true;
        try {
          return await fn(wrap(liteTx, () => open));
        } finally {
          open = false;
        }
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await lite.close();
    },
    async snapshot(): Promise<Blob> {
      return lite.dumpDataDir('none');
    },
  };
}

// ── PostgreSQL server ─────────────────────────────────────────────────────────────────────────────

/** Settings without which a commit PostgreSQL acknowledged may not survive a crash (PG docs 19.5, 30.1). */
const DURABILITY_SETTINGS = [
  { name: 'fsync', unsafe: ['off'], expected: 'on' },
  { name: 'synchronous_commit', unsafe: ['off'], expected: 'on' },
  { name: 'full_page_writes', unsafe: ['off'], expected: 'on' },
] as const;

async function openPostgres(url: string, options: OpenDbOptions, schema: string): Promise<Db> {
  const secrets = connectionSecrets(url);
  const pool = new pg.Pool({
    connectionString: withSearchPath(url, schema),
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'govgate',
    types: { getTypeParser: typeParser } as unknown as pg.CustomTypesConfig,
  });
  // Without a listener an idle client's error (server restart, network cut) crashes the process.
  pool.on('error', (err) => {
    options.logger?.error({ err: sanitizeError(err, secrets) }, 'idle PostgreSQL connection failed');
  });

  const run = async <R extends object>(client: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[], name?: string) => {
    try {
      const values = params === undefined ? undefined : [...params];
      const res = name === undefined ? await client.query(sql, values) : await client.query({ name, text: sql, ...(values ? { values } : {}) });
      return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
    } catch (err) {
      throw classify(err, secrets);
    }
  };
  const execScript = async (client: pg.Pool | pg.PoolClient, sql: string): Promise<void> => {
    // Without parameters pg uses the simple query protocol, which accepts several statements.
    try {
      await client.query(sql);
    } catch (err) {
      throw classify(err, secrets);
    }
  };

  let closed = false;
  const db: Db = {
    engine: 'postgres',
    schema,
    query: (sql, params, opts) => {
      if (closed) return Promise.reject(new Error('database handle used after it was closed'));
      return run(pool, sql, params, opts?.name);
    },
    exec: (sql) => {
      if (closed) return Promise.reject(new Error('database handle used after it was closed'));
      return execScript(pool, sql);
    },
    async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
      if (closed) throw new Error('database handle used after it was closed');
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw classify(err, secrets);
      }
      let open = true;
      const guard = () => {
        if (!open) throw new Error('transaction handle used after its transaction ended');
      };
      const tx: Tx = {
        query: async (sql, params, opts) => (guard(), run(client, sql, params, opts?.name)),
        exec: async (sql) => (guard(), execScript(client, sql)),
      };
      try {
        await run(client, 'BEGIN');
        const result = await fn(tx);
        open = false;
        await run(client, 'COMMIT');
        client.release();
        return result;
      } catch (err) {
        open = false;
        try {
          await client.query('ROLLBACK');
          client.release();
        } catch {
          // The connection is in an unknown state: destroy it rather than hand it to the next caller.
          client.release(true);
        }
        throw err instanceof GovgateError || err instanceof DbError ? err : classify(err, secrets);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };

  try {
    await checkDurability(db, options.logger);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/**
 * Sets search_path as a startup parameter, so every pooled connection has it without an extra
 * round trip. It goes into the URL because pg lets values parsed from the URL override the config
 * object, and a URL may carry its own `options`.
 */
function withSearchPath(url: string, schema: string): string {
  const parsed = new URL(url);
  const existing = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${existing ? `${existing} ` : ''}-c search_path=${schema}`);
  return parsed.toString();
}

async function checkDurability(db: Db, logger: StoreLogger | undefined): Promise<void> {
  const names = [...DURABILITY_SETTINGS.map((s) => s.name), 'autovacuum'];
  const { rows } = await db.query<{ name: string; setting: string }>(
    'SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[])',
    [names],
  );
  // SHOW and pg_settings reflect per-role and per-database overrides for this session, which is
  // what our commits will actually run with.
  for (const s of DURABILITY_SETTINGS) {
    const found = rows.find((r) => r.name === s.name)?.setting;
    if (found !== undefined && (s.unsafe as readonly string[]).includes(found)) {
      throw new GovgateError('GOVGATE_DB_UNSAFE_SETTING', { setting: s.name, found, expected: s.expected });
    }
  }
  // Not a durability risk, so a warning: the outbox, record heads and nonces are rewritten all day
  // and bloat without vacuum, and without ANALYZE the planner keeps believing new tables are empty.
  if (rows.find((r) => r.name === 'autovacuum')?.setting === 'off') {
    logger?.warn(
      { setting: 'autovacuum', found: 'off', expected: 'on' },
      'autovacuum is off: the outbox, record heads and nonces will bloat and query statistics go stale; turn it on, or run VACUUM ANALYZE on a schedule (docs/storage.md)',
    );
  }
}

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${text} is beyond 2^53 and cannot be a JS number`);
  return n;
}

function typeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === 20 && format !== 'binary') return parseInt8;
  return (pg.types.getTypeParser as (oid: number, format?: string) => (value: string) => unknown)(oid, format);
}

// ── errors and secrets ────────────────────────────────────────────────────────────────────────────

/** A database error rebuilt from safe fields only; `code` is the SQLSTATE (or a Node errno name). */
export class DbError extends Error {
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  routine?: string;
  where?: string;
  syscall?: string;
  address?: string;
  port?: number;

  constructor(message: string) {
    super(message);
    this.name = 'DbError';
  }
}

const SAFE_STRING_FIELDS = [
  'code', 'severity', 'detail', 'hint', 'schema', 'table', 'column', 'constraint', 'routine', 'where', 'syscall', 'address',
] as const;

/** The literal strings that must never appear in an error or log line: the password, in both spellings. */
export function connectionSecrets(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GovgateError('GOVGATE_DB_URL_INVALID', {
      found: redactUrl(url),
      detail: '无法解析为 URL',
      detailEn: 'it cannot be parsed as a URL',
    });
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new GovgateError('GOVGATE_DB_URL_INVALID', {
      found: redactUrl(url),
      detail: '应以 postgres:// 开头',
      detailEn: 'it must start with postgres://',
    });
  }
  const secrets = new Set<string>();
  if (parsed.password !== '') {
    secrets.add(parsed.password);
    try {
      secrets.add(decodeURIComponent(parsed.password));
    } catch {
      // A malformed percent escape: the raw spelling is already covered.
    }
  }
  const queryPassword = parsed.searchParams.get('password');
  if (queryPassword) secrets.add(queryPassword);
  // Longest first, so a password that contains another secret is replaced whole.
  return [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; safe to log. */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&]password=)[^&#]*/gi, '$1***');
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/** Copies the allow-listed fields of a pg/Node error into a fresh DbError with secrets removed. */
export function sanitizeError(err: unknown, secrets: readonly string[]): DbError {
  const source = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const message = err instanceof Error ? err.message : String(err);
  const out = new DbError(scrub(message, secrets));
  for (const field of SAFE_STRING_FIELDS) {
    const value = source[field];
    if (typeof value === 'string') out[field] = scrub(value, secrets);
  }
  if (typeof source.port === 'number') out.port = source.port;
  return out;
}

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE',
]);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended/i;

/** Whether the failure is about reaching the server rather than about the statement. */
function isUnavailable(e: DbError): boolean {
  const code = e.code ?? '';
  return (
    code.startsWith('08') || // connection exception
    code === '57P01' || code === '57P02' || code === '57P03' || // shutdown, crash, starting up
    code === '53300' || // too many connections
    code === '28P01' || code === '28000' || // authentication: the server refuses us, nothing was stored
    UNAVAILABLE_ERRNO.has(code) ||
    (code === '' && UNAVAILABLE_MESSAGE.test(e.message))
  );
}

function classify(err: unknown, secrets: readonly string[]): Error {
  if (err instanceof GovgateError) return err;
  const clean = sanitizeError(err, secrets);
  return isUnavailable(clean) ? new GovgateError('GOVGATE_DB_UNAVAILABLE', { reason: clean.code ?? clean.message }, { cause: clean }) : clean;
}
