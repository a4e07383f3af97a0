/**
 * db-pull: incremental reads of a department table or view in PostgreSQL (`pg`) or MySQL/MariaDB
 * (`mysql2`), on read-only sessions. Two modes:
 *
 * - `cursor`: rows ordered by (update time, key). Each run starts an *overlap* behind the stored
 *   cursor and stops a *lag* before the source's own clock, so a transaction that commits late
 *   with an older timestamp, and rows sharing a timestamp across a page boundary, are read on a
 *   later run instead of being skipped (the kafka-connect-jdbc and NiFi losses). Rows re-read in
 *   the overlap are dropped by content digest (pull_seen) before ingest; a periodic sweep compares
 *   keys and digests over a window and takes anything the cursor missed.
 * - `flag` (前置库, front-end database): rows whose exchange flag is pending (SIGNSTATE = 0) are
 *   taken, stored, then flagged taken or failed (with the reason) in the source. The ledger
 *   (pull_ledger) commits with the data, so a crash between storing and flagging is repaired by
 *   the next run without taking the rows twice.
 *
 * Payload (what the raw inbox keeps and intake reads): a JSON array of the rows as objects, one
 * per row, values as the database printed them (timestamps, numerics and int8 as text, bytea as
 * base64) — the department's mapping turns them into records. Without a mapping the rows (or the
 * JSON column named by `recordColumn`) must be standard records, and they are wrapped in a batch
 * envelope. docs/pulling.md shows both.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { GovgateError } from '../../errors.js';
import { SPEC_VERSION } from '../../schemas/spec/index.js';
import type { SchemaNode } from '../../config/schema.js';
import type { CheckResult, JsonValue, LedgerEntry, PullAdapter, PullAdapterContext, PullAdapterSpec, PullKind, PullRun, SeenRow } from '../types.js';
import { aborted, formatTime, secretPair, secretProblems, secretValue, shiftTimestampText, sourceFailure, type OptionProblem } from './common.js';

// ── options ──────────────────────────────────────────────────────────────────────────────────────

export interface DbPullOptions {
  readonly driver: 'postgres' | 'mysql';
  readonly connection: {
    readonly host: string;
    readonly port?: number;
    readonly database: string;
    readonly user: string;
    readonly password?: string;
    readonly passwordEnv?: string;
    readonly ssl: boolean;
    readonly connectTimeoutMs: number;
    readonly statementTimeoutMs: number;
  };
  readonly table: string;
  readonly columns?: readonly string[];
  readonly keyColumns: readonly string[];
  readonly columnCase: 'as-is' | 'upper' | 'lower';
  readonly recordColumn?: string;
  readonly mode: 'cursor' | 'flag';
  readonly cursor?: {
    readonly column: string;
    readonly lagSeconds: number;
    readonly overlapSeconds: number;
    readonly start?: string;
  };
  readonly flag?: {
    readonly column: string;
    readonly pending: string;
    readonly taken: string;
    readonly failed: string;
    readonly versionColumn?: string;
    readonly orderColumn?: string;
    readonly reasonColumn?: string;
    readonly reasonMaxLength: number;
    readonly takenAtColumn?: string;
  };
  readonly sweep?: { readonly schedule: string; readonly windowHours: number };
  readonly batchSize: number;
  readonly maxRowsPerRun: number;
  readonly timeOffset: string;
}

const IDENT = '^[A-Za-z_][A-Za-z0-9_$]{0,62}$';
const QUALIFIED = '^[A-Za-z_][A-Za-z0-9_$]{0,62}(\\.[A-Za-z_][A-Za-z0-9_$]{0,62})?$';
const ident = (doc: { zh: string; en: string }, example: string): SchemaNode => ({ type: 'string', pattern: IDENT, minLength: 1, maxLength: 63, examples: [example], 'x-doc': doc });
const identList = (doc: { zh: string; en: string }, example: string[], max: number): SchemaNode => ({
  type: 'array', minItems: 1, maxItems: max, uniqueItems: true, examples: [example], 'x-doc': doc,
  items: { type: 'string', pattern: IDENT, minLength: 1, maxLength: 63, 'x-doc': { zh: '列名', en: 'Column name' } },
});

const optionsSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['driver', 'connection', 'table', 'keyColumns'],
  'x-doc': { zh: 'db-pull 选项', en: 'db-pull options' },
  properties: {
    driver: {
      type: 'string', enum: ['postgres', 'mysql'], examples: ['mysql'],
      'x-doc': { zh: '数据库类型：postgres（PostgreSQL）或 mysql（MySQL、MariaDB）。', en: 'Database: postgres (PostgreSQL) or mysql (MySQL, MariaDB).' },
    },
    connection: {
      type: 'object', additionalProperties: false, required: ['host', 'database', 'user'],
      'x-doc': { zh: '连接参数（以只读会话连接）', en: 'Connection (opened as read-only sessions)' },
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 255, examples: ['10.12.0.31'], 'x-doc': { zh: '主机名或地址。', en: 'Host name or address.' } },
        port: {
          type: 'integer', minimum: 1, maximum: 65535, examples: [3306],
          'x-default-doc': { zh: 'postgres 为 5432，mysql 为 3306', en: '5432 for postgres, 3306 for mysql' },
          'x-doc': { zh: '端口。', en: 'Port.' },
        },
        database: { type: 'string', minLength: 1, maxLength: 128, examples: ['qzk'], 'x-doc': { zh: '数据库名。', en: 'Database name.' } },
        user: { type: 'string', minLength: 1, maxLength: 128, examples: ['govgate_reader'], 'x-doc': { zh: '用户名；应只有所需表的 SELECT 权限（前置库模式另需标记列的 UPDATE 权限）。', en: 'User; grant it SELECT on the table only (flag mode: plus UPDATE on the flag columns).' } },
        ...secretPair('password', { zh: '数据库密码', en: 'Database password' }, 'GOVGATE_QZK_PASSWORD'),
        ssl: { type: 'boolean', default: false, examples: [true], 'x-doc': { zh: '是否使用 TLS（校验服务器证书）。', en: 'Use TLS (the server certificate is verified).' } },
        connectTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000, examples: [10_000], 'x-doc': { zh: '连接超时（毫秒）。', en: 'Connect timeout in ms.' } },
        statementTimeoutMs: { type: 'integer', minimum: 100, maximum: 3_600_000, default: 60_000, examples: [60_000], 'x-doc': { zh: '单条查询的时限（毫秒）。', en: 'Time limit of one query in ms.' } },
      },
    },
    table: {
      type: 'string', pattern: QUALIFIED, minLength: 1, maxLength: 127, examples: ['EA_JC_STEP_BASEINFO'],
      'x-doc': {
        zh: '表或视图名，可带 schema（schema.table）。名称按原样加引号，区分大小写：PostgreSQL 中未加引号创建的名称为小写。',
        en: 'Table or view, optionally schema.table. Names are quoted as written and case-sensitive: in PostgreSQL a name created without quotes is lower case.',
      },
    },
    columns: identList({ zh: '读取的列（默认全部列）。', en: 'Columns to read (default: all).' }, ['PROJID', 'DATAVER', 'APPLYNAME'], 500),
    keyColumns: identList({ zh: '唯一键列（1–4 列），与更新时间一起决定读取顺序；前置库模式下标识一行（不含数据版本列）。', en: 'Unique key columns (1–4); with the update time they order the reads; in flag mode they identify a row (without the data-version column).' }, ['PROJID'], 4),
    columnCase: {
      type: 'string', enum: ['as-is', 'upper', 'lower'], default: 'as-is', examples: ['upper'],
      'x-doc': { zh: '记录中列名的大小写：as-is 原样，upper 转大写（便于套用 EA_JC 等大写字段的映射），lower 转小写。', en: 'Case of the column names in the records: as-is, upper (to reuse mappings written for upper-case EA_JC columns) or lower.' },
    },
    recordColumn: ident({ zh: '（无字段映射时）保存标准记录 JSON 的列；不设置时整行即记录。', en: '(Without a mapping) the column holding the standard record as JSON; without it the row is the record.' }, 'record_json'),
    mode: {
      type: 'string', enum: ['cursor', 'flag'], default: 'cursor', examples: ['flag'],
      'x-doc': { zh: 'cursor：按（更新时间，键）增量读取；flag：前置库标记模式（读取待交换标记的行，保存后回写已取/失败）。', en: 'cursor: incremental by (update time, key); flag: front-end database mode (take rows flagged pending, flag them taken/failed once stored).' },
    },
    cursor: {
      type: 'object', additionalProperties: false, required: ['column'],
      'x-doc': { zh: '游标模式', en: 'Cursor mode' },
      properties: {
        column: ident({ zh: '更新时间列（每次插入或修改时更新；应有索引 (更新时间, 键)）。', en: 'Update-time column (set on every insert and update; index (update time, key)).' }, 'UPDATE_TIME'),
        lagSeconds: {
          type: 'integer', minimum: 0, maximum: 86_400, default: 60, examples: [60],
          'x-doc': { zh: '只读取更新时间早于数据源当前时间减此秒数的行；应大于数据源最长事务的时长，晚提交的行因此不会被跳过。', en: 'Only rows whose update time is older than the source\'s clock minus this many seconds are read; make it longer than the source\'s longest transaction so late commits are not skipped.' },
        },
        overlapSeconds: {
          type: 'integer', minimum: 0, maximum: 604_800, default: 300, examples: [300],
          'x-doc': { zh: '每次从游标之前这么多秒开始重读；重读到的未变行按内容摘要丢弃，迟到的行被补上。', en: 'Each run re-reads from this many seconds before the cursor; unchanged rows are dropped by content digest and late rows are caught.' },
        },
        start: {
          type: 'string', minLength: 10, maxLength: 40, examples: ['2026-01-01 00:00:00'],
          'x-default-doc': { zh: '从最早的行开始', en: 'from the oldest row' },
          'x-doc': { zh: '首次运行的起点（数据源的时间文本）。', en: 'Where the first run starts (a time as the source prints it).' },
        },
      },
    },
    flag: {
      type: 'object', additionalProperties: false,
      'x-doc': { zh: '前置库标记模式', en: 'Flag (front-end database) mode' },
      properties: {
        column: { ...ident({ zh: '交换状态标志列。', en: 'Exchange flag column.' }, 'SIGNSTATE'), default: 'SIGNSTATE' },
        pending: { type: 'string', minLength: 1, maxLength: 16, default: '0', examples: ['0'], 'x-doc': { zh: '待交换的标志值。', en: 'Flag value of rows waiting to be taken.' } },
        taken: { type: 'string', minLength: 1, maxLength: 16, default: '1', examples: ['1'], 'x-doc': { zh: '已成功接收后回写的标志值。', en: 'Flag value written once a row is stored and accepted.' } },
        failed: { type: 'string', minLength: 1, maxLength: 16, default: '2', examples: ['2'], 'x-doc': { zh: '被拒收后回写的标志值。', en: 'Flag value written when a row was rejected.' } },
        versionColumn: ident({ zh: '数据版本列（重报时递增，如 DATAVER）；与键一起标识一次上报。', en: 'Data version column (bumped on re-report, e.g. DATAVER); with the key it identifies one report.' }, 'DATAVER'),
        orderColumn: ident({ zh: '读取顺序列（如 MAKETIME）；不设置时按键排序。', en: 'Column to read in order of (e.g. MAKETIME); by key when absent.' }, 'MAKETIME'),
        reasonColumn: ident({ zh: '回写拒收原因的列（如 EXT1）。', en: 'Column that receives the rejection reason (e.g. EXT1).' }, 'EXT1'),
        reasonMaxLength: { type: 'integer', minimum: 10, maximum: 4000, default: 800, examples: [800], 'x-doc': { zh: '拒收原因的最大长度（字符）；前置库的列常为 800。', en: 'Longest rejection reason written, in characters; front-end columns are often 800.' } },
        takenAtColumn: ident({ zh: '回写处理时间的列（如 SYNCTIME）。', en: 'Column that receives the time the row was handled (e.g. SYNCTIME).' }, 'SYNCTIME'),
      },
    },
    sweep: {
      type: 'object', additionalProperties: false, required: ['schedule'],
      'x-doc': { zh: '对账扫描（仅游标模式）：定期比较窗口内数据源各行的键与摘要，补取遗漏的行。', en: 'Sweep (cursor mode only): periodically compares keys and digests of the source rows in a window and takes any row the cursor missed.' },
      properties: {
        schedule: { type: 'string', minLength: 1, maxLength: 128, examples: ['30 2 * * *'], 'x-doc': { zh: '扫描计划（cron 表达式）。', en: 'Sweep schedule (cron expression).' } },
        windowHours: { type: 'integer', minimum: 1, maximum: 24 * 90, default: 24, examples: [48], 'x-doc': { zh: '扫描最近多少小时内更新的行。', en: 'Hours of updates the sweep covers.' } },
      },
    },
    batchSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 500, examples: [500], 'x-doc': { zh: '每次查询和每个报文的行数；不应超过 limits.maxRecordsPerBatch。', en: 'Rows per query and per payload; keep it within limits.maxRecordsPerBatch.' } },
    maxRowsPerRun: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 100_000, examples: [100_000], 'x-doc': { zh: '单次运行最多读取的行数；其余留待下次运行（游标保证不丢）。', en: 'Most rows one run reads; the rest wait for the next run (the cursor keeps them).' } },
    timeOffset: { type: 'string', pattern: '^[+-][0-9]{2}:[0-9]{2}$', default: '+08:00', examples: ['+08:00'], 'x-doc': { zh: '补取（--since/--until）时把时间换算为数据源本地时间所用的时区偏移。', en: 'Offset used to turn backfill times (--since/--until) into the source\'s local time.' } },
  },
};

function validate(o: DbPullOptions, env: NodeJS.ProcessEnv): OptionProblem[] {
  const out: OptionProblem[] = [...secretProblems(o.connection as unknown as Record<string, unknown>, 'password', env, false, 'connection')];
  if (o.mode === 'cursor' && o.cursor === undefined) out.push({ path: 'cursor', zh: '游标模式须给出 cursor.column（更新时间列）', en: 'cursor mode needs cursor.column (the update-time column)' });
  if (o.mode === 'flag' && o.sweep !== undefined) out.push({ path: 'sweep', zh: '对账扫描只用于游标模式；前置库模式以标志列为准', en: 'the sweep is for cursor mode only; in flag mode the flag column is the state' });
  if (o.mode === 'cursor' && o.flag !== undefined) out.push({ path: 'flag', zh: 'flag 只用于 mode: flag', en: 'flag is for mode: flag only' });
  return out;
}

// ── source connections ───────────────────────────────────────────────────────────────────────────

type Row = Record<string, unknown>;

interface Sql {
  readonly text: string;
  readonly params: unknown[];
}

interface SourceDb {
  readonly dialect: 'postgres' | 'mysql';
  query(sql: Sql): Promise<Row[]>;
  /** Statements in one READ WRITE transaction (flag mode's only writes); row counts. */
  write(statements: readonly Sql[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Text, not JS values, for the types whose JS form loses information or depends on the zone. */
const PG_TEXT_TYPES = new Set([20, 1082, 1083, 1114, 1184, 1186, 1266, 1700]);

async function openSource(o: DbPullOptions, password: string | undefined): Promise<SourceDb> {
  const c = o.connection;
  if (o.driver === 'postgres') {
    const pool = new pg.Pool({
      host: c.host, port: c.port ?? 5432, database: c.database, user: c.user,
      ...(password === undefined ? {} : { password }),
      max: 2,
      connectionTimeoutMillis: c.connectTimeoutMs,
      application_name: `govgate-pull@${hostname()}`,
      ...(c.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
      // Read-only by default for the whole session; flag mode's writes say READ WRITE explicitly.
      options: `-c default_transaction_read_only=on -c statement_timeout=${c.statementTimeoutMs}`,
      types: {
        getTypeParser: ((oid: number, format?: string) => (PG_TEXT_TYPES.has(oid) ? (v: string) => v : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format))) as never,
      },
    });
    // An idle client's error (server restart) must not crash the gateway.
    pool.on('error', () => undefined);
    return {
      dialect: 'postgres',
      async query(sql) {
        const res = await pool.query(sql.text, sql.params);
        return res.rows as Row[];
      },
      async write(statements) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN READ WRITE');
          const counts: number[] = [];
          for (const s of statements) counts.push((await client.query(s.text, s.params)).rowCount ?? 0);
          await client.query('COMMIT');
          client.release();
          return counts;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          client.release(true);
          throw err;
        }
      },
      close: () => pool.end(),
    };
  }
  // mysql2 is loaded only by gateways that pull from MySQL.
  const mysql = await import('mysql2/promise');
  const pool = mysql.createPool({
    host: c.host, port: c.port ?? 3306, database: c.database, user: c.user,
    ...(password === undefined ? {} : { password }),
    connectionLimit: 2,
    connectTimeout: c.connectTimeoutMs,
    // Text, as the database prints it: no Date objects shifted by the gateway's zone, no lost digits.
    dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, decimalNumbers: false,
    charset: 'utf8mb4',
    ...(c.ssl ? { ssl: { rejectUnauthorized: true } } : {}),
  });
  (pool as unknown as { pool: { on(e: string, f: (conn: { query(sql: string): void }) => void): void } }).pool.on('connection', (conn) => {
    conn.query('SET SESSION TRANSACTION READ ONLY');
  });
  return {
    dialect: 'mysql',
    async query(sql) {
      const [rows] = await pool.query({ sql: sql.text, values: sql.params, timeout: c.statementTimeoutMs });
      return rows as Row[];
    },
    async write(statements) {
      const conn = await pool.getConnection();
      try {
        await conn.query('START TRANSACTION READ WRITE');
        const counts: number[] = [];
        for (const s of statements) {
          const [res] = await conn.query({ sql: s.text, values: s.params, timeout: c.statementTimeoutMs });
          counts.push((res as { affectedRows?: number }).affectedRows ?? 0);
        }
        await conn.query('COMMIT');
        conn.release();
        return counts;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        conn.release();
        throw err;
      }
    },
    close: () => pool.end(),
  };
}

/** Builds SQL with the dialect's placeholders, parameters in order of appearance. */
class Q {
  readonly params: unknown[] = [];
  constructor(readonly dialect: 'postgres' | 'mysql') {}
  p(v: unknown): string {
    this.params.push(v);
    return this.dialect === 'postgres' ? `$${this.params.length}` : '?';
  }
  id(name: string): string {
    // Names passed the schema's pattern (letters, digits, _ and $), so quoting cannot be escaped.
    return name.split('.').map((part) => (this.dialect === 'postgres' ? `"${part}"` : `\`${part}\``)).join('.');
  }
  sql(text: string): Sql {
    return { text, params: this.params };
  }
}

// ── rows → payloads ──────────────────────────────────────────────────────────────────────────────

const BEYOND = '__gg_beyond';

function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** The row as it goes into the payload: column names in the configured case, values as text-safe JSON. */
function cleanRow(row: Row, columnCase: DbPullOptions['columnCase']): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === BEYOND) continue;
    const name = columnCase === 'upper' ? k.toUpperCase() : columnCase === 'lower' ? k.toLowerCase() : k;
    // Plain assignment is several times faster than defineProperty (bench/pull.js profile); only
    // a column literally named __proto__ needs the latter to stay an ordinary key.
    if (name === '__proto__') Object.defineProperty(out, name, { value: plain(v), enumerable: true, writable: true, configurable: true });
    else out[name] = plain(v);
  }
  return out;
}

/**
 * Digest of a row as read. JSON.stringify, not canonical JSON: the source returns the columns in
 * the same order every time, so the text is already deterministic, at a third of the cost. (A
 * column added to the table changes every digest once: the rows are offered again and the store
 * reports them unchanged.)
 */
function digestOf(rowJson: string): string {
  return createHash('sha256').update(rowJson).digest('hex');
}

function keyText(row: Row, keys: readonly string[]): string {
  const values = keys.map((k) => plain(row[k]));
  return values.length === 1 ? String(values[0]) : JSON.stringify(values);
}

interface Cursor {
  /** The update time of the last row taken, as the source printed it. */
  readonly t: string;
  /** Its key values. */
  readonly k: JsonValue[];
}

function isCursor(v: JsonValue | undefined): v is { t: string; k: JsonValue[] } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.t === 'string' && Array.isArray(v.k);
}

// ── the adapter ──────────────────────────────────────────────────────────────────────────────────

class DbPull implements PullAdapter {
  readonly kind = 'db-pull';
  readonly sweepSchedule?: string;
  private source?: Promise<SourceDb>;
  private readonly password: string | undefined;

  constructor(readonly name: string, private readonly o: DbPullOptions, private readonly ctx: PullAdapterContext) {
    this.password = secretValue(o.connection as unknown as Record<string, unknown>, 'password', ctx.env);
    if (o.mode === 'cursor' && o.sweep !== undefined) this.sweepSchedule = o.sweep.schedule;
  }

  private db(): Promise<SourceDb> {
    this.source ??= openSource(this.o, this.password).catch((err: unknown) => {
      this.source = undefined;
      throw err;
    });
    return this.source;
  }

  private fail(err: unknown): GovgateError {
    return sourceFailure(this.name, err, this.password === undefined ? [] : [this.password]);
  }

  private selectList(q: Q): string {
    const o = this.o;
    if (o.columns === undefined) return '*';
    const needed = new Set(o.columns);
    for (const k of o.keyColumns) needed.add(k);
    if (o.cursor !== undefined) needed.add(o.cursor.column);
    if (o.flag?.versionColumn !== undefined) needed.add(o.flag.versionColumn);
    return [...needed].map((c) => q.id(c)).join(', ');
  }

  async check(): Promise<CheckResult> {
    const o = this.o;
    try {
      const db = await this.db();
      const q = new Q(db.dialect);
      const cols = [...o.keyColumns, ...(o.cursor === undefined ? [] : [o.cursor.column]), ...(o.mode === 'flag' && o.flag !== undefined ? [o.flag.column] : [])];
      await db.query(q.sql(`SELECT ${cols.map((c) => q.id(c)).join(', ')} FROM ${q.id(o.table)} WHERE 1 = 0`));
      const ro = await db.query({ text: db.dialect === 'postgres' ? 'SHOW transaction_read_only' : 'SELECT @@session.transaction_read_only AS ro', params: [] }).catch(() => []);
      return {
        ok: true,
        message: { zh: `可以连接 ${o.driver} 并读取 ${o.table}`, en: `connected to ${o.driver} and can read ${o.table}` },
        detail: { table: o.table, mode: o.mode, readOnlySession: ro[0] === undefined ? 'unknown' : String(Object.values(ro[0])[0]) },
      };
    } catch (err) {
      const e = this.fail(err);
      return { ok: false, message: e.messages, detail: { code: e.code } };
    }
  }

  async run(run: PullRun): Promise<void> {
    try {
      if (this.o.mode === 'flag') await this.runFlag(run);
      else await this.runCursor(run, 'run');
    } catch (err) {
      throw this.fail(err);
    }
  }

  async sweep(run: PullRun): Promise<void> {
    try {
      await this.runCursor(run, 'sweep');
    } catch (err) {
      throw this.fail(err);
    }
  }

  async close(): Promise<void> {
    const s = this.source;
    this.source = undefined;
    // A pool whose connections failed (wrong password) may fail to end as well: nothing is left to close.
    if (s !== undefined) await (await s.catch(() => undefined))?.close().catch(() => undefined);
  }

  /** The payload of a page: rows for a mapping, or a batch envelope of standard records. */
  /** `texts`, when given, are the rows already serialised (same order): reused as the body. */
  private payload(run: PullRun, rows: readonly Row[], page: number, texts?: readonly string[]) {
    const batchId = `${this.name}-${run.startedAt.getTime().toString(36)}-${page}`;
    if (this.ctx.department.mapping !== undefined && texts !== undefined) {
      return { raw: { body: Buffer.from(`[${texts.join(',')}]`, 'utf8'), contentType: 'application/json; charset=utf-8' }, batchId };
    }
    let doc: unknown = rows;
    if (this.ctx.department.mapping === undefined) {
      const col = this.o.recordColumn;
      const records = col === undefined ? rows : rows.map((r) => (typeof r[col] === 'string' ? JSON.parse(r[col] as string) as unknown : r[col]));
      doc = { specVersion: SPEC_VERSION, batchId, senderDept: this.ctx.department.code, sentAt: new Date().toISOString(), records };
    }
    return { raw: { body: Buffer.from(JSON.stringify(doc), 'utf8'), contentType: 'application/json; charset=utf-8' }, batchId };
  }

  // ── cursor mode ────────────────────────────────────────────────────────────────────────────────

  private async runCursor(run: PullRun, mode: 'run' | 'sweep'): Promise<void> {
    const o = this.o;
    const c = o.cursor!;
    const db = await this.db();
    const t = c.column;
    const keys = o.keyColumns;
    const order = [t, ...keys];
    const stored = isCursor(run.cursor) ? run.cursor : undefined;

    // Where this run starts: the stored cursor less the overlap, the backfill range, or the window
    // of a sweep. Bounds are passed as text and compared by the source in the column's own type.
    let lower: string | undefined;
    let upper: string | undefined;
    let lowerFromClock: number | undefined;
    if (run.window !== undefined) {
      if (run.window.since !== undefined) lower = `${formatTime(run.window.since, 'yyyy-MM-dd HH:mm:ss', o.timeOffset)}${db.dialect === 'postgres' ? o.timeOffset : ''}`;
      if (run.window.until !== undefined) upper = `${formatTime(run.window.until, 'yyyy-MM-dd HH:mm:ss', o.timeOffset)}${db.dialect === 'postgres' ? o.timeOffset : ''}`;
    } else if (mode === 'sweep') {
      lowerFromClock = o.sweep!.windowHours * 3600;
    } else if (stored !== undefined) {
      lower = c.overlapSeconds === 0 ? stored.t : shiftTimestampText(stored.t, -c.overlapSeconds);
    } else if (c.start !== undefined) {
      lower = c.start;
    }

    let page = 0;
    let read = 0;
    let missing = 0;
    let changed = 0;
    /** One page query, keyset-continued after `after` (the last row of the previous page). */
    const fetchPage = async (after: Row | undefined, limit: number): Promise<Row[]> => {
      const q = new Q(db.dialect);
      // Parameters are numbered in the order q.p() is called, which for MySQL's `?` must be the
      // order they appear in the text: the select list first, then WHERE.
      // Whether each row lies beyond the stored cursor, decided by the source with its own
      // collation: only such rows may move the cursor (rows in the overlap lie behind it).
      const beyond = stored === undefined || mode === 'sweep' || run.window !== undefined
        ? 'TRUE'
        : `(${order.map((col) => q.id(col)).join(', ')}) > (${[stored.t, ...stored.k].map((v) => q.p(v)).join(', ')})`;
      const where: string[] = [];
      const now = db.dialect === 'postgres' ? 'clock_timestamp()' : 'NOW(6)';
      const minus = (secs: number) => (db.dialect === 'postgres' ? `${now} - make_interval(secs => ${q.p(secs)})` : `DATE_SUB(${now}, INTERVAL ${q.p(secs)} SECOND)`);
      // Rows younger than the lag may belong to transactions still open: they wait for a later run.
      if (upper === undefined) where.push(`${q.id(t)} <= ${minus(c.lagSeconds)}`);
      else where.push(`${q.id(t)} <= ${q.p(upper)}`);
      if (after !== undefined) {
        // Keyset paging: strictly after the last row of the previous page, in (time, key) order,
        // so rows sharing a timestamp are neither skipped nor repeated across pages.
        where.push(`(${order.map((col) => q.id(col)).join(', ')}) > (${order.map((col) => q.p(after[col])).join(', ')})`);
      } else if (lower !== undefined) {
        where.push(`${q.id(t)} >= ${q.p(lower)}`);
      } else if (lowerFromClock !== undefined) {
        where.push(`${q.id(t)} >= ${minus(lowerFromClock)}`);
      }
      return db.query(q.sql(
        `SELECT ${this.selectList(q)}, ${beyond} AS ${BEYOND} FROM ${q.id(o.table)} WHERE ${where.join(' AND ')} ` +
        `ORDER BY ${order.map((col) => q.id(col)).join(', ')} LIMIT ${Number(limit)}`));
    };

    let limit = Math.min(o.batchSize, o.maxRowsPerRun);
    let storing: Promise<unknown> | undefined;
    let next: Promise<Row[]> | undefined = limit > 0 ? fetchPage(undefined, limit) : undefined;
    next?.catch(() => undefined); // awaited below; never an unhandled rejection
    while (next !== undefined) {
      if (run.signal.aborted) throw aborted(this.name);
      const rows = await next;
      next = undefined;
      if (rows.length === 0) break;
      read += rows.length;
      page++;
      const last = rows[rows.length - 1]!;
      // The next page is read while this one is digested and stored: the source query and the
      // ingest transaction overlap instead of taking turns (bench/pull.js: the run was idle a third
      // of the time waiting for one or the other).
      const pageLimit = limit;
      limit = Math.min(o.batchSize, o.maxRowsPerRun - read);
      if (rows.length === pageLimit && limit > 0) {
        next = fetchPage(last, limit);
        next.catch(() => undefined); // awaited on the next turn; never an unhandled rejection
      }

      const cleaned = rows.map((r) => cleanRow(r, o.columnCase));
      // Each row is serialised once: the text is both what is digested and what the payload holds.
      const texts = cleaned.map((r) => JSON.stringify(r));
      const digests = texts.map(digestOf);
      const keyTexts = rows.map((r) => keyText(r, keys));
      const known = await run.seenDigests(keyTexts);
      const take: Row[] = [];
      const takeTexts: string[] = [];
      const seen: SeenRow[] = [];
      rows.forEach((r, i) => {
        const have = known.get(keyTexts[i]!);
        if (have === digests[i]) return;
        if (have === undefined) missing++;
        else changed++;
        take.push(cleaned[i]!);
        takeTexts.push(texts[i]!);
        seen.push({ key: keyTexts[i]!, digest: digests[i]!, time: String(plain(r[t])) });
      });
      run.skipped(rows.length - take.length);

      const lastBeyond = last[BEYOND] === true || last[BEYOND] === 1 || last[BEYOND] === '1';
      const moveTo: JsonValue | undefined = mode === 'run' && run.window === undefined && lastBeyond
        ? { t: String(plain(last[t])), k: keys.map((k) => plain(last[k]) as JsonValue) } satisfies Cursor
        : undefined;
      if (take.length > 0) {
        // Handed over at once: its intake runs now, its commit after the previous page's. At most
        // one page waits to commit, so a slow database holds back reading instead of memory growing.
        const emitted = run.emit(this.payload(run, take, page, takeTexts), { seen, ...(moveTo === undefined ? {} : { cursor: moveTo }) });
        emitted.catch(() => undefined); // awaited below or on the next turn
        if (storing !== undefined) await storing;
        storing = emitted;
      } else if (moveTo !== undefined) {
        await run.saveCursor(moveTo);
      }
    }
    if (storing !== undefined) await storing;
    if (mode === 'sweep') {
      // Rows a sweep had to take were missed by the cursor: lag or overlap are too small for this
      // source (or rows were written with old timestamps). Said loudly, and kept with the run.
      run.note({ sweepMissing: missing, sweepChanged: changed });
      if (missing + changed > 0) {
        this.ctx.logger.warn({ adapter: this.name, missing, changed }, 'sweep found rows the cursor missed: consider a longer lagSeconds or overlapSeconds');
      }
    }
  }

  // ── flag (前置库) mode ─────────────────────────────────────────────────────────────────────────

  private itemKey(row: Row): string {
    const v = this.o.flag?.versionColumn;
    return v === undefined ? keyText(row, this.o.keyColumns) : `${keyText(row, this.o.keyColumns)}@${String(plain(row[v]))}`;
  }

  /** One report per row: key columns, and the version column when there is one. */
  private rowIdentity(itemKey: string): unknown[] {
    const f = this.o.flag!;
    const at = f.versionColumn === undefined ? itemKey.length : itemKey.lastIndexOf('@');
    const keyPart = itemKey.slice(0, at);
    const keys = this.o.keyColumns.length === 1 ? [keyPart] : (JSON.parse(keyPart) as unknown[]);
    return f.versionColumn === undefined ? keys : [...keys, itemKey.slice(at + 1)];
  }

  /** The second step: flag rows taken or failed in the source. Only rows still pending are touched. */
  private async flagRows(db: SourceDb, entries: readonly LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const o = this.o;
    const f = o.flag!;
    const idCols = [...o.keyColumns, ...(f.versionColumn === undefined ? [] : [f.versionColumn])];
    const statements: Sql[] = [];
    const set = (q: Q, value: string, reason?: string) => {
      const parts = [`${q.id(f.column)} = ${q.p(value)}`];
      if (f.reasonColumn !== undefined) parts.push(`${q.id(f.reasonColumn)} = ${q.p(reason === undefined ? null : [...reason].slice(0, f.reasonMaxLength).join(''))}`);
      if (f.takenAtColumn !== undefined) parts.push(`${q.id(f.takenAtColumn)} = ${db.dialect === 'postgres' ? 'clock_timestamp()' : 'NOW(6)'}`);
      return parts.join(', ');
    };
    const taken = entries.filter((e) => e.outcome === 'accepted');
    if (taken.length > 0) {
      const q = new Q(db.dialect);
      // In text order (MySQL placeholders are positional): SET, the pending flag, the tuples.
      const s = set(q, f.taken);
      const pending = q.p(f.pending);
      const tuples = taken.map((e) => `(${this.rowIdentity(e.itemKey).map((v) => q.p(v)).join(', ')})`).join(', ');
      statements.push(q.sql(`UPDATE ${q.id(o.table)} SET ${s} WHERE ${q.id(f.column)} = ${pending} AND (${idCols.map((c) => q.id(c)).join(', ')}) IN (${tuples})`));
    }
    // Each rejected row gets its own reason.
    for (const e of entries.filter((x) => x.outcome === 'rejected')) {
      const q = new Q(db.dialect);
      const s = set(q, f.failed, e.reason);
      const ids = this.rowIdentity(e.itemKey);
      statements.push(q.sql(`UPDATE ${q.id(o.table)} SET ${s} WHERE ${q.id(f.column)} = ${q.p(f.pending)} AND ${idCols.map((c, i) => `${q.id(c)} = ${q.p(ids[i])}`).join(' AND ')}`));
    }
    try {
      await db.write(statements);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new GovgateError('GOVGATE_PULL_SOURCE_ACK_FAILED', { adapter: this.name, detail }, { cause: err });
    }
  }

  private async runFlag(run: PullRun): Promise<void> {
    const o = this.o;
    const f = o.flag ?? { column: 'SIGNSTATE', pending: '0', taken: '1', failed: '2', reasonMaxLength: 800 };
    const db = await this.db();

    // 1. Finish what a previous run stored but could not flag (it crashed, or the source refused
    //    the UPDATE): those rows are in the ledger and must not be taken again.
    const pendingAcks = await run.ledger.unacked();
    if (pendingAcks.length > 0) {
      await this.flagRows(db, pendingAcks);
      await run.ledger.ack(pendingAcks);
      run.note({ flagsRepaired: pendingAcks.length });
    }

    let read = 0;
    let page = 0;
    for (;;) {
      if (run.signal.aborted) throw aborted(this.name);
      const limit = Math.min(o.batchSize, o.maxRowsPerRun - read);
      if (limit <= 0) break;
      const q = new Q(db.dialect);
      const order = [...(f.orderColumn === undefined ? [] : [f.orderColumn]), ...o.keyColumns, ...(f.versionColumn === undefined ? [] : [f.versionColumn])];
      const rows = await db.query(q.sql(
        `SELECT ${this.selectList(q)} FROM ${q.id(o.table)} WHERE ${q.id(f.column)} = ${q.p(f.pending)} ` +
        `ORDER BY ${order.map((c) => q.id(c)).join(', ')} LIMIT ${Number(limit)}`));
      if (rows.length === 0) break;
      read += rows.length;
      page++;

      // The flag column itself is not content: a row re-flagged 0 by the department without a
      // change must digest the same.
      const cleaned = rows.map((r) => {
        const { [f.column]: _flag, ...rest } = r;
        return cleanRow(rest, o.columnCase);
      });
      const digests = cleaned.map((r) => digestOf(JSON.stringify(r)));
      const itemKeys = rows.map((r) => this.itemKey(r));
      const ledger = await run.ledger.lookup(itemKeys);

      // 2. Rows already in the ledger were stored by an earlier run: flag them again, never ingest.
      const again: LedgerEntry[] = [];
      const take: { row: Row; itemKey: string; digest: string }[] = [];
      rows.forEach((_, i) => {
        const hit = ledger.get(`${itemKeys[i]} ${digests[i]}`);
        if (hit !== undefined) again.push(hit);
        else take.push({ row: cleaned[i]!, itemKey: itemKeys[i]!, digest: digests[i]! });
      });
      run.skipped(again.length);

      // 3. Store the new ones; their ledger entries commit in the same transaction.
      let stored: LedgerEntry[] = [];
      if (take.length > 0) {
        await run.emit(this.payload(run, take.map((x) => x.row), page), {
          ledger: (receipt) => {
            stored = receipt.records.map((r) => {
              const item = take[r.index]!;
              const bad = r.outcome === 'rejected' || r.outcome === 'stale';
              const first = r.findings.find((x) => x.severity === 'error');
              return {
                itemKey: item.itemKey, digest: item.digest, outcome: bad ? 'rejected' : 'accepted', receiptId: receipt.receiptId,
                ...(bad ? { reason: first === undefined ? r.outcome : `${first.code} ${first.path}: ${first.message.zh}` } : {}),
              } satisfies LedgerEntry;
            });
            return stored;
          },
        });
      }

      // 4. Then flag them in the source, and note that the hand-shake is complete.
      const handled = [...again, ...stored];
      await this.flagRows(db, handled);
      await run.ledger.ack(handled.filter((e) => e.acked !== true));
      if (rows.length < limit) break;
    }
  }
}

export const dbPull: PullKind<DbPullOptions> = {
  kind: 'db-pull',
  direction: 'pull',
  doc: {
    zh: '从部门数据库（PostgreSQL、MySQL/MariaDB）的表或视图增量读取：按（更新时间，键）的游标模式，或前置库的交换标志模式。',
    en: 'Incremental reads of a department table or view (PostgreSQL, MySQL/MariaDB): by an (update time, key) cursor, or by the exchange flag of a front-end database.',
    details: {
      zh: '游标模式每次从游标之前 overlapSeconds 秒开始、到数据源时钟之前 lagSeconds 秒为止读取，重读的未变行按内容摘要丢弃，因此晚提交的事务和同一时间戳的多行都不会丢；sweep 定期按键和摘要对账。前置库模式读取 SIGNSTATE = 0 的行，保存后回写 1（已取）或 2（失败，附原因）；保存与回写之间崩溃不会丢数据也不会重复接收。报文格式与语义见 docs/pulling.md。',
      en: 'Cursor mode reads from overlapSeconds before the cursor up to lagSeconds before the source\'s clock and drops re-read unchanged rows by content digest, so late-committing transactions and rows sharing a timestamp are not lost; a sweep reconciles keys and digests periodically. Flag mode takes rows with SIGNSTATE = 0 and, once stored, flags them 1 (taken) or 2 (failed, with the reason); a crash between the two steps loses nothing and takes nothing twice. Payload format and semantics: docs/pulling.md.',
    },
  },
  optionsSchema,
  backfill: true,
  validate,
  create(spec: PullAdapterSpec<DbPullOptions>, context: PullAdapterContext): PullAdapter {
    return new DbPull(spec.name, spec.options, context);
  },
};
