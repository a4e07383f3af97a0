/** Library entry: the modules other programs build on (the CLI is `govgate`). */
export { createValidator, type Validator, type DocumentResult, type RecordResult } from './schemas/validate.js';
export { intake, type IntakeResult } from './pipeline/intake.js';
export { RECORD_SPECS, CODE_TABLES, SPEC_VERSION } from './schemas/spec/index.js';
export { canonicalJson, contentDigest } from './schemas/canonical.js';
export { documentToXml, documentFromXml } from './schemas/xml-form.js';
export { ERRORS, GovgateError, type ErrorCode } from './errors.js';
export { startGateway, type RunningGateway } from './server.js';
export type * from './schemas/generated/types.js';
