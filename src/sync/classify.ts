/**
 * The one classification table: how a transport error or an HTTP status of a whole request maps
 * to what the engine does (src/adapters/types.ts `DeliveryClass`). Destinations use it for
 * everything that is not the receiver's per-record answer, so every kind retries, pauses and
 * dead-letters for the same reasons. docs/forwarding.md prints this table.
 */
import type { DeliveryClass, Doc } from '../adapters/types.js';

export type RequestClass = Exclude<DeliveryClass, 'delivered' | 'rejected'> | 'answered';

export interface ClassRule {
  readonly class: RequestClass;
  readonly why: Doc;
}

/** Transport errors (Node/got error codes): there was no answer at all. */
export const TRANSPORT_ERRORS: Readonly<Record<string, ClassRule>> = {
  ETIMEDOUT: { class: 'transient', why: { zh: '请求超时', en: 'request timed out' } },
  ECONNRESET: { class: 'transient', why: { zh: '连接被重置', en: 'connection reset' } },
  ECONNREFUSED: { class: 'transient', why: { zh: '连接被拒绝（对方未启动或宕机）', en: 'connection refused (receiver down)' } },
  ECONNABORTED: { class: 'transient', why: { zh: '连接中断', en: 'connection aborted' } },
  EPIPE: { class: 'transient', why: { zh: '连接已断开', en: 'broken pipe' } },
  EHOSTUNREACH: { class: 'transient', why: { zh: '主机不可达', en: 'host unreachable' } },
  ENETUNREACH: { class: 'transient', why: { zh: '网络不可达', en: 'network unreachable' } },
  EAI_AGAIN: { class: 'transient', why: { zh: '域名解析暂时失败', en: 'DNS lookup failed temporarily' } },
  // A name that does not resolve is usually a typo, but DNS outages on government networks happen too: retrying is
  // harmless, and the oldest-entry age alert says something is wrong either way.
  ENOTFOUND: { class: 'transient', why: { zh: '域名无法解析', en: 'host name not found' } },
  ERR_GOT_REQUEST_ERROR: { class: 'transient', why: { zh: '请求失败', en: 'request failed' } },
  // TLS: a certificate the gateway does not trust will not start being trusted by retrying.
  CERT_HAS_EXPIRED: { class: 'config', why: { zh: '对方证书已过期', en: 'receiver certificate expired' } },
  DEPTH_ZERO_SELF_SIGNED_CERT: { class: 'config', why: { zh: '对方证书为自签名且未被信任', en: 'receiver certificate is self-signed and not trusted' } },
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: { class: 'config', why: { zh: '无法验证对方证书', en: 'receiver certificate cannot be verified' } },
  ERR_TLS_CERT_ALTNAME_INVALID: { class: 'config', why: { zh: '对方证书与主机名不符', en: 'receiver certificate does not match the host name' } },
};

/** Unknown transport errors are retried: losing a record to an unrecognised error is worse than a retry. */
export const UNKNOWN_TRANSPORT: ClassRule = { class: 'transient', why: { zh: '网络错误', en: 'network error' } };

/** HTTP statuses of the whole request. `answered` means the receiver answered per record. */
export function classifyStatus(status: number): ClassRule {
  const exact = STATUS[status];
  if (exact !== undefined) return exact;
  if (status >= 200 && status < 300) return { class: 'answered', why: { zh: '已应答', en: 'answered' } };
  if (status >= 300 && status < 400) return { class: 'config', why: { zh: '对方要求重定向（不跟随，请修正地址）', en: 'the receiver redirects (not followed: fix the URL)' } };
  if (status >= 500) return { class: 'transient', why: { zh: '对方服务器错误', en: 'receiver server error' } };
  return { class: 'config', why: { zh: '对方拒绝了整个请求', en: 'the receiver refused the whole request' } };
}

const STATUS: Readonly<Record<number, ClassRule>> = {
  400: { class: 'config', why: { zh: '对方认为请求格式错误（整批）', en: 'the receiver found the request malformed (whole batch)' } },
  401: { class: 'auth', why: { zh: '认证失败（密钥或签名）', en: 'authentication failed (key or signature)' } },
  403: { class: 'auth', why: { zh: '无权限', en: 'forbidden' } },
  404: { class: 'config', why: { zh: '接口地址不存在', en: 'no such endpoint' } },
  405: { class: 'config', why: { zh: '对方不接受该方法', en: 'method not allowed' } },
  408: { class: 'transient', why: { zh: '对方等待请求超时', en: 'the receiver timed out waiting' } },
  409: { class: 'transient', why: { zh: '对方报告冲突，稍后重试', en: 'conflict at the receiver; retry later' } },
  413: { class: 'config', why: { zh: '请求体过大，请调小 batchSize', en: 'request too large: lower batchSize' } },
  415: { class: 'config', why: { zh: '对方不接受该内容类型', en: 'content type not accepted' } },
  425: { class: 'transient', why: { zh: '对方要求稍后重试', en: 'too early; retry later' } },
  429: { class: 'transient', why: { zh: '对方限流', en: 'rate limited by the receiver' } },
  501: { class: 'config', why: { zh: '对方未实现该接口', en: 'not implemented by the receiver' } },
};

/** Retry-After (seconds or an HTTP date) in ms; undefined when absent or unreadable. Capped at an hour. */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d{1,7}$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), 3_600_000);
}
