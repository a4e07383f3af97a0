/**
 * A department database for tests, the benchmark and the demo: an EA_JC-style 办件 table in a
 * real PostgreSQL or MySQL/MariaDB server, written the way a department system writes it — an
 * update-time column for cursor mode, the SIGNSTATE / DATAVER / EXT1 columns of a front-end
 * database (前置库) for flag mode. Each simulator owns one uniquely named table and drops it.
 *
 * PostgreSQL columns are created without quotes (so stored lower case, as a department's DDL
 * usually leaves them); MySQL keeps the upper case. Configure `columnCase: upper` for PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EA_JC_COLUMNS, type EaJcRow } from './ea-jc.js';

export interface DeptDbConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
}

export const LOCAL_POSTGRES: DeptDbConnection = { host: '127.0.0.1', port: 5432, database: 'postgres', user: 'postgres' };
export const LOCAL_MARIADB: DeptDbConnection = { host: '127.0.0.1', port: 3306, database: 'test', user: 'root' };

/** A second session on the department database: a transaction the test commits when it wants. */
export interface OpenTransaction {
  exec(sql: string, params?: unknown[]): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface InsertOptions {
  /** Update time of the rows (source text); default the database's current time. */
  readonly updateTime?: string;
  readonly signState?: string;
}

export class DeptDb {
  private constructor(
    readonly driver: 'postgres' | 'mysql',
    readonly connection: DeptDbConnection,
    readonly table: string,
    private readonly run: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>,
    private readonly session: () => Promise<OpenTransaction>,
    private readonly end: () => Promise<void>,
  ) {}

  static async open(driver: 'postgres' | 'mysql', connection: DeptDbConnection, table = `ea_jc_${randomBytes(5).toString('hex')}`): Promise<DeptDb> {
    if (driver === 'postgres') {
      const pool = new pg.Pool({ ...connection, max: 4 });
      pool.on('error', () => undefined);
      return new DeptDb(driver, connection, table,
        async (sql, params) => (await pool.query(sql, params)).rows as Record<string, unknown>[],
        async () => {
          const c = await pool.connect();
          await c.query('BEGIN');
          return {
            exec: async (sql, params) => { await c.query(sql, params); },
            commit: async () => { await c.query('COMMIT'); c.release(); },
            rollback: async () => { await c.query('ROLLBACK'); c.release(); },
          };
        },
        () => pool.end());
    }
    const mysql = await import('mysql2/promise');
    const pool = mysql.createPool({ ...connection, connectionLimit: 4, dateStrings: true, charset: 'utf8mb4' });
    return new DeptDb(driver, connection, table,
      async (sql, params) => (await pool.query(sql, params))[0] as Record<string, unknown>[],
      async () => {
        const c = await pool.getConnection();
        await c.query('START TRANSACTION');
        return {
          exec: async (sql, params) => { await c.query(sql, params); },
          commit: async () => { await c.query('COMMIT'); c.release(); },
          rollback: async () => { await c.query('ROLLBACK'); c.release(); },
        };
      },
      () => pool.end());
  }

  /** `?` placeholders in, the dialect's out. */
  private sql(text: string): string {
    if (this.driver === 'mysql') return text;
    let i = 0;
    return text.replace(/\?/g, () => `$${++i}`);
  }

  /** Column names as the driver reports them. */
  col(name: string): string {
    return this.driver === 'postgres' ? name.toLowerCase() : name;
  }

  async query(text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return this.run(this.sql(text), params);
  }

  async begin(): Promise<OpenTransaction> {
    const tx = await this.session();
    return {
      exec: (sql, params) => tx.exec(this.sql(sql), params),
      commit: () => tx.commit(),
      rollback: () => tx.rollback(),
    };
  }

  /**
   * Creates the table: EA_JC columns, UPDATE_TIME (microseconds) with an index on (time, key) for
   * cursor mode, SIGNSTATE / MAKETIME / EXT1 / SYNCTIME for flag mode, key (PROJID, DATAVER).
   */
  async create(): Promise<void> {
    const ts = this.driver === 'postgres' ? 'timestamp(6)' : 'datetime(6)';
    const now = this.driver === 'postgres' ? 'clock_timestamp()' : 'NOW(6)';
    const cols = EA_JC_COLUMNS.map((c) => `${c} varchar(${c === 'PROJECTNAME' || c === 'ADDRESS' ? 400 : 100})${c === 'PROJID' || c === 'DATAVER' ? ' NOT NULL' : ''}`);
    const extra = this.driver === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : '';
    await this.query(`CREATE TABLE ${this.table} (${cols.join(', ')}, UPDATE_TIME ${ts} NOT NULL DEFAULT ${now}, ` +
      `SIGNSTATE varchar(2) NOT NULL DEFAULT '0', MAKETIME ${ts} NOT NULL DEFAULT ${now}, EXT1 varchar(800), SYNCTIME ${ts} NULL, ` +
      `PRIMARY KEY (PROJID, DATAVER))${extra}`);
    await this.query(`CREATE INDEX ${this.table}_upd ON ${this.table} (UPDATE_TIME, PROJID)`);
  }

  private insertSql(n: number, o: InsertOptions): { text: string; per: number } {
    const names = [...EA_JC_COLUMNS, ...(o.updateTime === undefined ? [] : ['UPDATE_TIME']), ...(o.signState === undefined ? [] : ['SIGNSTATE'])];
    const one = `(${names.map(() => '?').join(', ')})`;
    return { text: `INSERT INTO ${this.table} (${names.join(', ')}) VALUES ${Array.from({ length: n }, () => one).join(', ')}`, per: names.length };
  }

  private values(rows: readonly EaJcRow[], o: InsertOptions): unknown[] {
    return rows.flatMap((r) => [...EA_JC_COLUMNS.map((c) => r[c]), ...(o.updateTime === undefined ? [] : [o.updateTime]), ...(o.signState === undefined ? [] : [o.signState])]);
  }

  /** Inserts rows in one committed statement per 500 rows. */
  async insert(rows: readonly EaJcRow[], o: InsertOptions = {}): Promise<void> {
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500);
      await this.query(this.insertSql(part.length, o).text, this.values(part, o));
    }
  }

  /** Inserts rows inside `tx` (not committed until the test says so). */
  async insertIn(tx: OpenTransaction, rows: readonly EaJcRow[], o: InsertOptions = {}): Promise<void> {
    await tx.exec(this.insertSql(rows.length, o).text, this.values(rows, o));
  }

  /** The department re-reports a case: new DATAVER row flagged pending again. */
  async update(projid: string, set: Partial<EaJcRow>): Promise<void> {
    const entries = Object.entries(set);
    const now = this.driver === 'postgres' ? 'clock_timestamp()' : 'NOW(6)';
    await this.query(`UPDATE ${this.table} SET ${entries.map(([k]) => `${k} = ?`).join(', ')}, UPDATE_TIME = ${now} WHERE PROJID = ?`, [...entries.map(([, v]) => v), projid]);
  }

  async flags(): Promise<Map<string, { signState: string; reason: string | null; syncTime: unknown }>> {
    const rows = await this.query(`SELECT PROJID, DATAVER, SIGNSTATE, EXT1, SYNCTIME FROM ${this.table}`);
    return new Map(rows.map((r) => [`${String(r[this.col('PROJID')])}@${String(r[this.col('DATAVER')])}`, {
      signState: String(r[this.col('SIGNSTATE')]), reason: (r[this.col('EXT1')] as string | null) ?? null, syncTime: r[this.col('SYNCTIME')],
    }]));
  }

  /** The database's clock, as text in the column type. */
  async now(): Promise<string> {
    const rows = await this.query(this.driver === 'postgres' ? 'SELECT clock_timestamp()::timestamp(6)::text AS t' : 'SELECT CAST(NOW(6) AS CHAR) AS t');
    return String(rows[0]!['t']);
  }

  async drop(): Promise<void> {
    await this.query(`DROP TABLE IF EXISTS ${this.table}`).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.end();
  }
}
