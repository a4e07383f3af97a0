/**
 * `standard`: the upstream protocol (docs/spec/upstream.md) — to the unified hall, a
 * province-level platform, govgate hall-sim or another govgate. One signed JSON batch per request
 * and department, an idempotency key per record version, and a receipt with one outcome per
 * record back.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { randomBytes } from 'node:crypto';
import got, { RequestError } from 'got';
import { signRequest, type SigningAlgorithm } from '../../client/sign.js';
import { HMAC_ALGORITHMS, MIN_SECRET_LENGTH, type SchemaNode } from '../../config/schema.js';
import { SPEC_VERSION } from '../../schemas/spec/index.js';
import { classifyStatus, retryAfterMs, TRANSPORT_ERRORS, UNKNOWN_TRANSPORT } from '../../sync/classify.js';
import { secretPair, secretProblems, secretValue } from '../secrets.js';
import type { BatchVerdict, Destination, DestinationKind, OutboundRecord, ReceiverAnswer, RecordVerdict } from '../types.js';

export interface StandardOptions {
  readonly url: string;
  readonly keyId: string;
  readonly secret?: string;
  readonly secretEnv?: string;
  readonly algorithm: SigningAlgorithm;
  readonly timeoutMs: number;
  readonly maxSockets: number;
}

const optionsSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['url', 'keyId'],
  'x-doc': { zh: '标准上报协议目的地的选项', en: 'Options of a standard-protocol destination' },
  properties: {
    url: {
      type: 'string', minLength: 8, maxLength: 2048, pattern: '^https?://', examples: ['https://hall.example.gov.cn/'],
      'x-doc': {
        zh: '接收方的基础地址；批次提交到 <url>/api/v1/batches。不跟随重定向。',
        en: 'Base URL of the receiver; batches go to <url>/api/v1/batches. Redirects are not followed.',
      },
    },
    keyId: {
      type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]*$', minLength: 1, maxLength: 64, examples: ['city-gw-2026'],
      'x-doc': { zh: '接收方为本网关分配的密钥编号。', en: 'Key id the receiver issued to this gateway.' },
    },
    ...secretPair('secret', { zh: '签名密钥', en: 'Signing secret' }, 'GOVGATE_HALL_SECRET', MIN_SECRET_LENGTH),
    algorithm: {
      type: 'string', enum: HMAC_ALGORITHMS, default: 'hmac-sha256', examples: ['hmac-sm3'],
      'x-doc': { zh: '签名算法。', en: 'Signature algorithm.' },
    },
    timeoutMs: {
      type: 'integer', minimum: 100, maximum: 600_000, default: 30_000, examples: [30_000],
      'x-doc': {
        zh: '单个请求的超时（毫秒）；超时按暂时性失败重试。须不超过 delivery.leaseSeconds 的一半（启动时检查）。',
        en: 'Timeout of one request in ms; a timeout is retried as transient. At most half of delivery.leaseSeconds (checked at start).',
      },
    },
    maxSockets: {
      type: 'integer', minimum: 1, maximum: 256, default: 16, examples: [16],
      'x-doc': { zh: '到接收方的长连接数上限。', en: 'Most keep-alive connections to the receiver.' },
    },
  },
};

/** Kept with attempts and dead letters: enough to see what the receiver said, never the whole body. */
const ANSWER_EXCERPT = 2000;

function excerpt(body: Buffer | string | undefined): string | undefined {
  if (body === undefined) return undefined;
  const text = typeof body === 'string' ? body : body.toString('utf8');
  return text.length > ANSWER_EXCERPT ? `${text.slice(0, ANSWER_EXCERPT)}…` : text;
}

interface ReceiptRecord {
  index?: unknown;
  outcome?: unknown;
  findings?: unknown;
}

/** Reads the receiver's receipt; every record sent gets a verdict, a missing one is transient. */
function verdictsFromReceipt(records: readonly OutboundRecord[], body: unknown): RecordVerdict[] | undefined {
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { records?: unknown }).records)) return undefined;
  const receiptId = (body as { receiptId?: unknown }).receiptId;
  const byIndex = new Map<number, ReceiptRecord>();
  for (const r of (body as { records: ReceiptRecord[] }).records) {
    if (r !== null && typeof r === 'object' && Number.isInteger(r.index)) byIndex.set(r.index as number, r);
  }
  return records.map((rec, i): RecordVerdict => {
    const answer = byIndex.get(i);
    const ref = typeof receiptId === 'string' ? `${receiptId}#${i}` : undefined;
    const withRef = ref === undefined ? {} : { receiverRef: ref };
    switch (answer?.outcome) {
      case 'new':
      case 'changed':
        return { entryId: rec.entryId, class: 'delivered', ...withRef };
      case 'unchanged':
        // The receiver already had exactly this version: a resend after a lost answer.
        return { entryId: rec.entryId, class: 'delivered', reason: { code: 'DUPLICATE', message: { zh: '接收方已有该版本', en: 'the receiver already had this version' } }, ...withRef };
      case 'stale':
      case 'rejected': {
        const findings = Array.isArray(answer.findings) ? answer.findings : [];
        const first = findings[0] as { code?: unknown; message?: { zh?: unknown; en?: unknown } } | undefined;
        const code = typeof first?.code === 'string' ? first.code : answer.outcome === 'stale' ? 'STALE' : 'REJECTED';
        const zh = typeof first?.message?.zh === 'string' ? first.message.zh : answer.outcome === 'stale' ? '接收方已有更新的版本' : '接收方拒收';
        const en = typeof first?.message?.en === 'string' ? first.message.en : answer.outcome === 'stale' ? 'the receiver holds a newer version' : 'rejected by the receiver';
        return { entryId: rec.entryId, class: 'rejected', reason: { code, message: { zh, en }, findings }, ...withRef };
      }
      default:
        return {
          entryId: rec.entryId, class: 'transient',
          reason: { code: 'NO_ANSWER_FOR_RECORD', message: { zh: `回执中没有第 ${i} 条记录的结果`, en: `the receipt has no outcome for record ${i}` } },
        };
    }
  });
}


function secretGone(name: string): never {
  throw new Error(`destination ${name}: its secret is no longer set`);
}

export const standardDestination: DestinationKind<StandardOptions> = {
  kind: 'standard',
  direction: 'destination',
  doc: {
    zh: '标准上报协议：签名的 JSON 批次（每批一个部门），每条记录带幂等键，接收方逐条回执。用于统一网厅、省级平台、hall-sim 与上级 govgate。',
    en: 'The upstream protocol: signed JSON batches (one department each), an idempotency key per record, a per-record receipt back. For the unified hall, province platforms, hall-sim and an upstream govgate.',
  },
  optionsSchema,

  validate(o, env) {
    return secretProblems(o as unknown as Record<string, unknown>, 'secret', env, true, '', MIN_SECRET_LENGTH);
  },

  create(name, o, context): Destination {
    // validate() ran at start; a secret missing now means the environment changed under us.
    const secret = secretValue(o as unknown as Record<string, unknown>, 'secret', context.env) ?? secretGone(name);
    const endpoint = new URL('api/v1/batches', o.url.endsWith('/') ? o.url : `${o.url}/`);
    const agent = { http: new HttpAgent({ keepAlive: true, maxSockets: o.maxSockets }), https: new HttpsAgent({ keepAlive: true, maxSockets: o.maxSockets }) };
    const client = got.extend({
      // The engine owns retries (stored, with backoff); a redirect could carry signed data elsewhere.
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      timeout: { request: o.timeoutMs },
      agent,
      responseType: 'buffer',
    });

    async function post(body: Buffer, signal: AbortSignal): Promise<{ status: number; body: Buffer; retryAfter?: number } | { error: string; message: string }> {
      const headers = {
        ...signRequest({ method: 'POST', url: endpoint, body, keyId: o.keyId, secret, algorithm: o.algorithm }),
        'content-type': 'application/json; charset=utf-8',
      };
      try {
        const res = await client.post(endpoint, { body, headers, signal, responseType: 'buffer' });
        const ra = retryAfterMs(res.headers['retry-after']);
        return { status: res.statusCode, body: res.body, ...(ra === undefined ? {} : { retryAfter: ra }) };
      } catch (err) {
        const code = err instanceof RequestError ? err.code : (err as { code?: string }).code ?? 'ERR_UNKNOWN';
        return { error: code, message: (err as Error).message };
      }
    }

    return {
      name,
      kind: 'standard',

      async send(records, signal): Promise<BatchVerdict> {
        const dept = records[0]!.deptCode;
        const batchId = `${name.slice(0, 16)}-${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
        // The records go in as the JSON text they were stored as: no parse and re-serialise.
        const envelope = `{"specVersion":${JSON.stringify(SPEC_VERSION)},"batchId":${JSON.stringify(batchId)},"senderDept":${JSON.stringify(dept)},` +
          `"sentAt":${JSON.stringify(new Date().toISOString())},"records":[${records.map((r) => r.contentJson).join(',')}],` +
          `"idempotencyKeys":${JSON.stringify(records.map((r) => r.idempotencyKey))}}`;
        const res = await post(Buffer.from(envelope, 'utf8'), signal);
        if ('error' in res) {
          const rule = TRANSPORT_ERRORS[res.error] ?? UNKNOWN_TRANSPORT;
          const answer: ReceiverAnswer = { error: res.error };
          return { class: rule.class === 'answered' ? 'transient' : rule.class, reason: { code: res.error, message: rule.why }, answer };
        }
        const answer: ReceiverAnswer = { status: res.status, ...(excerpt(res.body) === undefined ? {} : { body: excerpt(res.body)! }) };
        const rule = classifyStatus(res.status);
        if (rule.class !== 'answered') {
          return {
            class: rule.class, reason: { code: `HTTP_${res.status}`, message: rule.why }, answer,
            ...(res.retryAfter === undefined ? {} : { retryAfterMs: res.retryAfter }),
          };
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(res.body.toString('utf8'));
        } catch {
          parsed = undefined;
        }
        const verdicts = verdictsFromReceipt(records, parsed);
        if (verdicts === undefined) {
          // A 200 that is not a receipt: typically a proxy's or portal's HTML page. Whether the
          // receiver stored anything is unknown, so resend: the idempotency keys make that safe.
          return { class: 'transient', reason: { code: 'NOT_A_RECEIPT', message: { zh: '应答不是回执', en: 'the answer is not a receipt' } }, answer };
        }
        return { class: 'ok', records: verdicts, answer };
      },

      async check() {
        // A signed GET of a receipt that cannot exist: 404 proves address, signature and clock are
        // right; 401/403 says the credentials are not.
        const url = new URL('api/v1/receipts/govgate-check', endpoint);
        try {
          const res = await client.get(url, { headers: signRequest({ method: 'GET', url, keyId: o.keyId, secret, algorithm: o.algorithm }), timeout: { request: Math.min(o.timeoutMs, 10_000) } });
          const rule = classifyStatus(res.statusCode);
          if (res.statusCode === 404 || rule.class === 'answered') return { ok: true, message: { zh: `${name}：连接与认证正常`, en: `${name}: reachable, credentials accepted` }, detail: { status: res.statusCode } };
          return { ok: false, message: { zh: `${name}：${rule.why.zh}（HTTP ${res.statusCode}）`, en: `${name}: ${rule.why.en} (HTTP ${res.statusCode})` }, detail: { status: res.statusCode } };
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'ERR_UNKNOWN';
          const rule = TRANSPORT_ERRORS[code] ?? UNKNOWN_TRANSPORT;
          return { ok: false, message: { zh: `${name}：${rule.why.zh}（${code}）`, en: `${name}: ${rule.why.en} (${code})` }, detail: { error: code } };
        }
      },

      async close() {
        agent.http.destroy();
        agent.https.destroy();
      },
    };
  },
};
