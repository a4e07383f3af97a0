/** Gateway configuration: load and validate once at start, then pass the frozen result around. */
export { loadConfig, type LoadConfigOptions } from './load.js';
export {
  configSchema, departmentSchema, HMAC_ALGORITHMS, LOG_LEVELS, MIN_SECRET_LENGTH,
  type Config, type HmacAlgorithm, type LogLevel, type SchemaNode,
} from './schema.js';
export { loadDepartments, MAX_ACTIVE_KEYS, type Department, type DepartmentKey, type LoadDepartmentsOptions } from './departments.js';
export { REDACT_PATHS, redactOptions, redactPaths } from './redact.js';
export { renderConfigDocs, renderExampleConfig } from './docs.js';
export { formatProblems, type LocatedProblem } from './yaml-source.js';
