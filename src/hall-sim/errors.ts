/**
 * The simulator's own error codes. The hall is not govgate, so its answers carry HALL_* codes and
 * never extend govgate's table (src/errors.ts), but they keep govgate's answer shape —
 * `{ code, message: { zh, en }, details }` — so a sender reads both the same way.
 */
import { isGovgateError } from '../errors.js';

export const HALL_ERRORS = {
  HALL_AUTH_MISSING: { status: 401, zh: '缺少签名认证信息', en: 'authentication is missing' },
  HALL_AUTH_KEY_UNKNOWN: { status: 401, zh: '未知的密钥编号', en: 'unknown key id' },
  HALL_AUTH_SIGNATURE_INVALID: { status: 401, zh: '签名校验失败', en: 'the signature does not verify' },
  HALL_AUTH_CLOCK_SKEW: { status: 401, zh: '请求时间戳超出允许的时间窗口', en: 'the request timestamp is outside the allowed window' },
  HALL_AUTH_REPLAY: { status: 401, zh: '随机数已使用过：疑似重放请求', en: 'the nonce was already used: the request looks like a replay' },
  HALL_JSON_INVALID: { status: 400, zh: '报文不是合法的 UTF-8 JSON', en: 'the body is not valid UTF-8 JSON' },
  HALL_ENVELOPE_INVALID: { status: 400, zh: '批次信封不符合大厅接口协议', en: 'the batch envelope does not follow the hall protocol' },
  HALL_QUERY_INVALID: { status: 400, zh: '查询参数不正确', en: 'invalid query parameters' },
  HALL_FAULTS_INVALID: { status: 400, zh: '故障设置不正确', en: 'invalid fault settings' },
  HALL_REQUEST_INVALID: { status: 400, zh: '请求不正确', en: 'invalid request' },
  HALL_PAYLOAD_TOO_LARGE: { status: 413, zh: '报文过大', en: 'the payload is too large' },
  HALL_ROUTE_NOT_FOUND: { status: 404, zh: '接口不存在', en: 'no such route' },
  HALL_INJECTED_ERROR: { status: 503, zh: '模拟故障：大厅暂时不可用', en: 'simulated fault: the hall is unavailable' },
  HALL_OUTAGE: { status: 503, zh: '模拟停机：大厅暂停服务', en: 'simulated outage: the hall is down' },
  HALL_SHUTTING_DOWN: { status: 503, zh: '大厅模拟器正在关闭', en: 'the hall simulator is shutting down' },
  HALL_INTERNAL: { status: 500, zh: '大厅模拟器内部错误', en: 'internal error in the hall simulator' },
} as const;

export type HallErrorCode = keyof typeof HALL_ERRORS;

export interface HallErrorBody {
  readonly code: HallErrorCode;
  readonly message: { readonly zh: string; readonly en: string };
  readonly details?: Record<string, unknown>;
}

export class HallError extends Error {
  readonly code: HallErrorCode;
  readonly statusCode: number;
  readonly messages: { readonly zh: string; readonly en: string };
  readonly details: Record<string, unknown>;

  /**
   * `detail` extends the code's message after a colon, in both languages; `messages` replaces it
   * whole; `status` overrides the code's (an injected fault may be a 500 or 502).
   */
  constructor(code: HallErrorCode, opts: {
    detail?: { zh: string; en: string }; messages?: { zh: string; en: string }; details?: Record<string, unknown>; status?: number;
  } = {}) {
    const def = HALL_ERRORS[code];
    const messages = opts.messages ?? (opts.detail === undefined ? { zh: def.zh, en: def.en } : { zh: `${def.zh}：${opts.detail.zh}`, en: `${def.en}: ${opts.detail.en}` });
    super(messages.en);
    this.name = 'HallError';
    this.code = code;
    this.statusCode = opts.status ?? def.status;
    this.messages = messages;
    this.details = opts.details ?? {};
  }

  body(): HallErrorBody {
    return { code: this.code, message: this.messages, details: this.details };
  }
}

/**
 * govgate's signature checks throw GOVGATE_AUTH_*; the hall answers with the same reason under its
 * own code and keeps govgate's wording, which says precisely what to fix (and, for a signature
 * mismatch, the string to sign the hall computed).
 */
export function fromAuthError(err: unknown): HallError | undefined {
  if (!isGovgateError(err) || !err.code.startsWith('GOVGATE_AUTH_')) return undefined;
  const code = `HALL_${err.code.slice('GOVGATE_'.length)}` as HallErrorCode;
  if (!(code in HALL_ERRORS)) return undefined;
  return new HallError(code, { messages: err.messages, details: { ...err.details } });
}
