/**
 * Department files: one `<code>.yaml` per department under `departments.dir`, each with its name,
 * signing keys and optional field mapping. A new department is a file, not code.
 *
 * Every file is checked before any is used, and all problems are reported together with file,
 * line and column; a department that fails to load stops the start (GOVGATE_CONFIG_INVALID, or
 * GOVGATE_MAPPING_INVALID for its mapping), so no department silently goes missing.
 */
import { readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isGovgateError } from '../errors.js';
import { compileMapping, type CompiledMapping } from '../pipeline/mapping.js';
import { daysInMonth } from '../pipeline/mapping-transforms.js';
import { describeAjvErrors, validatorFor } from './ajv.js';
import { departmentSchema, HMAC_ALGORITHMS, isSecretAt, MIN_SECRET_LENGTH, schemaPath, type HmacAlgorithm, type SchemaNode } from './schema.js';
import { deepFreeze, locate, problemsError, subLocator, YamlSource, type LocatedProblem } from './yaml-source.js';

export interface DepartmentKey {
  readonly id: string;
  readonly algorithm: HmacAlgorithm;
  /** The secret itself, resolved from `secretEnv` when given that way. Never log it. */
  readonly secret: string;
  /** `inline` secrets are written in the file: acceptable for demos only. */
  readonly secretSource: 'inline' | 'env';
  readonly active: boolean;
  /** RFC 3339; requests signed with this key after it are refused. */
  readonly notAfter?: string;
}

export interface Department {
  readonly code: string;
  readonly name: string;
  readonly regionCode?: string;
  readonly keys: readonly DepartmentKey[];
  /** Absent → the department sends records in the standard shape. */
  readonly mapping?: CompiledMapping;
  /** The mapping as written in the file (plain data): intake workers compile their own copy from it. */
  readonly mappingSource?: unknown;
  /**
   * A downstream gateway rather than a department: it may submit, one department per batch, for
   * these department codes (`*`: any). Its batches are stored under the department they carry.
   */
  readonly relayFor?: readonly string[];
  /** The file it was loaded from, for messages. */
  readonly file: string;
}

export interface LoadDepartmentsOptions {
  /** `auth.algorithms` of the gateway config; keys using another algorithm are refused. Default: all. */
  readonly allowedAlgorithms?: readonly HmacAlgorithm[];
  /** Whether `secret:` written in the file is accepted. Pass `config.demo.enabled` to refuse it in production. Default: true. */
  readonly allowInlineSecrets?: boolean;
}

/** Rotation needs two keys live at once (old and new); a third active key is a leak nobody retired. */
export const MAX_ACTIVE_KEYS = 2;

const ROOT = departmentSchema as SchemaNode;
const EXTENSIONS = new Set(['.yaml', '.yml']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

interface Parsed {
  readonly file: string;
  readonly source: YamlSource;
  readonly data: Obj;
}

export function loadDepartments(dir: string, env: NodeJS.ProcessEnv = process.env, options: LoadDepartmentsOptions = {}): Department[] {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && EXTENSIONS.has(extname(d.name)) && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch (err) {
    throw problemsError('GOVGATE_CONFIG_INVALID', [{
      file: dir, path: 'departments.dir',
      zh: `无法读取部门配置目录 ${dir}（${(err as NodeJS.ErrnoException).code ?? 'error'}）`,
      en: `cannot read the department directory ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    }], { cause: err });
  }

  const problems: LocatedProblem[] = [];
  const parsed: Parsed[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      const source = YamlSource.readFile(file, 'GOVGATE_CONFIG_INVALID');
      const data = source.toJS();
      if (!isObj(data)) {
        problems.push(locate(source, { path: [], zh: '部门配置文件的顶层应为映射（code、name、keys …）', en: 'the top level of a department file must be a mapping (code, name, keys …)' }));
        continue;
      }
      parsed.push({ file, source, data });
    } catch (err) {
      problems.push(...problemsOf(err));
    }
  }

  const departments: Department[] = [];
  const seenCodes = new Map<string, string>();
  const seenKeys = new Map<string, string>();
  for (const p of parsed) {
    const d = checkDepartment(p, env, options, problems);
    if (d === undefined) continue;
    const other = seenCodes.get(d.code);
    if (other !== undefined) {
      problems.push(locate(p.source, { path: ['code'], zh: `部门代码 ${d.code} 与 ${other} 重复`, en: `the department code ${d.code} is also used by ${other}` }));
    }
    seenCodes.set(d.code, p.file);
    d.keys.forEach((k, i) => {
      const owner = seenKeys.get(k.id);
      if (owner !== undefined) {
        // Requests name only the key id: one id in two departments would let either sign as the other.
        problems.push(locate(p.source, { path: ['keys', i, 'id'], zh: `密钥编号 ${k.id} 已在 ${owner} 中使用；密钥编号须全局唯一`, en: `the key id ${k.id} is already used in ${owner}; key ids must be unique across departments` }));
      }
      seenKeys.set(k.id, p.file);
    });
    departments.push(d);
  }
  if (problems.length > 0) throw problemsError('GOVGATE_CONFIG_INVALID', problems);

  // Mappings are compiled only once the files are sound, and report under their own code.
  const mappingProblems: LocatedProblem[] = [];
  const out = departments.map((d, i) => {
    const p = parsed.find((x) => x.file === d.file);
    const raw = p?.data.mapping;
    if (p === undefined || raw === undefined) return d;
    try {
      return { ...d, mapping: compileMapping(raw, subLocator(p.source, ['mapping'])), mappingSource: raw };
    } catch (err) {
      mappingProblems.push(...problemsOf(err));
      return departments[i] ?? d;
    }
  });
  if (mappingProblems.length > 0) throw problemsError('GOVGATE_MAPPING_INVALID', mappingProblems);
  return deepFreeze(out);
}

function problemsOf(err: unknown): LocatedProblem[] {
  if (isGovgateError(err) && Array.isArray(err.details.problems)) return err.details.problems as LocatedProblem[];
  throw err;
}

function checkDepartment(p: Parsed, env: NodeJS.ProcessEnv, options: LoadDepartmentsOptions, problems: LocatedProblem[]): Department | undefined {
  const { source, data } = p;
  const validate = validatorFor(departmentSchema);
  if (!validate(data)) {
    const found = describeAjvErrors(validate.errors ?? [], data, (segs) => {
      const nodes = schemaPath(ROOT, segs);
      return { node: nodes.length === segs.length + 1 ? nodes[nodes.length - 1] : undefined, secret: isSecretAt(ROOT, segs) };
    });
    problems.push(...found.map((x) => locate(source, x)));
    return undefined;
  }
  const before = problems.length;
  const issue = (path: readonly (string | number)[], zh: string, en: string): void => {
    problems.push(locate(source, { path, zh, en }));
  };

  const code = data.code as string;
  const stem = basename(p.file, extname(p.file));
  if (stem !== code) {
    issue(['code'], `部门代码 ${code} 与文件名 ${basename(p.file)} 不一致：文件应命名为 ${code}.yaml`, `the department code ${code} does not match the file name ${basename(p.file)}: name the file ${code}.yaml`);
  }

  const allowed = options.allowedAlgorithms ?? HMAC_ALGORITHMS;
  const rawKeys = data.keys as Obj[];
  const keys: DepartmentKey[] = [];
  const ids = new Set<string>();
  rawKeys.forEach((k, i) => {
    const at = ['keys', i];
    const id = k.id as string;
    if (ids.has(id)) issue([...at, 'id'], `密钥编号 ${id} 重复`, `the key id ${id} appears twice`);
    ids.add(id);
    const algorithm = k.algorithm as HmacAlgorithm;
    if (!allowed.includes(algorithm)) {
      issue([...at, 'algorithm'], `算法 ${algorithm} 未在 auth.algorithms 中启用（已启用：${allowed.join('、')}）`, `the algorithm ${algorithm} is not enabled in auth.algorithms (enabled: ${allowed.join(', ')})`);
    }
    const hasInline = typeof k.secret === 'string';
    const hasEnv = typeof k.secretEnv === 'string';
    let secret: string | undefined;
    if (hasInline === hasEnv) {
      issue(at, '每个密钥须给出 secret 或 secretEnv 之一（且只能一个）', 'each key needs exactly one of secret or secretEnv');
    } else if (hasEnv) {
      const name = k.secretEnv as string;
      const value = env[name];
      if (value === undefined || value === '') {
        issue([...at, 'secretEnv'], `环境变量 ${name} 未设置：启动前应设置为该密钥`, `the environment variable ${name} is not set: set it to the key's secret before starting`);
      } else if ([...value].length < MIN_SECRET_LENGTH) {
        issue([...at, 'secretEnv'], `环境变量 ${name} 中的密钥过短：至少 ${MIN_SECRET_LENGTH} 个字符`, `the secret in ${name} is too short: at least ${MIN_SECRET_LENGTH} characters`);
      } else {
        secret = value;
      }
    } else {
      if (options.allowInlineSecrets === false) {
        issue([...at, 'secret'], '非演示模式下不允许在文件中直接写密钥：请改用 secretEnv', 'secrets written in the file are refused outside demo mode: use secretEnv');
      }
      secret = k.secret as string;
    }
    const notAfter = k.notAfter as string | undefined;
    if (notAfter !== undefined && !isRealDateTime(notAfter)) {
      issue([...at, 'notAfter'], `${notAfter} 不是真实的日期时间`, `${notAfter} is not a real date and time`);
    }
    if (secret !== undefined) {
      keys.push({
        id, algorithm, secret, secretSource: hasEnv ? 'env' : 'inline', active: k.active !== false,
        ...(notAfter === undefined ? {} : { notAfter }),
      });
    }
  });
  const active = rawKeys.filter((k) => k.active !== false).length;
  if (active > MAX_ACTIVE_KEYS) {
    issue(['keys'], `同时启用的密钥有 ${active} 个，最多 ${MAX_ACTIVE_KEYS} 个（轮换时新旧各一）：请将旧密钥设为 active: false`, `${active} keys are active; at most ${MAX_ACTIVE_KEYS} may be (old and new during rotation): set active: false on retired keys`);
  }
  if (problems.length > before) return undefined;
  return {
    code,
    name: data.name as string,
    ...(typeof data.regionCode === 'string' ? { regionCode: data.regionCode } : {}),
    keys,
    ...(Array.isArray(data.relayFor) ? { relayFor: data.relayFor as string[] } : {}),
    file: p.file,
  };
}

function isRealDateTime(s: string): boolean {
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  const hour = Number(s.slice(11, 13));
  const minute = Number(s.slice(14, 16));
  const second = Number(s.slice(17, 19));
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59 && !Number.isNaN(Date.parse(s));
}
