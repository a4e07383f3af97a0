/**
 * pino redaction paths, derived from the `x-secret` marks of the config and department schemas,
 * so that marking an option secret is all it takes to keep it out of the logs.
 */
import { configSchema, departmentSchema, walkSchema, type SchemaNode } from './schema.js';
import { DESTINATION_KINDS, PULL_KINDS } from '../adapters/index.js';

/** Headers that carry credentials on every department and admin request. */
const HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers["x-govgate-signature"]',
  'req.headers["x-govgate-admin-token"]',
  'req.headers.cookie',
];

function secretPaths(schema: SchemaNode): string[] {
  const out: string[] = [];
  for (const leaf of walkSchema(schema)) {
    // An array marked secret is redacted whole; its entries need no paths of their own.
    if (!leaf.node['x-secret']) continue;
    out.push(leaf.path.map((s) => (s === '*' ? '[*]' : s)).join('.').replace(/\.\[\*\]/g, '[*]'));
  }
  return out;
}

/**
 * Where secrets sit in the objects govgate logs: the config on its own or under `config`,
 * a department on its own, under `department`, or in a `departments` list.
 */
export function redactPaths(): string[] {
  // Adapter options are free-form in the config schema; each kind's own schema marks its secrets.
  const adapterSecrets = (kinds: readonly { optionsSchema: SchemaNode }[], at: string) =>
    [...new Set(kinds.flatMap((k) => secretPaths(k.optionsSchema)))].map((p) => `${at}.${p}`);
  const cfg = [
    ...secretPaths(configSchema as SchemaNode),
    ...adapterSecrets(DESTINATION_KINDS, 'destinations[*].options'),
    ...adapterSecrets(PULL_KINDS, 'pull.adapters[*].options'),
  ];
  const dept = secretPaths(departmentSchema as SchemaNode);
  return [
    ...cfg,
    ...cfg.map((p) => `config.${p}`),
    ...dept,
    ...dept.map((p) => `department.${p}`),
    ...dept.map((p) => `departments[*].${p}`),
    ...HEADER_PATHS,
  ];
}

export const REDACT_PATHS: readonly string[] = Object.freeze(redactPaths());

/** Ready for `pino({ redact })` and fastify's `logger.redact` (whose types want a mutable list). */
export const redactOptions: { paths: string[]; censor: string } = { paths: [...REDACT_PATHS], censor: '[REDACTED]' };
