/**
 * Routing rules (config `routes`) compiled into the function ingest calls for each new record
 * version (queries/ingest.ts `Router`): which destinations' outboxes the version goes to.
 */
import { GovgateError } from '../errors.js';
import type { DestinationConfig, RouteConfig } from '../config/schema.js';
import type { Router } from '../store/queries/ingest.js';

interface CompiledRoute {
  readonly destination: string;
  readonly types?: ReadonlySet<string>;
  readonly depts?: ReadonlySet<string>;
  readonly categories?: ReadonlySet<string>;
}

/**
 * Throws GOVGATE_CONFIG_INVALID when a route names a destination that is not configured: a typo
 * there would silently forward nothing.
 */
export function compileRoutes(routes: readonly RouteConfig[], destinations: readonly DestinationConfig[]): Router | undefined {
  const known = new Set(destinations.map((d) => d.name));
  const problems = routes.flatMap((r, i) => (known.has(r.destination) ? [] : [{
    file: '(config)', path: `routes[${i}].destination`,
    zh: `路由指向未配置的目的地 ${r.destination}`, en: `the route names destination ${r.destination}, which is not configured`,
  }]));
  if (problems.length > 0) {
    throw new GovgateError('GOVGATE_CONFIG_INVALID', { problems, detail: problems.map((p) => `${p.path}: ${p.zh}`).join('; '), detailEn: problems.map((p) => `${p.path}: ${p.en}`).join('; ') });
  }
  if (routes.length === 0) return undefined;
  const compiled: CompiledRoute[] = routes.map((r) => ({
    destination: r.destination,
    ...(r.recordTypes === undefined ? {} : { types: new Set(r.recordTypes) }),
    ...(r.departments === undefined ? {} : { depts: new Set(r.departments) }),
    ...(r.categories === undefined ? {} : { categories: new Set(r.categories) }),
  }));
  return (deptCode, recordType, content) => {
    const out: string[] = [];
    for (const r of compiled) {
      if (r.types !== undefined && !r.types.has(recordType)) continue;
      if (r.depts !== undefined && !r.depts.has(deptCode)) continue;
      if (r.categories !== undefined && recordType === 'powerItem') {
        const category = (content as { category?: unknown } | null)?.category;
        if (typeof category !== 'string' || !r.categories.has(category)) continue;
      }
      if (!out.includes(r.destination)) out.push(r.destination);
    }
    return out;
  };
}
