/**
 * Start-up checks of `pull.adapters`: each adapter's kind exists, its department is loaded, its
 * schedule parses, and its `options` satisfy the kind's own schema (with defaults filled in) and
 * the kind's cross-field rules. Every problem names the adapter and the option and, when the
 * configuration came from a file, its line; all of them are reported together as
 * GOVGATE_CONFIG_INVALID, like the rest of the configuration.
 */
import { isAbsolute, resolve } from 'node:path';
import cron from 'node-cron';
import { describeAjvErrors, validatorFor, type Problem } from '../config/ajv.js';
import type { Department } from '../config/departments.js';
import { schemaPath, isSecretAt, walkSchema, type Config, type PullAdapterConfig, type SchemaNode } from '../config/schema.js';
import { locate, problemsError, YamlSource, type LocatedProblem, type Locator } from '../config/yaml-source.js';
import { PULL_KINDS, pullKind } from './index.js';
import type { PullAdapterSpec, PullKind } from './types.js';

export interface PreparedPullAdapter {
  readonly spec: PullAdapterSpec<Record<string, unknown>>;
  readonly kind: PullKind<Record<string, unknown>>;
}

/** Validates the options of one kind; problems have paths relative to `options`. */
export function checkKindOptions(kind: Pick<PullKind<never>, 'optionsSchema' | 'validate'>, raw: unknown, env: NodeJS.ProcessEnv, cwd = process.cwd()): { options: Record<string, unknown>; problems: Problem[] } {
  // A copy: the loaded configuration is frozen, and ajv fills defaults in place.
  const options = structuredClone((raw ?? {}) as Record<string, unknown>);
  const schema = kind.optionsSchema as SchemaNode;
  const validate = validatorFor(schema);
  if (!validate(options)) {
    const problems = describeAjvErrors(validate.errors ?? [], options, (segs) => {
      const nodes = schemaPath(schema, segs);
      return { node: nodes.length === segs.length + 1 ? nodes[nodes.length - 1] : undefined, secret: isSecretAt(schema, segs) };
    });
    return { options, problems };
  }
  // Relative paths (`x-path`) resolve against the working directory, as in the gateway config.
  for (const leaf of walkSchema(schema)) {
    if (leaf.node['x-path'] !== true || leaf.path.includes('*')) continue;
    let target: unknown = options;
    for (const seg of leaf.path.slice(0, -1)) target = target !== null && typeof target === 'object' ? (target as Record<string, unknown>)[seg] : undefined;
    const key = leaf.path[leaf.path.length - 1];
    if (target === null || typeof target !== 'object' || key === undefined) continue;
    const value = (target as Record<string, unknown>)[key];
    if (typeof value === 'string' && !isAbsolute(value)) (target as Record<string, unknown>)[key] = resolve(cwd, value);
  }
  const extra = kind.validate?.(options as never, env) ?? [];
  return { options, problems: extra.map((p) => ({ path: p.path === '' ? [] : p.path.split('.'), zh: p.zh, en: p.en })) };
}

export function preparePullAdapters(
  config: Pick<Config, 'pull'>,
  departments: readonly Department[],
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): PreparedPullAdapter[] {
  let source: Locator | undefined;
  const problems: LocatedProblem[] = [];
  const place = (p: Problem) => {
    if (source === undefined && configFile !== undefined) {
      try {
        source = YamlSource.readFile(configFile, 'GOVGATE_CONFIG_INVALID');
      } catch {
        // Positions are a convenience; the problem is reported without one.
      }
    }
    problems.push(locate(source, p, configFile ?? '(默认配置 / built-in defaults)'));
  };

  const out: PreparedPullAdapter[] = [];
  const names = new Map<string, number>();
  config.pull.adapters.forEach((a: PullAdapterConfig, i) => {
    const at = ['pull', 'adapters', i];
    const who = { zh: `拉取适配器 ${a.name}：`, en: `pull adapter ${a.name}: ` };
    const issue = (path: readonly (string | number)[], zh: string, en: string, extra: Partial<Problem> = {}) =>
      place({ ...extra, path: [...at, ...path], zh: `${who.zh}${zh}`, en: `${who.en}${en}` });

    const first = names.get(a.name);
    if (first !== undefined) issue(['name'], `名称与第 ${first + 1} 个适配器重复`, `the name is also used by adapter ${first + 1}`);
    names.set(a.name, i);

    if (!departments.some((d) => d.code === a.dept)) {
      issue(['dept'], `部门 ${a.dept} 没有部门配置文件`, `the department ${a.dept} has no department file`);
    }
    if (!cron.validate(a.schedule)) {
      issue(['schedule'], `无效的 cron 表达式 ${JSON.stringify(a.schedule)}（如 "*/5 * * * *" 表示每 5 分钟）`, `invalid cron expression ${JSON.stringify(a.schedule)} (e.g. "*/5 * * * *" for every 5 minutes)`);
    }
    const kind = pullKind(a.kind);
    if (kind === undefined) {
      issue(['kind'], `未知的类型 ${JSON.stringify(a.kind)}；可用的类型：${PULL_KINDS.map((k) => k.kind).join('、')}`,
        `unknown kind ${JSON.stringify(a.kind)}; known kinds: ${PULL_KINDS.map((k) => k.kind).join(', ')}`);
      return;
    }
    const { options, problems: found } = checkKindOptions(kind, a.options, env);
    for (const p of found) issue(['options', ...p.path], p.zh, p.en, { ...(p.atKey === undefined ? {} : { atKey: p.atKey }), ...(p.expected === undefined ? {} : { expected: p.expected }), ...(p.found === undefined ? {} : { found: p.found }) });
    if (found.length === 0) {
      out.push({ spec: { name: a.name, kind: a.kind, dept: a.dept, schedule: a.schedule, enabled: a.enabled, options }, kind });
    }
  });
  if (problems.length > 0) throw problemsError('GOVGATE_CONFIG_INVALID', problems);
  return out;
}
