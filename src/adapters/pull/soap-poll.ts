/**
 * soap-poll: calls an operation of a department WebService (SOAP 1.1 or 1.2, through the `soap`
 * package) on a schedule and reads records from the answer, in one of two shapes:
 *
 * - `document`: the result field holds a whole document as a string — the spec's XML batch form,
 *   JSON, or the department's own XML (`<?xml version="1.0" encoding="gb2312"?><paras>…`, the
 *   ASMX habit). The string is turned back into bytes in the encoding it declares, so intake reads
 *   exactly what the department wrote.
 * - `records`: the result field holds the records as SOAP elements (`<ROW><PROJID>…`); they go to
 *   the department's mapping as JSON.
 *
 * The raw inbox keeps the SOAP response envelope as received; intake reads the document (or the
 * records) from it. Incremental and paging values are placeholders in `args`: `{since}`,
 * `{until}`, `{page}`, `{pageSize}`. Cursor semantics are rest-poll's (the start of the last
 * complete run, less an overlap).
 */
import iconv from 'iconv-lite';
import { GovgateError } from '../../errors.js';
import { readDocument } from '../../schemas/wire/index.js';
import type { SchemaNode } from '../../config/schema.js';
import type { CheckResult, JsonValue, PullAdapter, PullAdapterContext, PullAdapterSpec, PullKind, PullRun } from '../types.js';
import {
  aborted, countItems, formatTime, pointerGet, secretPair, secretProblems, secretValue, sourceFailure, TIME_FORMATS,
  type OptionProblem, type TimeFormat,
} from './common.js';

export interface SoapPollOptions {
  readonly wsdl: string;
  readonly endpoint?: string;
  readonly service?: string;
  readonly port?: string;
  readonly operation: string;
  readonly soapVersion: '1.1' | '1.2';
  readonly args: Readonly<Record<string, unknown>>;
  readonly result: { readonly path: string; readonly shape: 'document' | 'records' };
  readonly itemsPath?: string;
  readonly incremental?: { readonly format: TimeFormat; readonly offset: string; readonly overlapSeconds: number; readonly start?: string };
  readonly paging: { readonly mode: 'none' | 'page'; readonly pageSize: number; readonly firstPage: number; readonly maxPages: number };
  readonly auth: { readonly type: 'none' | 'basic' | 'ws-security'; readonly username?: string; readonly password?: string; readonly passwordEnv?: string };
  readonly timeoutMs: number;
}

const NAME = '^[A-Za-z_][A-Za-z0-9_.-]{0,127}$';
const POINTER = '^(/[^/]*)*$';

const optionsSchema: SchemaNode = {
  type: 'object', additionalProperties: false, required: ['wsdl', 'operation', 'result'],
  'x-doc': { zh: 'soap-poll 选项', en: 'soap-poll options' },
  properties: {
    wsdl: { type: 'string', minLength: 1, maxLength: 2048, examples: ['http://10.12.0.40/CaseExchange.asmx?wsdl'], 'x-doc': { zh: 'WSDL 的地址（http/https）或本地文件路径。', en: 'WSDL address (http/https) or a local file path.' } },
    endpoint: { type: 'string', pattern: '^https?://[^/@\\s]+(/\\S*)?$', maxLength: 2048, examples: ['http://10.12.0.40/CaseExchange.asmx'], 'x-default-doc': { zh: 'WSDL 中的地址', en: 'the address in the WSDL' }, 'x-doc': { zh: '服务地址（覆盖 WSDL 中的 soap:address）。', en: 'Service address (overrides soap:address in the WSDL).' } },
    service: { type: 'string', pattern: NAME, maxLength: 128, examples: ['CaseExchange'], 'x-default-doc': { zh: 'WSDL 中的第一个服务', en: 'the WSDL\'s first service' }, 'x-doc': { zh: '服务名（wsdl:service）。', en: 'Service name (wsdl:service).' } },
    port: { type: 'string', pattern: NAME, maxLength: 128, examples: ['CaseExchangeSoap12'], 'x-default-doc': { zh: '与 soapVersion 相符的第一个端口', en: 'the first port matching soapVersion' }, 'x-doc': { zh: '端口名（wsdl:port），决定所用绑定。', en: 'Port name (wsdl:port); it picks the binding.' } },
    operation: { type: 'string', pattern: NAME, maxLength: 128, examples: ['GetCases'], 'x-doc': { zh: '调用的操作名。', en: 'Operation to call.' } },
    soapVersion: { type: 'string', enum: ['1.1', '1.2'], default: '1.1', examples: ['1.2'], 'x-doc': { zh: 'SOAP 版本。', en: 'SOAP version.' } },
    args: {
      type: 'object', default: {}, additionalProperties: true, examples: [{ since: '{since}', until: '{until}', page: '{page}', pageSize: '{pageSize}', ValidateData: 'x' }],
      'x-doc': {
        zh: '操作的参数。字符串中的 {since}、{until}、{page}、{pageSize} 在每次调用时替换为当前取值（整个值恰为 {page} 或 {pageSize} 时替换为数字）。',
        en: 'Arguments of the operation. {since}, {until}, {page} and {pageSize} inside strings are replaced on every call (a value that is exactly {page} or {pageSize} becomes a number).',
      },
    },
    result: {
      type: 'object', additionalProperties: false, required: ['path'],
      'x-doc': { zh: '从响应中取数', en: 'Where the data is in the answer' },
      properties: {
        path: { type: 'string', pattern: POINTER, maxLength: 256, examples: ['/GetCasesResult'], 'x-doc': { zh: '结果在响应对象中的位置（JSON Pointer）。', en: 'Where the result is in the response object (JSON Pointer).' } },
        shape: {
          type: 'string', enum: ['document', 'records'], default: 'document', examples: ['records'],
          'x-doc': { zh: 'document：该处是一个字符串形式的完整报文（规范的 XML、JSON 或部门自有 XML）；records：该处即记录（SOAP 元素），交给部门映射。', en: 'document: a whole payload as a string there (the spec\'s XML, JSON or the department\'s own XML); records: the records themselves (SOAP elements), for the department mapping.' },
        },
      },
    },
    itemsPath: { type: 'string', pattern: POINTER, maxLength: 256, examples: ['/DATA/ROW'], 'x-default-doc': { zh: '标准批次的记录，或结果本身', en: 'the records of a standard batch, or the result itself' }, 'x-doc': { zh: '记录列表在报文（document）或结果（records）中的位置；设置后各项交给部门映射。', en: 'Where the list of records is inside the document (document) or the result (records); the items then go to the department mapping.' } },
    incremental: {
      type: 'object', additionalProperties: false,
      'x-doc': { zh: '增量拉取：{since}/{until} 的取值', en: 'Incremental pulling: the values of {since}/{until}' },
      properties: {
        format: { type: 'string', enum: TIME_FORMATS, default: 'iso', examples: ['yyyy-MM-dd HH:mm:ss'], 'x-doc': { zh: '时间的格式。', en: 'Format of the times.' } },
        offset: { type: 'string', pattern: '^[+-][0-9]{2}:[0-9]{2}$', default: '+08:00', examples: ['+08:00'], 'x-doc': { zh: '时间所用的时区偏移。', en: 'Offset the times are written in.' } },
        overlapSeconds: { type: 'integer', minimum: 0, maximum: 604_800, default: 300, examples: [300], 'x-doc': { zh: '每次从上次运行开始时间之前这么多秒起请求。', en: 'Each run asks from this many seconds before the previous run began.' } },
        start: { type: 'string', minLength: 10, maxLength: 40, examples: ['2026-01-01T00:00:00+08:00'], 'x-default-doc': { zh: '{since} 为空串', en: '{since} is empty' }, 'x-doc': { zh: '首次运行的起始时间（RFC 3339）。', en: 'Start of the first run (RFC 3339).' } },
      },
    },
    paging: {
      type: 'object', additionalProperties: false, default: {},
      'x-doc': { zh: '分页（按页码）', en: 'Paging (by page number)' },
      properties: {
        mode: { type: 'string', enum: ['none', 'page'], default: 'none', examples: ['page'], 'x-doc': { zh: 'none 或 page（使用 {page}/{pageSize}）。', en: 'none or page (uses {page}/{pageSize}).' } },
        pageSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 100, examples: [100], 'x-doc': { zh: '每页条数；少于此数的一页为最后一页。', en: 'Records per page; a shorter page is the last.' } },
        firstPage: { type: 'integer', minimum: 0, maximum: 1, default: 1, examples: [0], 'x-doc': { zh: '第一页的页码。', en: 'Number of the first page.' } },
        maxPages: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, examples: [10_000], 'x-doc': { zh: '单次运行最多请求的页数。', en: 'Most pages one run requests.' } },
      },
    },
    auth: {
      type: 'object', additionalProperties: false, default: {},
      'x-doc': { zh: '认证', en: 'Authentication' },
      properties: {
        type: { type: 'string', enum: ['none', 'basic', 'ws-security'], default: 'none', examples: ['ws-security'], 'x-doc': { zh: 'none、basic（HTTP 基本认证）或 ws-security（UsernameToken，明文密码）。', en: 'none, basic (HTTP basic) or ws-security (UsernameToken, text password).' } },
        username: { type: 'string', minLength: 1, maxLength: 128, examples: ['govgate'], 'x-doc': { zh: '用户名。', en: 'User name.' } },
        ...secretPair('password', { zh: '密码', en: 'Password' }, 'GOVGATE_WS_PASSWORD'),
      },
    },
    timeoutMs: { type: 'integer', minimum: 100, maximum: 600_000, default: 30_000, examples: [30_000], 'x-doc': { zh: '单次调用（及读取 WSDL）的时限（毫秒）。', en: 'Time allowed for one call (and for fetching the WSDL), in ms.' } },
  },
};

function validate(o: SoapPollOptions, env: NodeJS.ProcessEnv): OptionProblem[] {
  const out: OptionProblem[] = [];
  if (o.auth.type !== 'none') {
    if (o.auth.username === undefined) out.push({ path: 'auth.username', zh: `${o.auth.type} 认证须给出 username`, en: `${o.auth.type} needs username` });
    out.push(...secretProblems(o.auth as unknown as Record<string, unknown>, 'password', env, true, 'auth'));
  }
  if (o.incremental?.start !== undefined && Number.isNaN(Date.parse(o.incremental.start))) {
    out.push({ path: 'incremental.start', zh: `${o.incremental.start} 不是有效的 RFC 3339 时间`, en: `${o.incremental.start} is not a valid RFC 3339 time` });
  }
  return out;
}

type SoapClient = import('soap').Client;
type Call = (args: unknown, cb: (err: unknown, result: unknown, raw: string) => void, options: object) => void;

function isSoapCursor(v: JsonValue | undefined): v is { since: string } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.since === 'string';
}

/** `{since}` etc. in strings; a string that is exactly `{page}` or `{pageSize}` becomes the number. */
function fill(value: unknown, vars: Record<string, string | number>): unknown {
  if (typeof value === 'string') {
    const whole = /^\{(\w+)\}$/.exec(value);
    if (whole !== null && typeof vars[whole[1]!] === 'number') return vars[whole[1]!];
    return value.replace(/\{(since|until|page|pageSize)\}/g, (_, k: string) => String(vars[k] ?? ''));
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, vars));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)]));
  return value;
}

/** The bytes a document string was written in, going by its XML declaration (UTF-8 otherwise). */
function documentBytes(text: string): { body: Buffer; contentType: string } {
  const decl = /^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_-]+)["']/.exec(text);
  if (decl !== null) {
    const enc = decl[1]!.toLowerCase();
    if (enc === 'gbk' || enc === 'gb2312' || enc === 'gb18030') return { body: iconv.encode(text, enc === 'gb18030' ? 'gb18030' : 'gbk'), contentType: `application/xml; charset=${enc}` };
    return { body: Buffer.from(text, 'utf8'), contentType: 'application/xml; charset=utf-8' };
  }
  const trimmed = text.trimStart();
  return { body: Buffer.from(text, 'utf8'), contentType: trimmed.startsWith('<') ? 'application/xml; charset=utf-8' : 'application/json; charset=utf-8' };
}

class SoapPoll implements PullAdapter {
  readonly kind = 'soap-poll';
  private client?: Promise<SoapClient>;
  private readonly password: string | undefined;

  constructor(readonly name: string, private readonly o: SoapPollOptions, private readonly ctx: PullAdapterContext) {
    this.password = secretValue(o.auth as unknown as Record<string, unknown>, 'password', ctx.env);
  }

  private fail(err: unknown): GovgateError {
    // A SOAP fault or an HTTP error: its status and text, never the request (it may hold a token).
    const e = err as { response?: { status?: number }; root?: { Envelope?: { Body?: { Fault?: Record<string, unknown> } } }; message?: string };
    const status = e.response?.status;
    if (status !== undefined) {
      const fault = e.root?.Envelope?.Body?.Fault;
      const text = String((fault?.['faultstring'] ?? (fault?.['Reason'] as Record<string, unknown> | undefined)?.['Text'] ?? e.message ?? '')).slice(0, 300);
      const code = status === 401 || status === 403 || /auth|认证|授权|password|密码/i.test(text) ? 'GOVGATE_PULL_SOURCE_AUTH' : 'GOVGATE_PULL_SOURCE_ERROR';
      return new GovgateError(code, { adapter: this.name, detail: `HTTP ${status}${text === '' ? '' : ` ${text}`}` }, { cause: err });
    }
    return sourceFailure(this.name, err, this.password === undefined ? [] : [this.password]);
  }

  private async soap(): Promise<SoapClient> {
    this.client ??= (async () => {
      const soap = await import('soap');
      const o = this.o;
      // Redirects refused and time bounded, for the WSDL as for the calls.
      const client = await soap.createClientAsync(o.wsdl, {
        ...(o.soapVersion === '1.2' ? { forceSoap12Headers: true } : {}),
        wsdl_options: { timeout: o.timeoutMs, maxRedirects: 0 },
        ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
      });
      if (o.auth.type === 'basic') client.setSecurity(new soap.BasicAuthSecurity(o.auth.username ?? '', this.password ?? ''));
      if (o.auth.type === 'ws-security') client.setSecurity(new soap.WSSecurity(o.auth.username ?? '', this.password ?? '', { passwordType: 'PasswordText' }));
      return client;
    })().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  /** The operation on the configured (or version-matching) port. */
  private method(client: SoapClient): Call {
    const o = this.o;
    const services = client.describe() as Record<string, Record<string, Record<string, unknown>>>;
    const serviceName = o.service ?? Object.keys(services)[0];
    const ports = serviceName === undefined ? undefined : services[serviceName];
    if (serviceName === undefined || ports === undefined) throw new GovgateError('GOVGATE_PULL_SOURCE_ERROR', { adapter: this.name, detail: `WSDL 中没有服务 ${o.service ?? ''}`, detailEn: `no service ${o.service ?? ''} in the WSDL` });
    const names = Object.keys(ports);
    // By convention (ASMX, CXF) the SOAP 1.2 port's name ends in 12.
    const portName = o.port ?? names.find((p) => (o.soapVersion === '1.2') === /12$/.test(p)) ?? names[0];
    const fn = portName === undefined ? undefined : (client as unknown as Record<string, Record<string, Record<string, unknown>>>)[serviceName]?.[portName]?.[o.operation];
    if (typeof fn !== 'function') {
      throw new GovgateError('GOVGATE_PULL_SOURCE_ERROR', {
        adapter: this.name,
        detail: `WSDL 中 ${serviceName}/${portName ?? '-'} 没有操作 ${o.operation}`,
        detailEn: `the WSDL has no operation ${o.operation} on ${serviceName}/${portName ?? '-'}`,
      });
    }
    return fn as Call;
  }

  private async call(args: unknown): Promise<{ result: unknown; raw: string }> {
    const client = await this.soap();
    const fn = this.method(client);
    return new Promise((resolve, reject) => {
      fn(args, (err, result, raw) => (err ? reject(err) : resolve({ result, raw })), {
        timeout: this.o.timeoutMs, maxRedirects: 0, maxContentLength: this.ctx.limits.maxBytes,
      });
    });
  }

  /** Result → what intake reads, and how many records it holds. */
  private extract(result: unknown): { document: { body: Buffer; contentType: string } | undefined; count: number } {
    const o = this.o;
    const value = pointerGet(result, o.result.path);
    if (o.result.shape === 'document') {
      if (typeof value !== 'string' || value.trim() === '') return { document: undefined, count: 0 };
      const doc = documentBytes(value);
      const read = readDocument(doc.body, { contentType: doc.contentType, maxBytes: this.ctx.limits.maxBytes, maxDepth: this.ctx.limits.maxDepth });
      if (!read.ok) return { document: doc, count: -1 };
      if (o.itemsPath !== undefined) {
        const items = pointerGet(read.value, o.itemsPath);
        const list = Array.isArray(items) ? items : countItems(items) === 0 ? [] : [items];
        return { document: { body: Buffer.from(JSON.stringify(list), 'utf8'), contentType: 'application/json; charset=utf-8' }, count: list.length };
      }
      const records = read.format === 'xml' && read.xmlRoot === 'batch' ? pointerGet(read.value, '/records/record')
        : Array.isArray(read.value) ? read.value
          : read.value !== null && typeof read.value === 'object' && Object.hasOwn(read.value, 'records') ? (read.value as Record<string, unknown>)['records'] : read.value;
      return { document: doc, count: countItems(records) };
    }
    const items = o.itemsPath === undefined ? value : pointerGet(value, o.itemsPath);
    const list = Array.isArray(items) ? items : countItems(items) === 0 ? [] : [items];
    return { document: { body: Buffer.from(JSON.stringify(list), 'utf8'), contentType: 'application/json; charset=utf-8' }, count: list.length };
  }

  private vars(since: Date | undefined, until: Date | undefined, page: number): Record<string, string | number> {
    const inc = this.o.incremental;
    const fmt = (d: Date | undefined, up: boolean) => (d === undefined || inc === undefined ? '' : formatTime(d, inc.format, inc.offset, up));
    return { since: fmt(since, false), until: fmt(until, true), page, pageSize: this.o.paging.pageSize };
  }

  async check(): Promise<CheckResult> {
    try {
      const client = await this.soap();
      this.method(client);
      const { result } = await this.call(fill(this.o.args, this.vars(new Date(Date.now() - 60_000), new Date(), this.o.paging.firstPage)));
      const seen = this.extract(result);
      if (seen.count < 0) return { ok: false, message: { zh: '服务可调用，但结果不是可读的报文', en: 'the service answered, but the result is not a readable payload' } };
      return { ok: true, message: { zh: `服务可调用，认证通过（${this.o.operation}）`, en: `the service answered and accepted the credentials (${this.o.operation})` } };
    } catch (err) {
      const e = this.fail(err);
      return { ok: false, message: e.messages, detail: { code: e.code } };
    }
  }

  async run(run: PullRun): Promise<void> {
    const o = this.o;
    const inc = o.incremental;
    if (run.window !== undefined && inc === undefined) throw new GovgateError('GOVGATE_PULL_BACKFILL_UNSUPPORTED', { kind: `${this.kind}（无 incremental / without incremental）` });
    const started = new Date();
    let since: Date | undefined;
    if (run.window?.since !== undefined) since = run.window.since;
    else if (isSoapCursor(run.cursor)) since = new Date(new Date(run.cursor.since).getTime() - (inc?.overlapSeconds ?? 0) * 1000);
    else if (inc?.start !== undefined) since = new Date(inc.start);
    const until = run.window?.until ?? started;
    const cursor: JsonValue | undefined = inc === undefined || run.window !== undefined ? undefined : { since: started.toISOString() };
    const contentType = o.soapVersion === '1.2' ? 'application/soap+xml; charset=utf-8' : 'text/xml; charset=utf-8';

    for (let n = 0, page = o.paging.firstPage; ; n++, page++) {
      if (run.signal.aborted) throw aborted(this.name);
      if (n >= o.paging.maxPages) {
        throw new GovgateError('GOVGATE_PULL_SOURCE_ERROR', { adapter: this.name, detail: `分页超过 maxPages（${o.paging.maxPages}）仍未结束`, detailEn: `paging did not end within maxPages (${o.paging.maxPages})` });
      }
      let answer: { result: unknown; raw: string };
      try {
        answer = await this.call(fill(o.args, this.vars(since, until, page)));
      } catch (err) {
        throw this.fail(err);
      }
      const seen = this.extract(answer.result);
      const last = o.paging.mode === 'none' || seen.count < 0 || seen.count < o.paging.pageSize;
      if (seen.count !== 0 && seen.document !== undefined) {
        await run.emit({ raw: { body: Buffer.from(answer.raw, 'utf8'), contentType }, document: seen.document }, last && cursor !== undefined ? { cursor } : {});
      } else if (last && cursor !== undefined) {
        await run.saveCursor(cursor);
      }
      if (last) break;
    }
  }

  async close(): Promise<void> {
    this.client = undefined;
  }
}

export const soapPoll: PullKind<SoapPollOptions> = {
  kind: 'soap-poll',
  direction: 'pull',
  doc: {
    zh: '定时调用部门 WebService（SOAP 1.1/1.2）的操作，从结果中读取记录：字符串形式的完整报文（规范的 XML、JSON 或部门自有 XML，含 GB2312/GBK 声明），或经部门映射的 SOAP 元素。',
    en: 'Calls an operation of a department WebService (SOAP 1.1/1.2) on a schedule and reads records from the result: a whole payload in a string (the spec\'s XML, JSON or the department\'s own XML, GB2312/GBK declarations included), or SOAP elements through the department mapping.',
    details: {
      zh: '原始收件箱保存收到的 SOAP 响应；记录从结果中取出后走与推送相同的映射、校验与存储。增量与分页参数以 {since}、{until}、{page}、{pageSize} 写在 args 中；游标语义同 rest-poll。',
      en: 'The raw inbox keeps the SOAP response as received; records taken from the result follow the same mapping, validation and storage as pushed ones. Incremental and paging values are {since}, {until}, {page} and {pageSize} placeholders in args; cursor semantics are rest-poll\'s.',
    },
  },
  optionsSchema,
  backfill: true,
  validate,
  create(spec: PullAdapterSpec<SoapPollOptions>, context: PullAdapterContext): PullAdapter {
    return new SoapPoll(spec.name, spec.options, context);
  },
};
