/**
 * Pull adapters as scheduler jobs: `pull:<name>` on the adapter's schedule (caught up at start
 * from its stored cursor) and, for kinds that have one, `pull:<name>:sweep` on the sweep schedule.
 */
import type { PreparedPullAdapter } from '../adapters/options.js';
import { pullJobName, runPull } from '../adapters/pull/runner.js';
import type { PullAdapter, PullAdapterSpec, PullContext } from '../adapters/types.js';
import type { Job } from './scheduler.js';

export interface PullSetup {
  readonly adapters: ReadonlyMap<string, { readonly adapter: PullAdapter; readonly spec: PullAdapterSpec<Record<string, unknown>> }>;
  readonly jobs: readonly Job[];
  /** Closes every adapter's connections (after the scheduler has stopped). */
  close(): Promise<void>;
}

export function setupPulls(prepared: readonly PreparedPullAdapter[], ctx: PullContext, env: NodeJS.ProcessEnv): PullSetup {
  const adapters = new Map<string, { adapter: PullAdapter; spec: PullAdapterSpec<Record<string, unknown>> }>();
  const jobs: Job[] = [];
  for (const { spec, kind } of prepared) {
    const department = ctx.departments.find((d) => d.code === spec.dept);
    if (department === undefined) throw new TypeError(`pull adapter ${spec.name}: department ${spec.dept} is not loaded`);
    const adapter = kind.create(spec, { logger: ctx.logger, env, department, limits: ctx.limits });
    adapters.set(spec.name, { adapter, spec });
    jobs.push({
      name: pullJobName(spec.name), schedule: spec.schedule, catchUp: true, enabled: spec.enabled,
      run: (trigger, signal) => runPull(adapter, spec, ctx, { trigger, signal }),
    });
    if (adapter.sweep !== undefined && adapter.sweepSchedule !== undefined) {
      jobs.push({
        name: pullJobName(spec.name, 'sweep'), schedule: adapter.sweepSchedule, catchUp: false, enabled: spec.enabled,
        run: (_trigger, signal) => runPull(adapter, spec, ctx, { trigger: 'sweep', signal, mode: 'sweep' }),
      });
    }
  }
  return {
    adapters,
    jobs,
    async close() {
      await Promise.allSettled([...adapters.values()].map((a) => a.adapter.close()));
    },
  };
}
