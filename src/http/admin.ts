/**
 * The admin API under /admin/v1: dead letters (list, inspect, re-drive one or many in pausable
 * jobs) and destinations (state, pause, resume, check). Every route authenticates first with the
 * admin token (src/http/admin-auth.ts); its fingerprint (`admin:xxxxxxxx`) is recorded as the
 * actor of every re-drive and pause.
 *
 * Bodies arrive as raw bytes (app.ts has one catch-all parser), so JSON is parsed here with the
 * same strict parser as department payloads. Query strings and path parameters are checked here
 * too, so every mistake gets a bilingual GOVGATE_REQUEST_INVALID naming the parameter; the route
 * schemas are for the OpenAPI document (validation errors fastify finds are attached, not thrown,
 * and the checks here decide).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CheckResult } from '../adapters/types.js';
import type { DestinationConfig } from '../config/schema.js';
import { GovgateError } from '../errors.js';
import { parseJsonStrict } from '../schemas/wire/json.js';
import type { Db } from '../store/db.js';
import {
  DEAD_LETTER_STATES, MAX_LIST_LIMIT, checkDeadLetterFilter, countDeadLetters, createRedriveJob, getDeadLetter, getRedriveJob,
  listDeadLetters, listDestinations, listRedriveJobs, pauseDestination, pauseRedriveJob, redriveDeadLetter, redriveJobRemaining,
  resumeDestination, resumeRedriveJob,
  type DeadLetter, type DeadLetterDetail, type DestinationOverview, type OutboxEntry, type Redrive, type RedriveJob, type RedriveJobState,
} from '../store/queries/dead-letters.js';
import type { DeliveryEngine } from '../sync/delivery.js';
import type { AdminAuthenticate } from './admin-auth.js';
import { sendError } from './errors.js';
import { ERROR_SCHEMA } from './receipt.js';

export { createRedriveRunner, type RedriveRunner, type RedriveRunnerOptions } from '../sync/redrive.js';

export interface AdminDeps {
  readonly db: Db;
  readonly destinations: readonly DestinationConfig[];
  /** Poked after a re-drive or a resume so idle workers claim at once; status() feeds GET /destinations. */
  readonly engine?: DeliveryEngine;
  /** POST /destinations/:name/check; without it that route answers 503 GOVGATE_ADMIN_FEATURE_UNAVAILABLE. */
  readonly checkDestination?: (name: string) => Promise<CheckResult>;
  /** Woken after a job is created or resumed, so its first batch does not wait for the runner's idle. */
  readonly redriveRunner?: { poke(): void };
}

// ── input ──────────────────────────────────────────────────────────────────────────────────────────

const NAME = /^[a-z][a-z0-9_-]{0,63}$/;
const ID = /^[1-9][0-9]{0,15}$/;

const invalid = (zh: string, en: string) => new GovgateError('GOVGATE_REQUEST_INVALID', { detail: zh, detailEn: en });

function positiveId(name: string, value: unknown): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !ID.test(text) || !Number.isSafeInteger(Number(text))) {
    throw invalid(`${name} 应为正整数，实际为 ${JSON.stringify(value)}`, `${name} must be a positive integer, found ${JSON.stringify(value)}`);
  }
  return Number(text);
}

function destinationName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalid(`目的地名称应符合 ${NAME.source}，实际为 ${JSON.stringify(value)}`, `a destination name must match ${NAME.source}, found ${JSON.stringify(value)}`);
  }
  return value;
}

/** The query string as single strings; a parameter given twice is ambiguous and refused. */
function queryOf(req: FastifyRequest, allowed: readonly string[]): Record<string, string> {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) {
    if (!allowed.includes(k)) throw invalid(`未知的查询参数 ${k}：可用 ${allowed.join(', ')}`, `unknown query parameter ${k}: use ${allowed.join(', ')}`);
    if (Array.isArray(v)) throw invalid(`查询参数 ${k} 只能出现一次`, `the query parameter ${k} may appear only once`);
    if (v === undefined || v === '') continue;
    out[k] = String(v);
  }
  return out;
}

function limitOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = positiveId('limit', value);
  if (n > MAX_LIST_LIMIT) throw invalid(`limit 最大为 ${MAX_LIST_LIMIT}，实际为 ${n}`, `limit is at most ${MAX_LIST_LIMIT}, found ${n}`);
  return n;
}

/** A JSON object body, or {} when there is no body. Strict: duplicate and prototype keys are refused. */
function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const body = req.body;
  if (body === undefined || body === null) return {};
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(String(body));
  if (bytes.length === 0) return {};
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('请求体不是有效的 UTF-8', 'the body is not valid UTF-8');
  }
  const parsed = parseJsonStrict(text.replace(/^\uFEFF/, ''), { maxDepth: 8 });
  if (!parsed.ok) throw invalid(`请求体不是有效的 JSON：${parsed.finding.message.zh}`, `the body is not valid JSON: ${parsed.finding.message.en}`);
  const v = parsed.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('请求体应为 JSON 对象', 'the body must be a JSON object');
  return v as Record<string, unknown>;
}

function onlyKeys(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k)) {
      throw invalid(`请求体中未知的字段 ${k}${allowed.length === 0 ? '：该接口不需要请求体' : `：可用 ${allowed.join(', ')}`}`,
        `unknown field ${k} in the body${allowed.length === 0 ? ': this route takes no body' : `: use ${allowed.join(', ')}`}`);
    }
  }
}

// ── output ─────────────────────────────────────────────────────────────────────────────────────────

const iso = (d: Date | null | undefined): string | null => (d == null ? null : d.toISOString());

export function deadLetterJson(d: DeadLetter) {
  return {
    id: d.id, outboxId: d.outboxId, destination: d.destination, deptCode: d.deptCode, recordType: d.recordType, businessKey: d.businessKey,
    version: d.version, recordId: d.recordId, recordAt: iso(d.recordAt), cause: d.cause, reason: d.reason, answer: d.answer,
    attempts: d.attempts, createdAt: iso(d.createdAt), state: d.state, resolvedAt: iso(d.resolvedAt), resolvedBy: d.resolvedBy,
  };
}

export function entryJson(e: OutboxEntry) {
  return {
    id: e.id, destination: e.destination, state: e.state, attempts: e.attempts, wantedVersion: e.wantedVersion, settledVersion: e.settledVersion,
    lastError: e.lastError, nextAttemptAt: iso(e.nextAttemptAt), firstFailedAt: iso(e.firstFailedAt), leaseUntil: iso(e.leaseUntil),
    leasedBy: e.leasedBy, enqueuedAt: iso(e.enqueuedAt),
  };
}

export function redriveJson(r: Redrive) {
  return { id: r.id, jobId: r.jobId, deadLetterId: r.deadLetterId, actor: r.actor, at: iso(r.at), result: r.result };
}

export function detailJson(d: DeadLetterDetail) {
  const { record, raw } = d;
  return {
    deadLetter: deadLetterJson(d.deadLetter),
    record: record === undefined ? null : {
      id: record.id, receivedAt: iso(record.receivedAt), version: record.version, dataVer: record.dataVer, digest: record.digest,
      content: record.content, warnings: record.warnings, rawId: record.rawId, recordIndex: record.recordIndex,
    },
    raw: raw === undefined ? null : {
      id: raw.id, receiptId: raw.receiptId, source: raw.source, batchId: raw.batchId, receivedAt: iso(raw.receivedAt), contentType: raw.contentType,
      declaredEncoding: raw.declaredEncoding, size: raw.size, sha256: raw.sha256, body: raw.body.toString('base64'), text: raw.text, textEncoding: raw.textEncoding,
    },
    entry: d.entry === undefined ? null : entryJson(d.entry),
    redrives: d.redrives.map(redriveJson),
  };
}

export function jobJson(j: RedriveJob, remaining?: number) {
  return {
    id: j.id, filter: j.filter, actor: j.actor, state: j.state, batchSize: j.batchSize, afterId: j.afterId, upToId: j.upToId,
    requeued: j.requeued, superseded: j.superseded, ...(remaining === undefined ? {} : { remaining }),
    createdAt: iso(j.createdAt), updatedAt: iso(j.updatedAt),
  };
}

function destinationJson(d: DestinationOverview, engine: DeliveryEngine | undefined) {
  const s = engine?.status().find((x) => x.name === d.name);
  return {
    name: d.name, kind: d.kind ?? null, enabled: d.enabled ?? null, configured: d.configured, paused: d.paused, pausedReason: d.pausedReason,
    pausedAt: iso(d.pausedAt), pausedBy: d.pausedBy, depth: d.depth, openDeadLetters: d.openDeadLetters,
    engine: s === undefined ? null : { breaker: s.breaker, inFlight: s.inFlight, paused: s.paused },
  };
}

// ── OpenAPI ────────────────────────────────────────────────────────────────────────────────────────

/** An object that keeps properties the schema does not list (the serializer would drop them otherwise). */
const obj = (description: string, properties: Record<string, object> = {}) => ({ type: 'object', description, additionalProperties: true, properties });
const str = (description: string, extra: object = {}) => ({ type: 'string', description, ...extra });
const nstr = (description: string, extra: object = {}) => ({ type: 'string', nullable: true, description, ...extra });
const int = (description: string) => ({ type: 'integer', description });
const any = (description: string) => ({ description });

const DEAD_LETTER = obj('死信 / dead letter', {
  id: int('死信编号 / id'),
  outboxId: int('发件箱条目 / outbox entry'),
  destination: str('目的地 / destination'),
  deptCode: str('部门代码 / department code'),
  recordType: str('记录类型 / record type', { enum: ['case', 'powerItem', 'supervision'] }),
  businessKey: str('业务主键 / business key'),
  version: int('被拒的网关版本 / the gateway version refused'),
  recordId: int('records 中的行 / row in records'),
  recordAt: str('该版本的接收时间 / when that version was received', { format: 'date-time' }),
  cause: str('rejected：接收方拒收；exhausted：重试超时 / refused by the receiver, or retries exhausted', { enum: ['rejected', 'exhausted'] }),
  reason: any('原因：class、code、message{zh,en} / why'),
  answer: any('接收方的应答（状态、正文摘录）/ the receiver\'s answer'),
  attempts: int('尝试次数 / attempts'),
  createdAt: str('成为死信的时间 / when it became a dead letter', { format: 'date-time' }),
  state: str('open 待处理、redriven 已重新投递、superseded 已被新版本取代', { enum: [...DEAD_LETTER_STATES] }),
  resolvedAt: nstr('处理时间 / resolved at', { format: 'date-time' }),
  resolvedBy: nstr('处理人 / resolved by'),
});

const ENTRY = obj('发件箱条目 / outbox entry', {
  id: int('id'), destination: str('目的地 / destination'), state: str('pending | leased | done'), attempts: int('当前版本的尝试次数 / attempts at the current version'),
  wantedVersion: int('待投递的最新版本 / newest version to deliver'), settledVersion: { type: 'integer', nullable: true, description: '接收方最后应答的版本 / last version the receiver answered for' },
  lastError: any('最近一次错误 / last error'), nextAttemptAt: str('下次尝试 / next attempt', { format: 'date-time' }),
  firstFailedAt: nstr('本轮失败开始 / failing since', { format: 'date-time' }), leaseUntil: nstr('租约到期 / lease until', { format: 'date-time' }),
  leasedBy: nstr('持有租约的工作者 / worker'), enqueuedAt: str('入队时间 / enqueued at', { format: 'date-time' }),
});

const REDRIVE = obj('一次重新投递的记录 / one re-drive, as logged', {
  id: int('id'), jobId: { type: 'integer', nullable: true, description: '所属任务 / job' }, deadLetterId: int('死信 / dead letter'),
  actor: str('操作人 / who'), at: str('时间 / when', { format: 'date-time' }), result: str('requeued | superseded', { enum: ['requeued', 'superseded'] }),
});

const FILTER_PROPS = {
  destination: str('目的地 / destination', { pattern: NAME.source }),
  deptCode: str('部门代码 / department code'),
  recordType: str('记录类型 / record type', { enum: ['case', 'powerItem', 'supervision'] }),
  cause: str('原因类别 / cause', { enum: ['rejected', 'exhausted'] }),
  since: str('created_at ≥ since：带时区的时间或日期（日期按北京时间零点）/ RFC 3339 with offset, or a date (midnight China time)'),
  until: str('created_at < until'),
  reasonCode: str('接收方原因代码 reason.code / the receiver\'s reason code'),
};

const JOB = obj('重新投递任务 / re-drive job', {
  id: int('任务编号 / id'), filter: obj('筛选条件 / filter', FILTER_PROPS), actor: str('创建人 / created by'),
  state: str('running | paused | done', { enum: ['running', 'paused', 'done'] }), batchSize: int('每批条数 / per batch'),
  afterId: int('已处理到的死信编号 / processed up to this dead letter id'), upToId: int('任务范围的最后一个死信编号 / last dead letter id in scope'),
  requeued: int('已重新投递 / requeued'), superseded: int('已被新版本取代 / superseded'), remaining: int('尚待处理的待处理死信 / open dead letters left'),
  createdAt: str('created', { format: 'date-time' }), updatedAt: str('updated', { format: 'date-time' }),
});

const DESTINATION = obj('目的地状态 / destination state', {
  name: str('名称 / name'), kind: nstr('类型 / kind'), enabled: { type: 'boolean', nullable: true, description: '配置中是否启用 / enabled in the config' },
  configured: { type: 'boolean', description: '是否在配置中 / in the config' }, paused: { type: 'boolean', description: '是否已暂停 / paused' },
  pausedReason: any('暂停原因 / why paused'), pausedAt: nstr('暂停时间 / paused at', { format: 'date-time' }), pausedBy: nstr('最后操作人 / last changed by'),
  depth: obj('发件箱积压 / outbox depth', { pending: int('待投递 / pending'), leased: int('投递中 / in flight'), oldestAgeSeconds: { type: 'number', description: '最早未投递条目的等待秒数 / age of the oldest undelivered entry' } }),
  openDeadLetters: int('待处理死信 / open dead letters'),
  engine: { type: 'object', nullable: true, additionalProperties: true, description: '本实例投递引擎的状态（熔断器、在途数）/ this instance\'s engine: breaker, in flight', properties: {} },
});

const ERRORS_4XX = { 400: ERROR_SCHEMA, 401: ERROR_SCHEMA, 404: ERROR_SCHEMA, 409: ERROR_SCHEMA, 503: ERROR_SCHEMA };

const ID_PARAM = { type: 'object', properties: { id: { type: 'string', pattern: ID.source, description: '编号 / id' } }, required: ['id'] };
const NAME_PARAM = { type: 'object', properties: { name: { type: 'string', pattern: NAME.source, description: '目的地名称 / destination name' } }, required: ['name'] };

function route(summary: string, extra: Record<string, unknown> = {}) {
  return { schema: { summary, tags: ['admin'], security: [{ adminToken: [] }], ...extra }, attachValidation: true };
}

const jsonBodyDoc = (description: string, schema: object) => ({ 'x-body': { description, content: { 'application/json': { schema } } } });

// ── routes ─────────────────────────────────────────────────────────────────────────────────────────

const LIST_QUERY = ['destination', 'deptCode', 'recordType', 'cause', 'state', 'since', 'until', 'reasonCode', 'limit', 'after', 'order'] as const;

export function adminRoutes(deps: AdminDeps): (app: FastifyInstance, admin: AdminAuthenticate) => Promise<void> {
  const { db } = deps;
  const configured = () => deps.destinations.map((d) => ({ name: d.name, kind: d.kind, enabled: d.enabled }));
  const known = (name: string) => {
    if (!deps.destinations.some((d) => d.name === name)) {
      throw new GovgateError('GOVGATE_NOT_FOUND', { what: '目的地', whatEn: 'destination', found: name });
    }
  };
  const destinationView = async (name: string) => destinationJson((await listDestinations(db, configured())).find((d) => d.name === name)!, deps.engine);

  /** Authenticates, runs, and turns every GovgateError into the one error shape. */
  const handle = (admin: AdminAuthenticate, fn: (req: FastifyRequest, reply: FastifyReply, actor: string) => Promise<unknown>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      try {
        const { actor } = admin(req);
        return await fn(req, reply, actor);
      } catch (err) {
        if (err instanceof GovgateError) return sendError(reply, err);
        throw err;
      }
    };

  return async (app, admin) => {
    await app.register(async (r) => {
      r.get('/dead-letters', route('列出死信（默认仅待处理的）/ list dead letters (open ones by default)', {
        querystring: {
          type: 'object',
          properties: {
            ...FILTER_PROPS,
            state: str('open（默认）、redriven、superseded 或 any / open (default), redriven, superseded or any', { enum: [...DEAD_LETTER_STATES, 'any'] }),
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 100, description: '每页条数 / page size' },
            after: { type: 'integer', minimum: 1, description: '翻页游标：上一页返回的 next / cursor: the next of the previous page' },
            order: str('asc（默认，最早的在前）或 desc / asc (default, oldest first) or desc', { enum: ['asc', 'desc'] }),
          },
        },
        response: { 200: obj('一页死信 / a page of dead letters', { items: { type: 'array', items: DEAD_LETTER }, count: int('符合条件的总数 / total matching'), next: { type: 'integer', nullable: true, description: '下一页游标 / next cursor' } }), ...ERRORS_4XX },
      }), handle(admin, async (req) => {
        const q = queryOf(req, LIST_QUERY);
        const { limit: l, after: a, order: o, ...rest } = q;
        const filter = checkDeadLetterFilter(rest);
        if (o !== undefined && o !== 'asc' && o !== 'desc') throw invalid(`order 应为 asc 或 desc，实际为 ${o}`, `order must be asc or desc, found ${o}`);
        const limit = limitOf(l);
        const after = a === undefined ? undefined : positiveId('after', a);
        const [page, count] = await Promise.all([
          listDeadLetters(db, filter, { ...(limit === undefined ? {} : { limit }), ...(after === undefined ? {} : { after }), ...(o === undefined ? {} : { order: o as 'asc' | 'desc' }) }),
          countDeadLetters(db, filter),
        ]);
        return { items: page.items.map(deadLetterJson), count, next: page.next };
      }));

      r.get('/dead-letters/:id', route('查看一条死信：记录版本、原始报文、发件箱条目、重投记录 / one dead letter with its record version, raw payload, outbox entry and re-drives', {
        params: ID_PARAM,
        response: {
          200: obj('死信详情 / dead letter in full', {
            deadLetter: DEAD_LETTER,
            record: { ...obj('被拒的记录版本 / the refused record version'), nullable: true },
            raw: {
              ...obj('该记录所在的原始报文 / the raw payload it came in', {
                body: str('原样字节，Base64 / the bytes as received, base64'),
                text: nstr('按 UTF-8 或声明的 GBK/GB18030 解码的文本 / the body as text (UTF-8, or the declared GB charset)'),
              }),
              nullable: true,
            },
            entry: { ...ENTRY, nullable: true },
            redrives: { type: 'array', items: REDRIVE },
          }),
          ...ERRORS_4XX,
        },
      }), handle(admin, async (req) => {
        const id = positiveId('id', (req.params as { id: unknown }).id);
        const d = await getDeadLetter(db, id);
        if (d === undefined) throw new GovgateError('GOVGATE_NOT_FOUND', { what: '死信', whatEn: 'dead letter', found: String(id) });
        return detailJson(d);
      }));

      r.post('/dead-letters/:id/redrive', route('重新投递一条死信（若已有新版本则标记为已取代）/ re-drive one dead letter (or mark it superseded when a newer version exists)', {
        params: ID_PARAM,
        response: {
          200: obj('重投结果 / outcome', { deadLetterId: int('死信 / dead letter'), result: str('requeued | superseded'), redrive: REDRIVE, entry: ENTRY }),
          ...ERRORS_4XX,
        },
      }), handle(admin, async (req, _reply, actor) => {
        const id = positiveId('id', (req.params as { id: unknown }).id);
        onlyKeys(jsonBody(req), []);
        const out = await redriveDeadLetter(db, id, actor);
        req.log.info({ actor, deadLetter: id, result: out.result }, 'dead letter re-driven');
        if (out.result === 'requeued') deps.engine?.poke();
        return { deadLetterId: out.deadLetterId, result: out.result, redrive: redriveJson(out.redrive), entry: entryJson(out.entry) };
      }));

      r.post('/redrive-jobs', route('按筛选条件分批重新投递全部待处理死信 / re-drive every open dead letter matching a filter, in batches', {
        ...jsonBodyDoc('筛选条件与每批条数 / filter and batch size', {
          type: 'object',
          required: ['filter'],
          properties: { filter: obj('筛选条件，各项均可省略；{} 表示全部待处理死信 / filter, every field optional; {} means every open dead letter', FILTER_PROPS), batchSize: { type: 'integer', minimum: 1, maximum: 10_000, default: 100 } },
        }),
        response: { 201: JOB, ...ERRORS_4XX },
      }), handle(admin, async (req, reply, actor) => {
        const body = jsonBody(req);
        onlyKeys(body, ['filter', 'batchSize']);
        // Required, even when empty ({} = every open dead letter): an empty POST must not re-drive everything.
        const f = body['filter'];
        if (f === undefined) throw invalid('缺少 filter：按条件筛选，或用 {} 表示全部待处理死信', 'filter is missing: give a filter, or {} for every open dead letter');
        if (f === null || typeof f !== 'object' || Array.isArray(f)) throw invalid('filter 应为 JSON 对象', 'filter must be a JSON object');
        const b = body['batchSize'];
        if (b !== undefined && (typeof b !== 'number' || !Number.isInteger(b))) throw invalid('batchSize 应为整数', 'batchSize must be an integer');
        const filter = checkDeadLetterFilter(f as Record<string, unknown>, { allowState: false });
        const job = await createRedriveJob(db, { filter, actor, ...(b === undefined ? {} : { batchSize: b as number }) });
        req.log.info({ actor, job: job.id, filter }, 're-drive job created');
        deps.redriveRunner?.poke();
        return reply.code(201).send(jobJson(job, await redriveJobRemaining(db, job)));
      }));

      r.get('/redrive-jobs', route('列出重新投递任务（最新的在前）/ list re-drive jobs, newest first', {
        querystring: {
          type: 'object',
          properties: {
            state: str('running | paused | done', { enum: ['running', 'paused', 'done'] }),
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIST_LIMIT, default: 100 },
            after: { type: 'integer', minimum: 1, description: '翻页游标 / cursor' },
          },
        },
        response: { 200: obj('任务列表 / jobs', { items: { type: 'array', items: JOB }, next: { type: 'integer', nullable: true } }), ...ERRORS_4XX },
      }), handle(admin, async (req) => {
        const q = queryOf(req, ['state', 'limit', 'after']);
        if (q['state'] !== undefined && !['running', 'paused', 'done'].includes(q['state'])) {
          throw invalid(`state 应为 running、paused 或 done，实际为 ${q['state']}`, `state must be running, paused or done, found ${q['state']}`);
        }
        const limit = limitOf(q['limit']);
        const after = q['after'] === undefined ? undefined : positiveId('after', q['after']);
        const page = await listRedriveJobs(db, {
          ...(q['state'] === undefined ? {} : { state: q['state'] as RedriveJobState }), ...(limit === undefined ? {} : { limit }), ...(after === undefined ? {} : { after }),
        });
        const items = await Promise.all(page.items.map(async (j) => jobJson(j, await redriveJobRemaining(db, j))));
        return { items, next: page.next };
      }));

      r.get('/redrive-jobs/:id', route('查看重新投递任务 / one re-drive job', { params: ID_PARAM, response: { 200: JOB, ...ERRORS_4XX } }), handle(admin, async (req) => {
        const id = positiveId('id', (req.params as { id: unknown }).id);
        const job = await getRedriveJob(db, id);
        if (job === undefined) throw new GovgateError('GOVGATE_NOT_FOUND', { what: '重新投递任务', whatEn: 're-drive job', found: String(id) });
        return jobJson(job, await redriveJobRemaining(db, job));
      }));

      for (const [action, summary] of [['pause', '暂停任务（当前批次完成后）/ pause the job (after the batch in progress)'], ['resume', '继续已暂停的任务 / resume a paused job']] as const) {
        r.post(`/redrive-jobs/:id/${action}`, route(summary, { params: ID_PARAM, response: { 200: JOB, ...ERRORS_4XX } }), handle(admin, async (req, _reply, actor) => {
          const id = positiveId('id', (req.params as { id: unknown }).id);
          onlyKeys(jsonBody(req), []);
          const job = action === 'pause' ? await pauseRedriveJob(db, id) : await resumeRedriveJob(db, id);
          req.log.info({ actor, job: id, state: job.state }, `re-drive job ${action}d`);
          if (action === 'resume') deps.redriveRunner?.poke();
          return jobJson(job, await redriveJobRemaining(db, job));
        }));
      }

      r.get('/destinations', route('目的地：配置、暂停状态、积压、待处理死信、熔断器 / destinations: config, paused state, backlog, open dead letters, breaker', {
        response: { 200: obj('目的地列表 / destinations', { items: { type: 'array', items: DESTINATION } }), ...ERRORS_4XX },
      }), handle(admin, async () => ({
        items: (await listDestinations(db, configured())).map((d) => destinationJson(d, deps.engine)),
      })));

      r.post('/destinations/:name/pause', route('暂停向该目的地投递（所有实例）/ pause deliveries to the destination (every instance)', {
        params: NAME_PARAM,
        ...jsonBodyDoc('可选的说明 / optional note', { type: 'object', properties: { note: { type: 'string', maxLength: 500 } } }),
        response: { 200: DESTINATION, ...ERRORS_4XX },
      }), handle(admin, async (req, _reply, actor) => {
        const name = destinationName((req.params as { name: unknown }).name);
        const body = jsonBody(req);
        onlyKeys(body, ['note']);
        const note = body['note'];
        if (note !== undefined && (typeof note !== 'string' || note.length > 500)) throw invalid('note 应为不超过 500 字符的字符串', 'note must be a string of at most 500 characters');
        known(name);
        await pauseDestination(db, name, actor, note as string | undefined);
        req.log.warn({ actor, destination: name }, 'destination paused by an operator');
        deps.engine?.poke();
        return destinationView(name);
      }));

      r.post('/destinations/:name/resume', route('恢复向该目的地投递 / resume deliveries to the destination', {
        params: NAME_PARAM, response: { 200: DESTINATION, ...ERRORS_4XX },
      }), handle(admin, async (req, _reply, actor) => {
        const name = destinationName((req.params as { name: unknown }).name);
        onlyKeys(jsonBody(req), []);
        known(name);
        await resumeDestination(db, name, actor);
        req.log.info({ actor, destination: name }, 'destination resumed');
        deps.engine?.poke();
        return destinationView(name);
      }));

      r.post('/destinations/:name/check', route('检查目的地的连通性与凭据 / check the destination\'s reachability and credentials', {
        params: NAME_PARAM,
        response: {
          200: obj('检查结果 / check result', { destination: str('名称 / name'), ok: { type: 'boolean' }, message: obj('说明 / message', { zh: str('中文'), en: str('English') }), detail: any('细节 / detail') }),
          ...ERRORS_4XX,
        },
      }), handle(admin, async (req) => {
        const name = destinationName((req.params as { name: unknown }).name);
        onlyKeys(jsonBody(req), []);
        known(name);
        if (deps.checkDestination === undefined) {
          throw new GovgateError('GOVGATE_ADMIN_FEATURE_UNAVAILABLE', { feature: '目的地检查', featureEn: 'destination check' });
        }
        const res = await deps.checkDestination(name);
        return { destination: name, ok: res.ok, message: res.message, detail: res.detail ?? null };
      }));
    }, { prefix: '/admin/v1' });
  };
}
