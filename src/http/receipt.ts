/**
 * The answer to a submission, record by record, as the OpenAPI document describes it. It is written
 * in the same transaction as the data (src/store/queries/ingest.ts owns the type) and can be fetched
 * again by its id, so a client that lost the response learns what happened.
 */
export type { Receipt, RecordReceipt, ReceiptStatus, RecordOutcome } from '../store/queries/ingest.js';

/** JSON Schema of a receipt, for the OpenAPI document. */
export const RECEIPT_SCHEMA = {
  type: 'object',
  description: '回执 / receipt',
  properties: {
    receiptId: { type: 'string', description: '回执编号，可凭此再次查询 / receipt id; fetch it again with GET /api/v1/receipts/{id}' },
    receivedAt: { type: 'string', format: 'date-time' },
    deptCode: { type: 'string' },
    batchId: { type: 'string' },
    status: { type: 'string', enum: ['accepted', 'partial', 'rejected'], description: '全部接收 / 部分接收 / 全部拒收' },
    counts: {
      type: 'object',
      properties: Object.fromEntries(['records', 'accepted', 'rejected', 'new', 'changed', 'unchanged', 'stale'].map((k) => [k, { type: 'integer' }])),
    },
    records: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer', description: '在批次中的位置（从 0 起） / position in the batch, from 0' },
          recordType: { type: 'string' },
          key: { type: 'string' },
          dataVer: { type: 'integer' },
          outcome: { type: 'string', enum: ['new', 'changed', 'unchanged', 'stale', 'rejected'], description: '新增 / 变更 / 未变（重复发送） / 过期版本 / 拒收' },
          version: { type: 'integer' },
          findings: { type: 'array', items: { $ref: 'Finding#' } },
        },
      },
    },
    findings: { type: 'array', items: { $ref: 'Finding#' } },
  },
} as const;

export const FINDING_SCHEMA = {
  $id: 'Finding',
  type: 'object',
  description: '一处问题 / one finding',
  properties: {
    severity: { type: 'string', enum: ['error', 'warning'] },
    code: { type: 'string', description: '稳定的错误代码，见 docs/errors.md / stable code' },
    path: { type: 'string', description: 'JSON 指针 / JSON Pointer' },
    recordIndex: { type: 'integer' },
    recordKey: { type: 'string' },
    expected: {},
    found: {},
    offset: { type: 'integer' },
    line: { type: 'integer' },
    column: { type: 'integer' },
    message: { type: 'object', properties: { zh: { type: 'string' }, en: { type: 'string' } } },
  },
} as const;

export const ERROR_SCHEMA = {
  type: 'object',
  description: '错误 / error',
  properties: {
    code: { type: 'string' },
    message: { type: 'object', properties: { zh: { type: 'string' }, en: { type: 'string' } } },
    details: { type: 'object', additionalProperties: true },
    receiptId: { type: 'string' },
  },
} as const;
