/** Spec v1: the record types, the batch envelope and the code tables, in one place. */
import { CASE_SPEC } from './case.js';
import { POWER_ITEM_SPEC } from './power-item.js';
import { SUPERVISION_SPEC } from './supervision.js';
import { DEPT_CODE_PATTERN } from './common.js';
import type { RecordSpec, RecordType } from './model.js';

export * from './model.js';
export * from './codes.js';
export { CASE_SPEC, POWER_ITEM_SPEC, SUPERVISION_SPEC };

export const RECORD_SPECS: Readonly<Record<RecordType, RecordSpec>> = {
  case: CASE_SPEC,
  powerItem: POWER_ITEM_SPEC,
  supervision: SUPERVISION_SPEC,
};

export const RECORD_TYPES = Object.keys(RECORD_SPECS) as RecordType[];

export function isRecordType(value: unknown): value is RecordType {
  return typeof value === 'string' && Object.hasOwn(RECORD_SPECS, value);
}

/**
 * The batch envelope. Records are validated one by one, so that one bad record is rejected
 * alone and the rest of the batch is still accepted.
 */
export const ENVELOPE = {
  zh: '批次信封',
  en: 'Batch envelope',
  fields: {
    specVersion: { zh: '接口规范版本', en: 'Spec version; "1" for this spec', example: '1' },
    batchId: { zh: '批次号', en: 'Batch id chosen by the sender, unique per sender', example: 'B20260310-0001', pattern: '^[0-9A-Za-z_.:-]{1,64}$', maxLength: 64 },
    senderDept: { zh: '发送部门代码', en: 'Code of the sending department (or gateway)', example: '11330100002489671K', pattern: DEPT_CODE_PATTERN, maxLength: 32 },
    sentAt: { zh: '发送时间', en: 'When the batch was sent (RFC 3339 with offset)', example: '2026-03-10T17:00:00+08:00' },
    records: { zh: '记录列表', en: 'The records; each carries `recordType` (case, powerItem or supervision)', example: [] },
    idempotencyKeys: {
      zh: '幂等键列表（可选，网关间转发使用）',
      en: 'Idempotency keys (optional; used when gateways forward): one per record, in the same order, naming that record version — a receiver that already has a key answers `unchanged` instead of storing it twice',
      example: ['11330100002489671K:case:1:330100-2026-000123'],
      pattern: '^[^\\u0000-\\u001f]{1,300}$', maxLength: 300,
    },
  },
} as const;
