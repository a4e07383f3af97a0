/**
 * rest-poll: GET or POST a department API on a schedule, JSON or XML (UTF-8, GBK, GB18030), page
 * by page (page number, offset or next link), incrementally by an "updated since" parameter.
 *
 * Cursor: the instant the last complete run began. The next run asks for records updated since
 * that instant less `overlapSeconds` (clock skew between the department and us, records stamped
 * while the last run was paging); the ingest store reports re-sent records as unchanged, so the
 * overlap costs bandwidth, never a duplicate version. The cursor moves only with the last page of
 * a run: a run that fails half-way is repeated from the old cursor.
 *
 * Transport policy (../../../shared/research/reliability.md): got with redirects refused (a 3xx
 * is a failure, so credentials never follow a redirect to another host), no retries inside a run
 * (the next run is the retry), every timeout phase bounded, the response size capped at
 * limits.maxPayloadBytes, no credentials in URLs.
 */
import got, { type Method } from 'got';
import { GovgateError } from '../../errors.js';
import { signRequest } from '../../client/sign.js';
import { readDocument } from '../../schemas/wire/index.js';
import type { SchemaNode } from '../../config/schema.js';
import type { CheckResult, JsonValue, PullAdapter, PullAdapterContext, PullAdapterSpec, PullKind, PullRun } from '../types.js';
import {
  aborted, countItems, formatTime, pointerGet, secretPair, secretProblems, secretValue, sourceFailure, TIME_FORMATS,
  type OptionProblem, type TimeFormat,
} from './common.js';

export interface RestPollOptions {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: Readonly<Record<string, unknown>>;
  readonly bodyFormat: 'json' | 'form';
  readonly charset?: string;
  readonly itemsPath?: string;
  readonly incremental?: {
    readonly sinceParam: string;
    readonly untilParam?: string;
    readonly format: TimeFormat;
    readonly offset: string;
    readonly overlapSeconds: number;
    readonly start?: string;
  };
  readonly paging: {
    readonly mode: 'none' | 'page' | 'offset' | 'next-link';
    readonly pageParam: string;
    readonly sizeParam: string;
    readonly pageSize: number;
    readonly firstPage: number;
    readonly offsetParam: string;
    readonly nextLinkPath?: string;
    readonly maxPages: number;
  };
  readonly auth: {
    readonly type: 'none' | 'basic' | 'bearer' | 'signed';
    readonly username?: string;
    readonly password?: string;
    readonly passwordEnv?: string;
    readonly token?: string;
    readonly tokenEnv?: string;
    readonly header: string;
    readonly keyId?: string;
    readonly secret?: string;
    readonly secretEnv?: string;
    readonly algorithm: 'hmac-sha256' | 'hmac-sm3';
  };
  readonly timeoutMs: number;
}

const PARAM = '^[A-Za-z_][A-Za-z0-9_.\\-\\[\\]]{0,63}$';
const param = (doc: { zh: string; en: string }, dflt: string | undefined, example: string): SchemaNode => ({
  type: 'string', pattern: PARAM, minLength: 1, maxLength: 64, examples: [example], 'x-doc': doc, ...(dflt === undefined ? {} : { default: dflt }),
});
const POINTER = '^(/[^/]*)*$';

const optionsSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['url'],
  'x-doc': { zh: 'rest-poll 选项', en: 'rest-poll options' },
  properties: {
    url: {
      type: 'string', pattern: '^https?://[^/@\\s]+(/\\S*)?$', minLength: 8, maxLength: 2048, examples: ['https://scjg.example.gov.cn/api/cases'],
      'x-doc': { zh: '接口地址（http 或 https）。不得在地址中写用户名或密码，请用 auth。', en: 'API address (http or https). Never put credentials in it; use auth.' },
    },
    method: { type: 'string', enum: ['GET', 'POST'], default: 'GET', examples: ['POST'], 'x-doc': { zh: '请求方法。', en: 'Request method.' } },
    headers: {
      type: 'object', default: {}, additionalProperties: { type: 'string', maxLength: 1024, 'x-doc': { zh: '头部取值', en: 'Header value' } },
      propertyNames: { pattern: '^[A-Za-z0-9-]{1,64}$', maxLength: 64 }, examples: [{ 'X-App-Id': 'govgate' }],
      'x-doc': { zh: '附加的请求头（非机密；令牌请用 auth）。', en: 'Extra request headers (not secret; put tokens in auth).' },
    },
    query: {
      type: 'object', default: {}, additionalProperties: { type: 'string', maxLength: 1024, 'x-doc': { zh: '参数取值', en: 'Parameter value' } },
      propertyNames: { pattern: PARAM, maxLength: 64 }, examples: [{ areaCode: '330100' }],
      'x-doc': { zh: '固定的查询参数。', en: 'Fixed query parameters.' },
    },
    body: {
      type: 'object', additionalProperties: true, examples: [{ type: 'case' }],
      'x-doc': { zh: 'POST 请求体中的固定字段；时间与分页参数也写入请求体。', en: 'Fixed fields of a POST body; the time and paging parameters go into the body too.' },
    },
    bodyFormat: {
      type: 'string', enum: ['json', 'form'], default: 'json', examples: ['form'],
      'x-doc': { zh: 'POST 请求体格式：json 或 form（application/x-www-form-urlencoded）。', en: 'POST body format: json or form (application/x-www-form-urlencoded).' },
    },
    charset: {
      type: 'string', enum: ['utf-8', 'gbk', 'gb2312', 'gb18030'], examples: ['gbk'],
      'x-doc': { zh: '接口未在 Content-Type 或 XML 声明中说明字符集时采用的字符集。', en: 'Charset to assume when the API states none in Content-Type or the XML declaration.' },
    },
    itemsPath: {
      type: 'string', pattern: POINTER, maxLength: 256, examples: ['/data/records'],
      'x-default-doc': { zh: '标准批次的 /records，或 JSON 数组本身', en: '/records of a standard batch, or the JSON array itself' },
      'x-doc': {
        zh: '响应中记录列表的位置（JSON Pointer；XML 从根元素内容算起，如 /DATA/ROW）。设置后，列表中的各项交给部门映射；原始响应照常原样保存。',
        en: 'Where the list of records sits in a response (JSON Pointer; for XML from the root element\'s content, e.g. /DATA/ROW). When set, the items go to the department mapping; the raw response is kept as it came.',
      },
    },
    incremental: {
      type: 'object', additionalProperties: false, required: ['sinceParam'],
      'x-doc': { zh: '增量拉取（按更新时间）', en: 'Incremental pulling (by update time)' },
      properties: {
        sinceParam: param({ zh: '“更新时间起”参数名。', en: 'Name of the "updated since" parameter.' }, undefined, 'updatedSince'),
        untilParam: param({ zh: '“更新时间止”参数名（可选；设置后每次运行请求 [起, 本次开始时间]）。', en: 'Name of the "updated until" parameter (optional; each run then asks for [since, start of this run]).' }, undefined, 'updatedUntil'),
        format: { type: 'string', enum: TIME_FORMATS, default: 'iso', examples: ['yyyy-MM-dd HH:mm:ss'], 'x-doc': { zh: '时间参数的格式。', en: 'Format of the time parameters.' } },
        offset: { type: 'string', pattern: '^[+-][0-9]{2}:[0-9]{2}$', default: '+08:00', examples: ['+08:00'], 'x-doc': { zh: '时间参数所用的时区偏移。', en: 'Offset the time parameters are written in.' } },
        overlapSeconds: { type: 'integer', minimum: 0, maximum: 604_800, default: 300, examples: [300], 'x-doc': { zh: '每次从上次运行开始时间之前这么多秒起请求；重复的记录按内容摘要识别为未变。', en: 'Each run asks from this many seconds before the previous run began; records sent again are recognised as unchanged by digest.' } },
        start: { type: 'string', minLength: 10, maxLength: 40, examples: ['2026-01-01T00:00:00+08:00'], 'x-default-doc': { zh: '不带起始参数（取全部）', en: 'no since parameter (everything)' }, 'x-doc': { zh: '首次运行的起始时间（RFC 3339）。', en: 'Start of the first run (RFC 3339).' } },
      },
    },
    paging: {
      type: 'object', additionalProperties: false, default: {},
      'x-doc': { zh: '分页', en: 'Paging' },
      properties: {
        mode: {
          type: 'string', enum: ['none', 'page', 'offset', 'next-link'], default: 'none', examples: ['page'],
          'x-doc': { zh: 'none 不分页；page 页码；offset 偏移量；next-link 响应中的下一页地址（nextLinkPath 或 Link 头）。', en: 'none; page (page number); offset; next-link (the next page\'s address from nextLinkPath or the Link header).' },
        },
        pageParam: param({ zh: '页码参数名。', en: 'Page-number parameter.' }, 'page', 'pageNo'),
        sizeParam: param({ zh: '每页条数参数名。', en: 'Page-size parameter.' }, 'pageSize', 'limit'),
        pageSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 100, examples: [200], 'x-doc': { zh: '每页条数；少于此数的一页视为最后一页。', en: 'Records per page; a shorter page is the last.' } },
        firstPage: { type: 'integer', minimum: 0, maximum: 1, default: 1, examples: [0], 'x-doc': { zh: '第一页的页码（0 或 1）。', en: 'Number of the first page (0 or 1).' } },
        offsetParam: param({ zh: '偏移量参数名。', en: 'Offset parameter.' }, 'offset', 'start'),
        nextLinkPath: { type: 'string', pattern: POINTER, maxLength: 256, examples: ['/links/next'], 'x-default-doc': { zh: 'HTTP Link 头（rel="next"）', en: 'the HTTP Link header (rel="next")' }, 'x-doc': { zh: '响应中下一页地址的位置（JSON Pointer）；须与 url 同源。', en: 'Where the next page\'s address sits in a response (JSON Pointer); it must have the url\'s origin.' } },
        maxPages: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, examples: [10_000], 'x-doc': { zh: '单次运行最多请求的页数（防止接口分页出错时无限循环）；超出则运行失败，游标不动。', en: 'Most pages one run requests (guards against an API whose paging never ends); beyond it the run fails and the cursor stays.' } },
      },
    },
    auth: {
      type: 'object', additionalProperties: false, default: {},
      'x-doc': { zh: '认证', en: 'Authentication' },
      properties: {
        type: { type: 'string', enum: ['none', 'basic', 'bearer', 'signed'], default: 'none', examples: ['bearer'], 'x-doc': { zh: 'none、basic（用户名密码）、bearer（令牌）或 signed（HMAC 签名头，见 docs/signing.md）。', en: 'none, basic (user and password), bearer (token) or signed (an HMAC signature header, see docs/signing.md).' } },
        username: { type: 'string', minLength: 1, maxLength: 128, examples: ['govgate'], 'x-doc': { zh: 'basic 认证的用户名。', en: 'User name for basic.' } },
        ...secretPair('password', { zh: 'basic 认证的密码', en: 'Password for basic' }, 'GOVGATE_SCJG_API_PASSWORD'),
        ...secretPair('token', { zh: 'bearer 令牌', en: 'Bearer token' }, 'GOVGATE_SCJG_API_TOKEN'),
        header: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$', default: 'Authorization', examples: ['X-Access-Token'], 'x-doc': { zh: '令牌所在的请求头；为 Authorization 时写作 “Bearer <令牌>”，否则只写令牌。', en: 'Header that carries the token; Authorization gets "Bearer <token>", any other header the token alone.' } },
        keyId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', maxLength: 64, examples: ['govgate-scjg'], 'x-doc': { zh: 'signed 认证的密钥编号。', en: 'Key id for signed.' } },
        ...secretPair('secret', { zh: 'signed 认证的签名密钥', en: 'Signing secret for signed' }, 'GOVGATE_SCJG_API_SECRET'),
        algorithm: { type: 'string', enum: ['hmac-sha256', 'hmac-sm3'], default: 'hmac-sha256', examples: ['hmac-sm3'], 'x-doc': { zh: 'signed 认证的签名算法。', en: 'Signature algorithm for signed.' } },
      },
    },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000, default: 30_000, examples: [30_000], 'x-doc': { zh: '单次请求的时限（毫秒，含连接、发送与等待响应）。', en: 'Time allowed for one request in ms (connect, send and response together).' } },
  },
};

function validate(o: RestPollOptions, env: NodeJS.ProcessEnv): OptionProblem[] {
  const a = o.auth as unknown as Record<string, unknown>;
  const out: OptionProblem[] = [];
  if (o.auth.type === 'basic') {
    if (o.auth.username === undefined) out.push({ path: 'auth.username', zh: 'basic 认证须给出 username', en: 'basic needs username' });
    out.push(...secretProblems(a, 'password', env, true, 'auth'));
  }
  if (o.auth.type === 'bearer') out.push(...secretProblems(a, 'token', env, true, 'auth'));
  if (o.auth.type === 'signed') {
    if (o.auth.keyId === undefined) out.push({ path: 'auth.keyId', zh: 'signed 认证须给出 keyId', en: 'signed needs keyId' });
    out.push(...secretProblems(a, 'secret', env, true, 'auth'));
  }
  if (o.body !== undefined && o.method !== 'POST') out.push({ path: 'body', zh: 'body 只用于 POST', en: 'body is for POST only' });
  if (o.incremental?.start !== undefined && Number.isNaN(Date.parse(o.incremental.start))) {
    out.push({ path: 'incremental.start', zh: `${o.incremental.start} 不是有效的 RFC 3339 时间`, en: `${o.incremental.start} is not a valid RFC 3339 time` });
  }
  return out;
}

interface Fetched {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  readonly url: string;
}

function isRestCursor(v: JsonValue | undefined): v is { since: string } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.since === 'string';
}

/** `<https://x/y?page=2>; rel="next"` → the URL. */
function linkNext(header: string | string[] | undefined): string | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === undefined) return undefined;
  for (const part of text.split(',')) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m !== null && /rel="?next"?/i.test(m[2]!)) return m[1];
  }
  return undefined;
}

class RestPoll implements PullAdapter {
  readonly kind = 'rest-poll';
  private readonly secrets: string[];

  constructor(readonly name: string, private readonly o: RestPollOptions, private readonly ctx: PullAdapterContext) {
    const a = o.auth as unknown as Record<string, unknown>;
    this.secrets = ['password', 'token', 'secret'].map((n) => secretValue(a, n, ctx.env)).filter((s): s is string => s !== undefined);
  }

  private authHeaders(method: string, url: string, body: Buffer | undefined): Record<string, string> {
    const a = this.o.auth;
    const raw = a as unknown as Record<string, unknown>;
    switch (a.type) {
      case 'basic': {
        const pw = secretValue(raw, 'password', this.ctx.env) ?? '';
        return { Authorization: `Basic ${Buffer.from(`${a.username ?? ''}:${pw}`, 'utf8').toString('base64')}` };
      }
      case 'bearer': {
        const token = secretValue(raw, 'token', this.ctx.env) ?? '';
        return a.header.toLowerCase() === 'authorization' ? { Authorization: `Bearer ${token}` } : { [a.header]: token };
      }
      case 'signed':
        return signRequest({ method, url, body: body ?? Buffer.alloc(0), keyId: a.keyId ?? '', secret: secretValue(raw, 'secret', this.ctx.env) ?? '', algorithm: a.algorithm });
      default:
        return {};
    }
  }

  /** One request; HTTP-level failures are GovgateErrors, never a silent empty page. */
  private async fetch(url: string, params: Record<string, string>, signal: AbortSignal): Promise<Fetched> {
    const o = this.o;
    const target = new URL(url);
    let body: Buffer | undefined;
    const headers: Record<string, string> = { ...o.headers };
    if (o.method === 'GET') {
      for (const [k, v] of Object.entries({ ...o.query, ...params })) target.searchParams.set(k, v);
    } else {
      for (const [k, v] of Object.entries(o.query)) target.searchParams.set(k, v);
      const fields = { ...(o.body ?? {}), ...params };
      if (o.bodyFormat === 'form') {
        body = Buffer.from(new URLSearchParams(Object.entries(fields).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString(), 'utf8');
        headers['content-type'] = 'application/x-www-form-urlencoded';
      } else {
        body = Buffer.from(JSON.stringify(fields), 'utf8');
        headers['content-type'] = 'application/json; charset=utf-8';
      }
    }
    Object.assign(headers, this.authHeaders(o.method, target.toString(), body));
    const max = this.ctx.limits.maxBytes;
    const tooBig = new AbortController();
    const both = AbortSignal.any([signal, tooBig.signal]);
    try {
      const request = got(target, {
        method: o.method as Method, headers, ...(body === undefined ? {} : { body }),
        followRedirect: false, throwHttpErrors: false, retry: { limit: 0 }, responseType: 'buffer',
        decompress: true, enableUnixSockets: false, signal: both,
        timeout: { lookup: o.timeoutMs, connect: o.timeoutMs, secureConnect: o.timeoutMs, send: o.timeoutMs, response: o.timeoutMs, request: o.timeoutMs },
      });
      request.on('downloadProgress', (p: { transferred: number }) => {
        if (p.transferred > max) tooBig.abort();
      });
      const res = await request;
      return { status: res.statusCode, headers: res.headers, body: res.body, url: target.toString() };
    } catch (err) {
      if (signal.aborted) throw aborted(this.name);
      if (tooBig.signal.aborted) throw new GovgateError('GOVGATE_PAYLOAD_TOO_LARGE', { limit: max, found: `>${max}` });
      throw sourceFailure(this.name, err, this.secrets);
    }
  }

  private httpFailure(f: Fetched): GovgateError | undefined {
    if (f.status >= 200 && f.status < 300) return undefined;
    const snippet = f.body.subarray(0, 200).toString('utf8').replace(/\s+/g, ' ');
    if (f.status >= 300 && f.status < 400) {
      return new GovgateError('GOVGATE_PULL_SOURCE_ERROR', {
        adapter: this.name,
        detail: `HTTP ${f.status} 重定向到 ${String(f.headers['location'] ?? '-')}：拉取不跟随重定向，请改 url`,
        detailEn: `HTTP ${f.status} redirect to ${String(f.headers['location'] ?? '-')}: pulls do not follow redirects; fix the url`,
      });
    }
    if (f.status === 401 || f.status === 403) return new GovgateError('GOVGATE_PULL_SOURCE_AUTH', { adapter: this.name, detail: `HTTP ${f.status} ${snippet}` });
    return new GovgateError('GOVGATE_PULL_SOURCE_ERROR', { adapter: this.name, detail: `HTTP ${f.status} ${snippet}` });
  }

  private contentType(f: Fetched): string {
    const ct = String(f.headers['content-type'] ?? '');
    if (this.o.charset === undefined || /charset=/i.test(ct)) return ct;
    return `${ct === '' ? 'application/octet-stream' : ct}; charset=${this.o.charset}`;
  }

  /** Reads the page to count its records and find the next link; intake reads it again, as the store's copy. */
  private inspect(f: Fetched, contentType: string): { items: unknown[] | undefined; count: number; next?: string; encoding?: string } {
    const read = readDocument(f.body, { contentType, maxBytes: this.ctx.limits.maxBytes, maxDepth: this.ctx.limits.maxDepth });
    if (!read.ok) return { items: undefined, count: -1 };
    const value = read.value;
    let list: unknown;
    if (this.o.itemsPath !== undefined) list = pointerGet(value, this.o.itemsPath);
    else if (Array.isArray(value)) list = value;
    else if (value !== null && typeof value === 'object' && Object.hasOwn(value, 'records')) list = (value as Record<string, unknown>)['records'];
    else if (read.format === 'xml' && read.xmlRoot === 'batch') list = pointerGet(value, '/records/record');
    else list = value === '' ? undefined : value;
    const count = countItems(list);
    const items = this.o.itemsPath === undefined ? undefined : Array.isArray(list) ? list : count === 0 ? [] : [list];
    let next: string | undefined;
    if (this.o.paging.mode === 'next-link') {
      const n = this.o.paging.nextLinkPath === undefined ? linkNext(f.headers['link']) : pointerGet(value, this.o.paging.nextLinkPath);
      if (typeof n === 'string' && n.trim() !== '') next = n.trim();
    }
    return { items, count, encoding: read.encoding, ...(next === undefined ? {} : { next }) };
  }

  async check(): Promise<CheckResult> {
    try {
      const params = this.timeParams(new Date(Date.now() - 60_000), new Date());
      if (this.o.paging.mode === 'page') Object.assign(params, { [this.o.paging.pageParam]: String(this.o.paging.firstPage), [this.o.paging.sizeParam]: '1' });
      if (this.o.paging.mode === 'offset') Object.assign(params, { [this.o.paging.offsetParam]: '0', [this.o.paging.sizeParam]: '1' });
      const f = await this.fetch(this.o.url, params, AbortSignal.timeout(this.o.timeoutMs + 1000));
      const bad = this.httpFailure(f);
      if (bad !== undefined) return { ok: false, message: bad.messages, detail: { code: bad.code, status: f.status } };
      const seen = this.inspect(f, this.contentType(f));
      if (seen.count < 0) {
        return { ok: false, message: { zh: `接口可达（HTTP ${f.status}），但响应不是可读的 JSON 或 XML`, en: `the API answered (HTTP ${f.status}) but not with readable JSON or XML` }, detail: { status: f.status } };
      }
      return { ok: true, message: { zh: `接口可达，认证通过（HTTP ${f.status}）`, en: `the API answered and accepted the credentials (HTTP ${f.status})` }, detail: { status: f.status } };
    } catch (err) {
      const e = sourceFailure(this.name, err, this.secrets);
      return { ok: false, message: e.messages, detail: { code: e.code } };
    }
  }

  private timeParams(since: Date | undefined, until: Date | undefined): Record<string, string> {
    const inc = this.o.incremental;
    if (inc === undefined) return {};
    const out: Record<string, string> = {};
    if (since !== undefined) out[inc.sinceParam] = formatTime(since, inc.format, inc.offset);
    if (until !== undefined && inc.untilParam !== undefined) out[inc.untilParam] = formatTime(until, inc.format, inc.offset, true);
    return out;
  }

  async run(run: PullRun): Promise<void> {
    const o = this.o;
    const inc = o.incremental;
    if (run.window !== undefined && inc === undefined) {
      throw new GovgateError('GOVGATE_PULL_BACKFILL_UNSUPPORTED', { kind: `${this.kind}（无 incremental / without incremental）` });
    }
    const started = new Date();
    let since: Date | undefined;
    if (run.window?.since !== undefined) since = run.window.since;
    else if (isRestCursor(run.cursor)) since = new Date(new Date(run.cursor.since).getTime() - (inc?.overlapSeconds ?? 0) * 1000);
    else if (inc?.start !== undefined) since = new Date(inc.start);
    const until = run.window?.until ?? (inc?.untilParam === undefined ? undefined : started);
    const cursor: JsonValue | undefined = inc === undefined || run.window !== undefined ? undefined : { since: started.toISOString() };

    const p = o.paging;
    let url = o.url;
    let page = p.firstPage;
    let offset = 0;
    for (let n = 1; ; n++) {
      if (run.signal.aborted) throw aborted(this.name);
      if (n > p.maxPages) {
        throw new GovgateError('GOVGATE_PULL_SOURCE_ERROR', {
          adapter: this.name,
          detail: `分页超过 maxPages（${p.maxPages}）仍未结束，游标未前移`,
          detailEn: `paging did not end within maxPages (${p.maxPages}); the cursor did not move`,
        });
      }
      const params: Record<string, string> = url === o.url ? this.timeParams(since, until) : {};
      if (p.mode === 'page') Object.assign(params, { [p.pageParam]: String(page), [p.sizeParam]: String(p.pageSize) });
      if (p.mode === 'offset') Object.assign(params, { [p.offsetParam]: String(offset), [p.sizeParam]: String(p.pageSize) });
      // The first request of a next-link run states the page size; later ones follow the links as given.
      if (p.mode === 'next-link' && url === o.url) params[p.sizeParam] = String(p.pageSize);
      const f = await this.fetch(url, params, run.signal);
      const bad = this.httpFailure(f);
      if (bad !== undefined) throw bad;
      const contentType = this.contentType(f);
      const seen = this.inspect(f, contentType);
      // An unreadable page is stored and rejected by intake (the runner fails the run, the
      // cursor stays): a department's HTML error page with status 200 is evidence, not data.
      const last = p.mode === 'none' || seen.count < 0
        || (p.mode === 'next-link' ? seen.next === undefined : seen.count < p.pageSize);
      const move = last && cursor !== undefined ? { cursor } : {};
      if (seen.count !== 0) {
        const document = seen.items === undefined ? undefined : { body: Buffer.from(JSON.stringify(seen.items), 'utf8'), contentType: 'application/json; charset=utf-8' };
        const raw = { body: f.body, contentType: contentType === '' ? 'application/octet-stream' : contentType, ...(seen.encoding === undefined ? {} : { encoding: seen.encoding }) };
        await run.emit({ raw, ...(document === undefined ? {} : { document }) }, move);
      } else if (last && cursor !== undefined) {
        await run.saveCursor(cursor);
      }
      if (last) break;
      if (p.mode === 'page') page++;
      else if (p.mode === 'offset') offset += seen.count;
      else {
        const next = new URL(seen.next!, url);
        if (next.origin !== new URL(o.url).origin) {
          throw new GovgateError('GOVGATE_PULL_SOURCE_ERROR', {
            adapter: this.name,
            detail: `下一页地址 ${next.origin} 与 url 不同源，拒绝请求（凭据不发往他处）`,
            detailEn: `the next-page address ${next.origin} has another origin than url; refused (credentials go nowhere else)`,
          });
        }
        url = next.toString();
      }
    }
  }

  async close(): Promise<void> {
    // got keeps no connection state of ours between requests.
  }
}

export const restPoll: PullKind<RestPollOptions> = {
  kind: 'rest-poll',
  direction: 'pull',
  doc: {
    zh: '定时请求部门的 REST/HTTP 接口（GET 或 POST，JSON 或 XML，含 GBK），支持按页码、偏移量或下一页链接分页，按“更新时间起”参数增量拉取，basic、bearer 或签名头认证。',
    en: 'Polls a department REST/HTTP API (GET or POST, JSON or XML including GBK) with paging by page number, offset or next link, incremental by an "updated since" parameter, and basic, bearer or signed-header authentication.',
    details: {
      zh: '游标是上次完整运行的开始时间；下次请求从它之前 overlapSeconds 秒开始，重复的记录由存储识别为未变。游标只随最后一页提交：中途失败的运行下次从原游标重来。不跟随重定向（3xx 视为失败），一次运行内不重试（下次运行即重试）。',
      en: 'The cursor is the start of the last complete run; the next request starts overlapSeconds before it, and records sent again are recognised as unchanged by the store. The cursor commits with the last page only: a run that fails half-way is repeated from the old cursor. Redirects are not followed (a 3xx is a failure) and nothing is retried within a run (the next run is the retry).',
    },
  },
  optionsSchema,
  backfill: true,
  validate,
  create(spec: PullAdapterSpec<RestPollOptions>, context: PullAdapterContext): PullAdapter {
    return new RestPoll(spec.name, spec.options, context);
  },
};
