/**
 * Checks of the adapter sections of the gateway config (destinations, routes) that the config
 * schema cannot make on its own: each kind exists, its `options` pass the kind's own schema (whose
 * defaults are filled in here), names are unique and routes name configured destinations. Problems
 * come back with their paths so loadConfig can place them in the file.
 */
import { destinationKind } from '../adapters/index.js';
import { checkKindOptions } from '../adapters/options.js';
import { show, type Problem } from './ajv.js';
import type { DestinationConfig, RouteConfig } from './schema.js';

interface AdapterSections {
  destinations: readonly DestinationConfig[];
  routes: readonly RouteConfig[];
  delivery: { leaseSeconds: number };
}

export function adapterChecks(cfg: AdapterSections, env: NodeJS.ProcessEnv, cwd: string): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  cfg.destinations.forEach((d, i) => {
    if (seen.has(d.name)) {
      out.push({ path: ['destinations', i, 'name'], zh: `目的地名称 ${show(d.name)} 重复`, en: `destination name ${show(d.name)} is used twice`, found: d.name });
    }
    seen.add(d.name);
    const kind = destinationKind(d.kind);
    if (kind === undefined) {
      out.push({ path: ['destinations', i, 'kind'], zh: `未知的目的地类型 ${show(d.kind)}`, en: `unknown destination kind ${show(d.kind)}`, found: d.kind });
      return;
    }
    // The same check as pull adapters get: the kind's schema with its defaults, x-path resolution
    // and the kind's own cross-field rules. The checked copy replaces the options as written.
    const checked = checkKindOptions(kind, d.options, env, cwd);
    out.push(...checked.problems.map((p) => ({ ...p, path: ['destinations', i, 'options', ...p.path] })));
    (d as { options: Readonly<Record<string, unknown>> }).options = checked.options;
    // A request still running when its lease runs out could reach the receiver after the entry's
    // next version, sent by whoever reclaimed it: the lease must outlast the request.
    const timeoutMs = d.options['timeoutMs'];
    if (typeof timeoutMs === 'number' && timeoutMs * 2 > cfg.delivery.leaseSeconds * 1000) {
      out.push({
        path: ['destinations', i, 'options', 'timeoutMs'],
        zh: `请求超时 ${timeoutMs} 毫秒须不超过 delivery.leaseSeconds（${cfg.delivery.leaseSeconds} 秒）的一半，否则租约到期被收回的条目可能与仍在途的旧请求乱序到达`,
        en: `the request timeout of ${timeoutMs} ms must be at most half of delivery.leaseSeconds (${cfg.delivery.leaseSeconds} s), or a reclaimed entry could overtake a request still in flight`,
        found: timeoutMs,
      });
    }
  });
  cfg.routes.forEach((r, i) => {
    if (!seen.has(r.destination)) {
      out.push({
        path: ['routes', i, 'destination'],
        zh: `路由指向未配置的目的地 ${show(r.destination)}`, en: `the route names destination ${show(r.destination)}, which is not configured`,
        found: r.destination,
      });
    }
  });
  return out;
}
