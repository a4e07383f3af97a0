/**
 * An intake worker thread (intake-pool.ts): reads payloads off the gateway's main thread. It builds
 * its own validator and department mappings from the recipe, then answers each job with
 * readPayload's result, transferring the records' stored JSON rather than copying it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileMapping, type CompiledMapping } from './mapping.js';
import { readPayload } from './read-payload.js';
import { buildValidator } from './validator-recipe.js';
import type { IntakeRecipe, WorkerJob, WorkerMessage } from './intake-pool.js';

const recipe = workerData as IntakeRecipe;
const port = parentPort!;
const validator = buildValidator(recipe.validator);
// The main thread compiled these same sources at start, so they compile here too.
const mappings = new Map<string, CompiledMapping>(Object.entries(recipe.mappings).map(([code, source]) => [code, compileMapping(source)]));
// Outside Node's shared pool: only a buffer that owns its memory can be transferred.
const allocate = (size: number): Buffer => Buffer.allocUnsafeSlow(size);

port.on('message', (job: WorkerJob) => {
  let message: WorkerMessage;
  try {
    const mapping = mappings.get(job.deptCode);
    const result = readPayload(Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength), {
      contentType: job.contentType, validator, limits: recipe.limits, allocate,
      ...(mapping === undefined ? {} : { mapping }),
      ...(job.expectedType === undefined ? {} : { expectedType: job.expectedType }),
    });
    message = { id: job.id, result };
    port.postMessage(message, [result.contents.buffer as ArrayBuffer]);
  } catch (error) {
    message = { id: job.id, error: error instanceof Error ? { message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) } : { message: String(error) } };
    port.postMessage(message);
  }
});
port.postMessage({ ready: true } satisfies WorkerMessage);
