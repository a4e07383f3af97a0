/**
 * A small client for department systems pushing to govgate. Node ≥ 20, no dependencies: it uses
 * the global `fetch` and `node:crypto` only, so `src/client/` can be copied into another project.
 *
 *   const gg = new GovgateClient({ baseUrl: 'https://gateway.example.gov.cn', keyId, secret });
 *   const receipt = await gg.submitBatch(envelope);          // object → JSON; Buffer → sent as is
 *   const again = await gg.getReceipt(receipt.receiptId);
 *
 * Every request is signed afresh (new timestamp, new nonce), so calling a method again after a
 * failure is a valid retry, never a replay. Failures throw `GovgateClientError` carrying the
 * gateway's stable code and its message in Chinese and English.
 */
import { requestTarget, signRequest, type SigningAlgorithm } from './sign.js';

export { signRequest, requestTarget, bodyDigest, stringToSign, sign, newNonce, SCHEME_OF, type SigningAlgorithm, type SignRequestOptions } from './sign.js';

export interface GovgateClientOptions {
  /** Where the gateway is served, e.g. `https://gateway.example.gov.cn` or `https://host/govgate/`. */
  readonly baseUrl: string | URL;
  readonly keyId: string;
  readonly secret: string;
  /** Default `hmac-sha256`; use the algorithm the key is configured with (`hmac-sm3` for 国密). */
  readonly algorithm?: SigningAlgorithm;
  /** Per request, in ms. Default 60 000. */
  readonly timeoutMs?: number;
}

export interface BilingualMessage {
  readonly zh: string;
  readonly en: string;
}

/** One problem the gateway found; see docs/errors.md for the codes. */
export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly path?: string;
  readonly recordIndex?: number;
  readonly recordKey?: string;
  readonly expected?: unknown;
  readonly found?: unknown;
  readonly message: BilingualMessage;
  readonly [more: string]: unknown;
}

/** The gateway's answer to a submission (the shape of `src/http/receipt.ts`, restated to keep this file standalone). */
export interface Receipt {
  readonly receiptId: string;
  readonly receivedAt: string;
  readonly deptCode: string;
  readonly batchId?: string;
  readonly status: 'accepted' | 'partial' | 'rejected';
  readonly counts: Readonly<Record<'records' | 'accepted' | 'rejected' | 'new' | 'changed' | 'unchanged' | 'stale', number>>;
  readonly records: readonly {
    readonly index: number;
    readonly recordType?: string;
    readonly key?: string;
    readonly dataVer?: number;
    readonly outcome: 'new' | 'changed' | 'unchanged' | 'stale' | 'rejected';
    readonly version?: number;
    readonly findings: readonly Finding[];
  }[];
  readonly findings: readonly Finding[];
}

/**
 * A request the gateway did not accept. `code` is the gateway's stable code (GOVGATE_…), or one of
 * the client's own, which never start with GOVGATE_:
 * - `CLIENT_REDIRECT`: the answer was a 3xx; redirects are never followed (see `request`).
 * - `CLIENT_UNEXPECTED_RESPONSE`: the answer was not govgate's JSON (a proxy's error page, say).
 */
export class GovgateClientError extends Error {
  readonly status: number;
  readonly code: string;
  readonly messages: BilingualMessage;
  readonly details: Readonly<Record<string, unknown>>;
  /** Present when the gateway stored a receipt for the refused submission. */
  readonly receiptId?: string;
  /** The parsed JSON body, or the text when it was not JSON. */
  readonly body: unknown;

  constructor(init: { status: number; code: string; messages: BilingualMessage; details?: Record<string, unknown>; receiptId?: string; body: unknown }) {
    super(`${init.code} (HTTP ${init.status}): ${init.messages.en} / ${init.messages.zh}`);
    this.name = 'GovgateClientError';
    this.status = init.status;
    this.code = init.code;
    this.messages = init.messages;
    this.details = init.details ?? {};
    if (init.receiptId !== undefined) this.receiptId = init.receiptId;
    this.body = init.body;
  }
}

export interface SubmitOptions {
  /**
   * Content-Type for a Buffer/string payload. Default: `application/xml` when the payload starts
   * with "<", else `application/json`, with no charset, so the gateway reads the encoding from the
   * XML declaration or BOM (GBK/GB18030 XML works as is). Objects are always sent as UTF-8 JSON.
   */
  readonly contentType?: string;
}

export type Payload = Uint8Array | string | object;

export class GovgateClient {
  readonly #base: URL;
  readonly #keyId: string;
  readonly #secret: string;
  readonly #algorithm: SigningAlgorithm;
  readonly #timeoutMs: number;

  constructor(options: GovgateClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TypeError(`baseUrl must be http(s), got ${base.protocol}`);
    // A trailing "/" makes relative resolution keep a path prefix such as /govgate/.
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = '';
    base.hash = '';
    this.#base = base;
    this.#keyId = options.keyId;
    this.#secret = options.secret;
    this.#algorithm = options.algorithm ?? 'hmac-sha256';
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** POST /api/v1/batches: a batch envelope (JSON or XML). */
  submitBatch(envelope: Payload, options: SubmitOptions = {}): Promise<Receipt> {
    return this.#submit('api/v1/batches', envelope, options);
  }

  /** POST /api/v1/records: one record in the standard shape (or the department's mapped shape). */
  submitRecord(record: Payload, options: SubmitOptions = {}): Promise<Receipt> {
    return this.#submit('api/v1/records', record, options);
  }

  /** GET /api/v1/receipts/:receiptId: the receipt of an earlier submission, e.g. after a lost response. */
  getReceipt(receiptId: string): Promise<Receipt> {
    return this.request('GET', `api/v1/receipts/${encodeURIComponent(receiptId)}`) as Promise<Receipt>;
  }

  /**
   * Any signed request; `path` is relative to `baseUrl` (e.g. `api/v1/batches?dryRun=1`).
   * Resolves with the parsed JSON of a 2xx answer.
   *
   * Redirects are never followed: a redirect could carry the signed payload — personal data — to
   * another host, and fetch would turn a POST answered with 303 into a GET. Any 3xx is an error.
   */
  async request(method: string, path: string, body?: Uint8Array, contentType?: string): Promise<unknown> {
    const url = new URL(path.replace(/^\/+/, ''), this.#base);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      // Signed over the exact bytes and the exact target fetch will send (requestTarget = WHATWG URL rules).
      ...signRequest({ method, url, body, keyId: this.#keyId, secret: this.#secret, algorithm: this.#algorithm }),
    };
    if (contentType !== undefined) headers['Content-Type'] = contentType;
    const res = await fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await res.text();
    const json = parseJson(text, res.headers.get('content-type'));

    if (res.status >= 300 && res.status < 400) {
      const location = res.headers.get('location') ?? '(none)';
      throw new GovgateClientError({
        status: res.status, code: 'CLIENT_REDIRECT', body: json ?? text, details: { location },
        messages: {
          zh: `网关返回重定向（${res.status}，Location: ${location}），客户端不跟随重定向：请将 baseUrl 设为网关的实际地址`,
          en: `the gateway answered with a redirect (${res.status}, Location: ${location}); redirects are not followed: set baseUrl to the gateway's actual address`,
        },
      });
    }
    if (res.ok) {
      if (json === undefined) throw unexpected(res.status, text, requestTarget(url));
      return json;
    }
    if (isErrorBody(json)) {
      throw new GovgateClientError({
        status: res.status, code: json.code, messages: json.message, body: json,
        ...(isRecord(json.details) ? { details: json.details } : {}),
        ...(typeof json.receiptId === 'string' ? { receiptId: json.receiptId } : {}),
      });
    }
    throw unexpected(res.status, text, requestTarget(url));
  }

  #submit(path: string, payload: Payload, options: SubmitOptions): Promise<Receipt> {
    let bytes: Uint8Array;
    let contentType = options.contentType;
    if (payload instanceof Uint8Array) {
      bytes = payload;
    } else if (typeof payload === 'string') {
      bytes = Buffer.from(payload, 'utf8');
    } else {
      bytes = Buffer.from(JSON.stringify(payload), 'utf8');
      contentType ??= 'application/json; charset=utf-8';
    }
    contentType ??= looksLikeXml(bytes) ? 'application/xml' : 'application/json';
    return this.request('POST', path, bytes, contentType) as Promise<Receipt>;
  }
}

function looksLikeXml(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3; // UTF-8 BOM
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  return bytes[i] === 0x3c; // "<"
}

function parseJson(text: string, contentType: string | null): unknown {
  if (text === '' || contentType === null || !/^application\/([\w.+-]*\+)?json\b/i.test(contentType)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isErrorBody(v: unknown): v is { code: string; message: BilingualMessage; details?: unknown; receiptId?: unknown } {
  return isRecord(v) && typeof v.code === 'string' && isRecord(v.message) && typeof v.message.zh === 'string' && typeof v.message.en === 'string';
}

function unexpected(status: number, text: string, target: string): GovgateClientError {
  const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new GovgateClientError({
    status, code: 'CLIENT_UNEXPECTED_RESPONSE', body: text, details: { target },
    messages: {
      zh: `${target} 返回 HTTP ${status}，但不是网关的 JSON 应答（可能来自代理）：${snippet}`,
      en: `${target} answered HTTP ${status} but not with the gateway's JSON (perhaps a proxy): ${snippet}`,
    },
  });
}
