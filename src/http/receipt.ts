/**
 * The answer to a submission, record by record. It is written in the same transaction as the data
 * and can be fetched again by its id, so a client that lost the response learns what happened.
 */
import type { Finding } from '../schemas/findings.js';

export type RecordOutcome = 'new' | 'changed' | 'unchanged' | 'stale' | 'rejected';

export interface RecordReceipt {
  readonly index: number;
  readonly recordType?: string;
  readonly key?: string;
  readonly dataVer?: number;
  readonly outcome: RecordOutcome;
  /** The gateway's version number of the stored record (1, 2, …) when accepted. */
  readonly version?: number;
  readonly findings: readonly Finding[];
}

export type ReceiptStatus = 'accepted' | 'partial' | 'rejected';

export interface Receipt {
  readonly receiptId: string;
  readonly receivedAt: string;
  readonly deptCode: string;
  readonly batchId?: string;
  readonly status: ReceiptStatus;
  readonly counts: {
    readonly records: number;
    readonly accepted: number;
    readonly rejected: number;
    readonly new: number;
    readonly changed: number;
    readonly unchanged: number;
    readonly stale: number;
  };
  readonly records: readonly RecordReceipt[];
  /** Findings about the payload as a whole (malformed, hostile, wrong envelope). */
  readonly findings: readonly Finding[];
}

export function summarize(records: readonly RecordReceipt[], payloadFindings: readonly Finding[]): Pick<Receipt, 'status' | 'counts'> {
  const count = (o: RecordOutcome) => records.filter((r) => r.outcome === o).length;
  const rejected = count('rejected') + count('stale');
  const accepted = records.length - rejected;
  const status: ReceiptStatus = payloadFindings.some((f) => f.severity === 'error') || accepted === 0 ? 'rejected' : rejected > 0 ? 'partial' : 'accepted';
  return {
    status,
    counts: { records: records.length, accepted, rejected, new: count('new'), changed: count('changed'), unchanged: count('unchanged'), stale: count('stale') },
  };
}

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
