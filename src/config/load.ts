/**
 * Loading the gateway configuration: file → environment overrides → schema defaults → validation
 * → checks across options → absolute paths → deep freeze. Validation happens once, here; a bad
 * configuration stops the start with GOVGATE_CONFIG_INVALID, never a warning and a half-working gateway.
 */
import { isAbsolute, resolve } from 'node:path';
import { adapterChecks } from './adapters.js';
import { describeAjvErrors, show, validatorFor } from './ajv.js';
import { configSchema, isSecretAt, schemaPath, walkSchema, type Config, type SchemaNode } from './schema.js';
import { deepFreeze, dottedPath, locate, problemsError, YamlSource, type LocatedProblem, type Locator } from './yaml-source.js';

export interface LoadConfigOptions {
  /** YAML file; absent → every option takes its default and demo mode is on. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Base of relative paths, in the file and in the defaults. Default: `process.cwd()`. */
  readonly cwd?: string;
}

const ROOT = configSchema as SchemaNode;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();

  let source: YamlSource | undefined;
  let data: Json = {};
  if (options.file !== undefined) {
    source = YamlSource.readFile(resolve(cwd, options.file), 'GOVGATE_CONFIG_INVALID', options.file);
    const raw = source.toJS();
    if (isObject(raw)) data = raw;
    else if (raw !== null && raw !== undefined) {
      throw problemsError('GOVGATE_CONFIG_INVALID', [locate(source, {
        path: [], zh: '配置文件的顶层应为映射（键: 值）', en: 'the top level of the config file must be a mapping (key: value)',
      })]);
    }
  }
  dropEmptySections(data, ROOT);

  // Without a file the gateway is being tried out: the demo departments make it usable at once.
  if (options.file === undefined) {
    const demo = isObject(data.demo) ? data.demo : {};
    if (!Object.hasOwn(demo, 'enabled')) data.demo = { ...demo, enabled: true };
  }

  const fromEnv = applyEnv(data, env);

  const validate = validatorFor(configSchema);
  if (!validate(data)) {
    const problems = describeAjvErrors(validate.errors ?? [], data, (segs) => {
      const nodes = schemaPath(ROOT, segs);
      return { node: nodes.length === segs.length + 1 ? nodes[nodes.length - 1] : undefined, secret: isSecretAt(ROOT, segs) };
    });
    throw problemsError('GOVGATE_CONFIG_INVALID', problems.map((p) => placed(p, source, fromEnv)));
  }

  const cfg = data as unknown as MutableConfig;
  const problems = [...crossChecks(cfg), ...adapterChecks(cfg, env, cwd)].map((p) => placed(p, source, fromEnv));
  if (problems.length > 0) throw problemsError('GOVGATE_CONFIG_INVALID', problems);

  resolvePaths(data, cwd);
  return deepFreeze(inSchemaOrder(data, ROOT)) as unknown as Config;
}

/** Options in declaration order, whatever order the file used: start-up logs read the same everywhere. */
function inSchemaOrder(value: Json, node: SchemaNode): Json {
  const out: Json = {};
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (!Object.hasOwn(value, name)) continue;
    const v = value[name];
    out[name] = child.type === 'object' && isObject(v) ? inSchemaOrder(v, child) : v;
  }
  return out;
}

type MutableConfig = { -readonly [K in keyof Config]: { -readonly [P in keyof Config[K]]: Config[K][P] } };

interface Issue {
  readonly path: readonly string[];
  readonly zh: string;
  readonly en: string;
  readonly found?: unknown;
}

/** Checks JSON Schema cannot express: values that depend on each other or on the runtime. */
function crossChecks(cfg: MutableConfig): Issue[] {
  const out: Issue[] = [];
  if (!isTimeZone(cfg.spec.timezone)) {
    out.push({
      path: ['spec', 'timezone'],
      zh: `未知的时区 ${show(cfg.spec.timezone)}：应为 IANA 时区名，如 Asia/Shanghai`,
      en: `unknown time zone ${show(cfg.spec.timezone)}: expected an IANA zone name such as Asia/Shanghai`,
      found: cfg.spec.timezone,
    });
  }
  // A request is acceptable for 2 × skew (before and after server time); a nonce forgotten sooner
  // than that can be replayed inside the window.
  if (cfg.auth.nonceTtlSeconds < 2 * cfg.auth.clockSkewSeconds) {
    out.push({
      path: ['auth', 'nonceTtlSeconds'],
      zh: `应不小于 clockSkewSeconds 的两倍（${2 * cfg.auth.clockSkewSeconds}），否则时间窗口内的请求可被重放；实际为 ${cfg.auth.nonceTtlSeconds}`,
      en: `must be at least twice clockSkewSeconds (${2 * cfg.auth.clockSkewSeconds}) or requests can be replayed inside the window; found ${cfg.auth.nonceTtlSeconds}`,
      found: cfg.auth.nonceTtlSeconds,
    });
  }
  if (cfg.database.url !== undefined && !isPostgresUrl(cfg.database.url)) {
    // Never echo the value: a malformed connection string still holds the password.
    out.push({
      path: ['database', 'url'],
      zh: '不是有效的 PostgreSQL 连接串：应形如 postgres://用户:密码@主机:端口/库名（原值含密码，不予显示）',
      en: 'not a valid PostgreSQL connection string: expected postgres://user:password@host:port/database (the value holds a password and is not shown)',
    });
  }
  return out;
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function isPostgresUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && (u.hostname !== '' || u.searchParams.has('host'));
  } catch {
    return false;
  }
}

/**
 * `server:` with every option commented out is `null` in YAML; it means "all defaults",
 * so it is treated like an absent section rather than a type error.
 */
function dropEmptySections(data: Json, node: SchemaNode): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (child.type !== 'object') continue;
    if (data[name] === null) delete data[name];
    else if (isObject(data[name])) dropEmptySections(data[name], child);
  }
}

/** Environment overrides named by `x-env`; returns which dotted paths they set, to name them in errors. */
function applyEnv(data: Json, env: NodeJS.ProcessEnv): Map<string, string> {
  const origins = new Map<string, string>();
  for (const leaf of walkSchema(ROOT)) {
    const name = leaf.node['x-env'];
    if (name === undefined) continue;
    const raw = env[name];
    // Container platforms often define variables as empty strings; empty means "not set".
    if (raw === undefined || raw.trim() === '') continue;
    let target = data;
    for (const seg of leaf.path.slice(0, -1)) {
      if (!isObject(target[seg])) target[seg] = {};
      target = target[seg] as Json;
    }
    const key = leaf.path[leaf.path.length - 1];
    if (key === undefined) continue;
    target[key] = fromEnvText(raw, leaf.node);
    origins.set(dottedPath(leaf.path), name);
  }
  return origins;
}

/** Text → the option's type; text that does not convert is left as is, so validation reports it. */
function fromEnvText(raw: string, node: SchemaNode): unknown {
  const text = raw.trim();
  switch (node.type) {
    case 'integer':
      return /^[+-]?\d{1,15}$/.test(text) ? Number(text) : text;
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return text;
    case 'array':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    default:
      return raw;
  }
}

function placed(p: { path: readonly (string | number)[]; atKey?: boolean; zh: string; en: string; expected?: unknown; found?: unknown }, source: Locator | undefined, fromEnv: Map<string, string>): LocatedProblem {
  const dotted = dottedPath(p.path);
  for (const [path, name] of fromEnv) {
    if (dotted === path || dotted.startsWith(`${path}.`) || dotted.startsWith(`${path}[`)) {
      return { ...locate(undefined, p), file: `环境变量 ${name} / environment variable ${name}` };
    }
  }
  return locate(source, p, '(默认配置 / built-in defaults)');
}

function resolvePaths(data: Json, cwd: string): void {
  for (const leaf of walkSchema(ROOT)) {
    if (leaf.node['x-path'] !== true) continue;
    let target: unknown = data;
    for (const seg of leaf.path.slice(0, -1)) target = isObject(target) ? target[seg] : undefined;
    const key = leaf.path[leaf.path.length - 1];
    if (!isObject(target) || key === undefined) continue;
    const value = target[key];
    if (typeof value === 'string' && !isAbsolute(value)) target[key] = resolve(cwd, value);
  }
}
