/**
 * The push API: departments submit batches or single records (JSON or XML, UTF-8/GBK/GB18030)
 * and get a receipt per record, sent only after the data is committed.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, GovgateError } from '../errors.js';
import { finding, type Finding } from '../schemas/findings.js';
import type { PayloadReader } from '../pipeline/intake-pool.js';
import { toIngestInput } from '../pipeline/to-ingest.js';
import type { RecordType } from '../schemas/spec/index.js';
import { sendError } from './errors.js';
import { createTurns } from './turns.js';
import type { Authenticate, Authenticated } from './auth.js';
import type { IngestInput, Receipt } from '../store/queries/ingest.js';

export interface PushStore {
  /** Commits everything for one payload and returns the receipt, or throws GOVGATE_AUTH_REPLAY / GOVGATE_DB_UNAVAILABLE. */
  ingest(req: IngestInput): Promise<Receipt>;
  getReceipt(receiptId: string, deptCode: string): Promise<Receipt | undefined>;
}

interface PushOptions {
  readonly auth: Authenticate;
  readonly store: PushStore;
  /** Reads payloads: inline, or on intake workers (pipeline/intake-pool.ts). */
  readonly reader: PayloadReader;
  readonly maxInFlight: number;
  readonly schemas: { receipt: object; error: object };
}

const BODY_DOC = {
  description: '批次信封或单条记录，JSON 或 XML（UTF-8、GBK、GB18030）；格式见 docs/spec/。 / A batch envelope or a single record, JSON or XML; see docs/spec/.',
  content: {
    'application/json': { schema: { type: 'object' } },
    'application/xml': { schema: { type: 'string' } },
  },
};

/**
 * The department a payload is stored under: the signer's own, or — for a downstream gateway
 * (`relayFor`) — the one its batch names in senderDept.
 */
function payloadDepartment(auth: Authenticated, envelopeSender: string | undefined): string {
  const relay = auth.department.relayFor;
  if (relay === undefined || envelopeSender === undefined) return auth.deptCode;
  return relay.includes('*') || relay.includes(envelopeSender) ? envelopeSender : auth.deptCode;
}

/** Every record must belong to the payload's department, which the signer must be allowed to submit for. */
function foreignDepartment(auth: Authenticated, dept: string, envelopeSender: string | undefined, records: ReadonlyArray<{ deptCode?: string; index: number }>, single: boolean): GovgateError | undefined {
  if (envelopeSender !== undefined && envelopeSender !== dept) {
    return new GovgateError('GOVGATE_FORBIDDEN_DEPARTMENT', { expected: dept, found: envelopeSender, path: '/senderDept' });
  }
  const other = records.find((r) => r.deptCode !== undefined && r.deptCode !== dept);
  if (other !== undefined) {
    return new GovgateError('GOVGATE_FORBIDDEN_DEPARTMENT', { expected: dept, found: other.deptCode, path: single ? '/deptCode' : `/records/${other.index}/deptCode` });
  }
  return undefined;
}

export const pushRoutes: FastifyPluginAsync<PushOptions> = async (app, opts) => {
  let inFlight = 0;
  // Reading submissions one per turn of the event loop keeps the group commit's database answers
  // from queueing behind a burst of them (turns.ts).
  const turns = createTurns();

  const responses = {
    200: opts.schemas.receipt,
    400: opts.schemas.error,
    401: opts.schemas.error,
    403: opts.schemas.error,
    413: opts.schemas.error,
    415: opts.schemas.error,
    503: opts.schemas.error,
  };

  async function submit(req: FastifyRequest, reply: FastifyReply, expectedType?: RecordType): Promise<FastifyReply> {
    if (inFlight >= opts.maxInFlight) {
      return sendError(reply, new GovgateError('GOVGATE_OVERLOADED', { retryAfter: 1 }), { retryAfter: 1 });
    }
    inFlight++;
    let who: Authenticated | undefined;
    let committed = false;
    try {
      await turns.take();
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      who = opts.auth(req, body);
      const contentType = req.headers['content-type'] ?? '';
      const read = await opts.reader.read(body, { contentType, deptCode: who.deptCode, ...(expectedType === undefined ? {} : { expectedType }) });
      const dept = payloadDepartment(who, read.envelope?.senderDept);
      const forbidden = foreignDepartment(who, dept, read.envelope?.senderDept, read.records, read.kind === 'record');
      const payloadFindings: Finding[] = [...read.payloadFindings];
      if (forbidden !== undefined) payloadFindings.push(finding('error', forbidden.code, { ...forbidden.details }));
      const receipt = await opts.store.ingest(toIngestInput({
        deptCode: dept,
        source: dept === who.deptCode ? 'http-push' : `relay:${who.deptCode}`,
        raw: { body, contentType, digests: { [who.bodyDigest.algorithm]: who.bodyDigest.hex } },
        ...(read.encoding === undefined ? {} : { encoding: read.encoding }),
        ...(read.envelope === undefined ? {} : { batchId: read.envelope.batchId }),
        payloadFindings,
        nonce: { keyId: who.keyId, nonce: who.nonce },
        records: read.records,
        contents: read.contents,
      }));

      committed = true;
      if (forbidden !== undefined) return sendError(reply, forbidden, { receiptId: receipt.receiptId });
      const fatal = payloadFindings.find((f) => f.severity === 'error');
      if (fatal !== undefined) {
        return reply.code(ERRORS[fatal.code].status).send({ code: fatal.code, message: fatal.message, details: { findings: payloadFindings }, receiptId: receipt.receiptId });
      }
      // Processed and stored: 200 with the per-record outcome, even when every record was rejected.
      return reply.code(200).send(receipt);
    } finally {
      inFlight--;
      if (who !== undefined && !committed) opts.auth.forget(who.keyId, who.nonce);
    }
  }

  const common = (summary: string, description: string) => ({
    summary, description, tags: ['push'], security: [{ govgateHmac: [] }], 'x-body': BODY_DOC, response: responses,
  });

  app.post('/batches', { schema: common('提交批次 / submit a batch', '批次信封：specVersion、batchId、senderDept、sentAt、records。每条记录单独校验，一条有错只拒收该条。 / A batch envelope; each record is validated on its own.') },
    (req, reply) => submit(req, reply));
  app.post('/records', { schema: common('提交单条记录 / submit one record', '带 recordType 的单条记录。 / One record with its recordType.') },
    (req, reply) => submit(req, reply));
  for (const [path, type] of [['cases', 'case'], ['power-items', 'powerItem'], ['supervisions', 'supervision']] as const) {
    app.post(`/${path}`, { schema: common(`提交${type === 'case' ? '办件' : type === 'powerItem' ? '权力事项' : '督办'} / submit a ${type}`, `单条 ${type} 记录；recordType 可省略。 / One ${type} record; recordType may be omitted.`) },
      (req, reply) => submit(req, reply, type));
  }

  app.get<{ Params: { receiptId: string } }>('/receipts/:receiptId', {
    schema: {
      summary: '查询回执 / fetch a receipt', tags: ['push'], security: [{ govgateHmac: [] }],
      params: { type: 'object', properties: { receiptId: { type: 'string', maxLength: 64 } }, required: ['receiptId'] },
      response: { 200: opts.schemas.receipt, 401: opts.schemas.error, 404: opts.schemas.error },
    },
  }, async (req, reply) => {
    const who = opts.auth(req, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    const receipt = await opts.store.getReceipt(req.params.receiptId, who.deptCode);
    // Another department's receipt is reported exactly like a missing one: no existence oracle.
    if (receipt === undefined) return sendError(reply, new GovgateError('GOVGATE_NOT_FOUND', { what: '回执 receipt', found: req.params.receiptId }));
    return reply.send(receipt);
  });
};

