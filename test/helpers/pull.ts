/**
 * A pull context on a fresh test database, the demo departments and a quiet logger: what the
 * gateway hands its pull runs, without the HTTP server.
 */
import { fileURLToPath } from 'node:url';
import { loadDepartments } from '../../src/config/departments.js';
import { checkKindOptions } from '../../src/adapters/options.js';
import { runPull, type RunOptions } from '../../src/adapters/pull/runner.js';
import type { AdapterLogger, PullAdapter, PullAdapterSpec, PullContext, PullIngest, PullKind } from '../../src/adapters/types.js';
import { DEFAULT_LIMITS } from '../../src/pipeline/intake.js';
import { createValidator } from '../../src/schemas/validate.js';
import type { Db } from '../../src/store/db.js';
import { ingest } from '../../src/store/queries/ingest.js';
import { testDb, type Teardown } from './db.js';

export const departmentsDir = fileURLToPath(new URL('../../config/departments/', import.meta.url));

export const quietLogger: AdapterLogger & { lines: Array<{ level: string; obj: object; msg?: string }> } = {
  lines: [],
  info(obj, msg) { this.lines.push({ level: 'info', obj, ...(msg === undefined ? {} : { msg }) }); },
  warn(obj, msg) { this.lines.push({ level: 'warn', obj, ...(msg === undefined ? {} : { msg }) }); },
  error(obj, msg) { this.lines.push({ level: 'error', obj, ...(msg === undefined ? {} : { msg }) }); },
  debug() {},
};

export interface PullHarness {
  readonly db: Db;
  readonly ctx: PullContext;
  /** Validates options like the start-up check and creates the adapter; closed at teardown. */
  adapter<O>(kind: PullKind<O>, spec: { name?: string; dept?: string; options: Record<string, unknown> }, env?: NodeJS.ProcessEnv): { adapter: PullAdapter; spec: PullAdapterSpec<O> };
  run(a: { adapter: PullAdapter; spec: PullAdapterSpec<unknown> }, options?: Partial<RunOptions>): ReturnType<typeof runPull>;
  /** Record versions stored for a department: key → versions. */
  versions(dept: string): Promise<Map<string, number[]>>;
  rawCount(source: string): Promise<number>;
}

export async function pullHarness(t: Teardown, options: { ingest?: (inner: PullIngest) => PullIngest; db?: Db } = {}): Promise<PullHarness> {
  const db = options.db ?? await testDb(t);
  const departments = loadDepartments(departmentsDir, {}, { allowInlineSecrets: true });
  const plain: PullIngest = (input, inTransaction) => ingest(db, input, inTransaction === undefined ? {} : { inTransaction });
  const ctx: PullContext = {
    ingest: options.ingest === undefined ? plain : options.ingest(plain),
    db, validator: createValidator(), departments, limits: DEFAULT_LIMITS, logger: quietLogger, instance: 'test:1',
  };
  return {
    db, ctx,
    adapter<O>(kind: PullKind<O>, s: { name?: string; dept?: string; options: Record<string, unknown> }, env: NodeJS.ProcessEnv = {}) {
      const { options: checked, problems } = checkKindOptions(kind as PullKind<never>, s.options, env);
      if (problems.length > 0) throw new Error(`options refused: ${JSON.stringify(problems)}`);
      const spec: PullAdapterSpec<O> = { name: s.name ?? 'test-adapter', kind: kind.kind, dept: s.dept ?? '11330100002489671K', schedule: '*/5 * * * *', enabled: true, options: checked as O };
      const department = departments.find((d) => d.code === spec.dept)!;
      const adapter = kind.create(spec, { logger: quietLogger, env, department, limits: DEFAULT_LIMITS });
      t.teardown(() => adapter.close());
      return { adapter, spec };
    },
    run: (a, o = {}) => runPull(a.adapter, a.spec, ctx, { trigger: 'manual', ...o }),
    async versions(dept) {
      const { rows } = await db.query<{ business_key: string; version: number }>('SELECT business_key, version FROM records WHERE dept_code = $1 ORDER BY business_key, version', [dept]);
      const out = new Map<string, number[]>();
      for (const r of rows) out.set(r.business_key, [...(out.get(r.business_key) ?? []), r.version]);
      return out;
    },
    async rawCount(source) {
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM raw_inbox WHERE source = $1', [source]);
      return rows[0]!.n;
    },
  };
}
