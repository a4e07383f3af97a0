/**
 * Secrets in adapter options, given the way department keys give them: `<name>` written in the file
 * (demos) or `<name>Env`, the environment variable that holds it (production). Shared by pull
 * adapters and destinations: the schema fragment, the value, and the problems checked at start.
 */
import type { SchemaNode } from '../config/schema.js';
import type { Doc } from './types.js';

/**
 * Two schema properties for one secret, the way department keys do it: `<name>` written in the
 * file (demos) or `<name>Env`, the environment variable that holds it (production).
 */
export function secretPair(name: string, doc: Doc, example: string, minLength = 1): Record<string, SchemaNode> {
  return {
    [name]: {
      type: 'string', minLength, maxLength: 4096, 'x-secret': true, examples: ['（仅演示 / demo only）'],
      'x-doc': {
        zh: `${doc.zh}（机密）。仅供演示：生产环境请改用 ${name}Env。与 ${name}Env 二选一。`,
        en: `${doc.en} (secret). Demo only: in production use ${name}Env. Give either this or ${name}Env.`,
      },
    },
    [`${name}Env`]: {
      type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$', minLength: 1, maxLength: 128, examples: [example],
      'x-doc': {
        zh: `保存${doc.zh}的环境变量名；启动时读取，未设置则启动失败。`,
        en: `Name of the environment variable holding the ${doc.en.toLowerCase()}; read at start, and the start fails when it is not set.`,
      },
    },
  };
}

type Obj = Record<string, unknown>;

/** The secret of a `secretPair`, or undefined when neither form is given. */
export function secretValue(options: Obj, name: string, env: NodeJS.ProcessEnv): string | undefined {
  const inline = options[name];
  if (typeof inline === 'string') return inline;
  const envName = options[`${name}Env`];
  if (typeof envName === 'string') {
    const v = env[envName];
    return v === undefined || v === '' ? undefined : v;
  }
  return undefined;
}

export interface OptionProblem {
  readonly path: string;
  readonly zh: string;
  readonly en: string;
}

/**
 * Problems with a `secretPair`: both forms given, or a named variable that is not set (or holds
 * fewer than `minLength` characters: signing keys must not be guessable). `required` adds
 * "neither given" (a password the source needs).
 */
export function secretProblems(options: Obj, name: string, env: NodeJS.ProcessEnv, required: boolean, prefix = '', minLength = 1): OptionProblem[] {
  const at = (n: string) => (prefix === '' ? n : `${prefix}.${n}`);
  const hasInline = typeof options[name] === 'string';
  const envName = options[`${name}Env`];
  if (hasInline && typeof envName === 'string') {
    return [{ path: at(name), zh: `${name} 与 ${name}Env 只能给出一个`, en: `give either ${name} or ${name}Env, not both` }];
  }
  if (typeof envName === 'string' && (env[envName] === undefined || env[envName] === '')) {
    return [{ path: at(`${name}Env`), zh: `环境变量 ${envName} 未设置：启动前应设置`, en: `the environment variable ${envName} is not set: set it before starting` }];
  }
  if (typeof envName === 'string' && env[envName]!.length < minLength) {
    return [{ path: at(`${name}Env`), zh: `环境变量 ${envName} 中的密钥短于 ${minLength} 个字符`, en: `the secret in ${envName} is shorter than ${minLength} characters` }];
  }
  if (required && !hasInline && typeof envName !== 'string') {
    return [{ path: at(name), zh: `须给出 ${name} 或 ${name}Env`, en: `${name} or ${name}Env is required` }];
  }
  return [];
}

