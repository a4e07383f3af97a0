/**
 * The HTTP side of the hall simulator: the upstream protocol (batches, reconciliation), the fault
 * injection around it, and the open control endpoints under /_sim/.
 *
 * Outages and latency act on the raw Node request, before fastify sees it: an outage must reset
 * the connection without reading the request, and a delay must hold every request, whatever its
 * route. Injected errors and timeouts act inside the protocol handlers, because "after" means
 * after the batch was committed. The control endpoints are never faulted, so a test can always
 * inspect and heal the hall.
 *
 * As in govgate (src/http/app.ts), bodies are never parsed by fastify: one catch-all parser hands
 * over the raw bytes, the signature is checked over exactly those bytes, and JSON is read here.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pino from 'pino';
import { GovgateError } from '../errors.js';
import { verifyRequest, type KeyLookupResult } from '../auth/signing.js';
import { NonceCache } from '../auth/nonce-cache.js';
import type { SigningAlgorithm } from '../client/sign.js';
import { RECORD_SPECS } from '../schemas/spec/index.js';
import { parseJsonStrict } from '../schemas/wire/json.js';
import { pgJson } from '../store/queries/json.js';
import { newReceiptId } from '../store/ids.js';
import { HallError, fromAuthError, type HallErrorBody } from './errors.js';
import {
  checkFaults, decideFault, delayMs, inOutage, mergeFaults, rejectScore, type Faults, type InjectedFault,
} from './faults.js';
import { HALL_RECORD_TYPES, type BatchRecord, type HallOutcome, type HallRecordType, type HallStore, type Reason } from './store.js';

export interface HallSimKey {
  readonly keyId: string;
  readonly secret: string;
  /** @defaultValue `'hmac-sha256'` */
  readonly algorithm?: SigningAlgorithm;
}

/** A finding in a hall receipt: govgate's shape, with the hall's own code. */
export interface HallFinding {
  readonly severity: 'error';
  readonly code: 'HALL_REJECTED';
  readonly path: string;
  readonly message: Reason;
}

export interface HallRecordReceipt {
  readonly index: number;
  readonly recordType?: string;
  readonly key?: string;
  readonly dataVer?: number;
  readonly outcome: HallOutcome;
  readonly findings: readonly HallFinding[];
}

/** The answer to a batch: govgate's Receipt shape (`stale` is always 0: the hall has no versions). */
export interface HallReceipt {
  readonly receiptId: string;
  readonly receivedAt: string;
  readonly deptCode: string;
  readonly batchId: string;
  readonly status: 'accepted' | 'partial' | 'rejected';
  readonly counts: {
    readonly records: number; readonly accepted: number; readonly rejected: number;
    readonly new: number; readonly changed: number; readonly unchanged: number; readonly stale: number;
  };
  readonly records: readonly HallRecordReceipt[];
  readonly findings: readonly HallFinding[];
}

export interface Reconciliation {
  readonly deptCode: string;
  readonly day: string;
  readonly timezone: 'Asia/Shanghai';
  readonly types: readonly { recordType: HallRecordType; count: number; digest: string; keys?: readonly string[] }[];
}

export interface InjectedCounts {
  errors: number;
  timeouts: number;
  outageDrops: number;
}

export interface HallServerOptions {
  readonly store: HallStore;
  readonly keys: readonly HallSimKey[];
  readonly faults: Faults;
  readonly bodyLimitBytes: number;
  readonly clockSkewSeconds: number;
  readonly nonceTtlSeconds: number;
  readonly logger: pino.Logger;
  readonly now: () => Date;
  readonly random: () => number;
}

export interface HallServer {
  readonly app: FastifyInstance<Server, IncomingMessage, ServerResponse, pino.Logger>;
  faults(): Faults;
  /** Throws HallError HALL_FAULTS_INVALID when the partial setting is not valid. */
  setFaults(partial: unknown): Faults;
  startOutage(durationSec: number): void;
  injected(): InjectedCounts;
  outageNow(): boolean;
  /** Clears the counters kept in memory (injected faults); the store is reset by the caller. */
  resetInjected(): void;
  /** Stops answering, drops held sockets, waits for requests in flight. */
  close(): Promise<void>;
}

const MAX_IDEMPOTENCY_KEY = 300;
/** Keys are indexed, and a PostgreSQL btree entry is limited to about 2.7 kB. */
const MAX_BUSINESS_KEY = 1000;
/** jsonb and text refuse unpaired UTF-16 surrogates; a key holding one could not be stored at all. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_DEPTH = 64;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// JSON.stringify writes these escapes for characters jsonb refuses; queries/json.ts cleans them.
const JSONB_SUSPECT = /\\u0000|\\ud[89a-f]/;

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const short = (v: unknown): string => {
  const s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? '(缺失 missing)' : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
};

function envelopeError(path: string, expected: Reason, found: unknown): HallError {
  return new HallError('HALL_ENVELOPE_INVALID', {
    detail: { zh: `${path} 应为${expected.zh}，实际为 ${short(found)}`, en: `${path} must be ${expected.en}, found ${short(found)}` },
    details: { path, found: short(found) },
  });
}

interface Envelope {
  readonly batchId: string;
  readonly senderDept: string;
  readonly records: readonly unknown[];
  readonly idempotencyKeys?: readonly string[];
}

/** The batch envelope of the hall protocol; records stay opaque objects here. */
function readEnvelope(body: Buffer | undefined): Envelope {
  let text: string;
  try {
    text = utf8.decode(body ?? Buffer.alloc(0));
  } catch {
    throw new HallError('HALL_JSON_INVALID', { detail: { zh: '不是合法的 UTF-8 字节序列', en: 'the bytes are not valid UTF-8' } });
  }
  if (text.trim() === '') throw new HallError('HALL_JSON_INVALID', { detail: { zh: '报文为空', en: 'the body is empty' } });
  // With the bytes the strict parser's first pass reads them instead of the decoded text, ≈ 2× as
  // fast — unless they start with a BOM, which the decoder dropped from the text.
  const bom = body !== undefined && body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
  const parsed = parseJsonStrict(text, { maxDepth: MAX_DEPTH, utf8: bom ? undefined : body });
  if (!parsed.ok) {
    const f = parsed.finding;
    throw new HallError('HALL_JSON_INVALID', {
      detail: f.message,
      details: { path: f.path, ...(f.line === undefined ? {} : { line: f.line, column: f.column }) },
    });
  }
  const v = parsed.value;
  if (!isObj(v)) throw envelopeError('/', { zh: '批次信封（JSON 对象）', en: 'a batch envelope (a JSON object)' }, Array.isArray(v) ? '[…]' : v);
  if (v['specVersion'] !== '1') throw envelopeError('/specVersion', { zh: ' "1"', en: '"1"' }, v['specVersion']);
  const str = (name: string, max: number): string => {
    const s = v[name];
    if (typeof s !== 'string' || s === '' || s.length > max) {
      throw envelopeError(`/${name}`, { zh: `1–${max} 个字符的字符串`, en: `a string of 1–${max} characters` }, s);
    }
    return s;
  };
  const batchId = str('batchId', 128);
  const senderDept = str('senderDept', 64);
  str('sentAt', 64);
  const records = v['records'];
  if (!Array.isArray(records)) throw envelopeError('/records', { zh: '记录数组', en: 'an array of records' }, records);
  const keys = v['idempotencyKeys'];
  if (keys === undefined) return { batchId, senderDept, records };
  if (!Array.isArray(keys) || keys.length !== records.length) {
    throw envelopeError('/idempotencyKeys', {
      zh: `与 records 等长（${records.length} 个）的字符串数组`, en: `an array of strings as long as records (${records.length})`,
    }, Array.isArray(keys) ? `${keys.length} 个 items` : keys);
  }
  keys.forEach((k: unknown, i) => {
    if (typeof k !== 'string' || k.length < 1 || k.length > MAX_IDEMPOTENCY_KEY || LONE_SURROGATE.test(k)) {
      throw envelopeError(`/idempotencyKeys/${i}`, {
        zh: `1–${MAX_IDEMPOTENCY_KEY} 个字符的字符串（合法的 Unicode）`, en: `a string of 1–${MAX_IDEMPOTENCY_KEY} characters (well-formed Unicode)`,
      }, k);
    }
  });
  return { batchId, senderDept, records, idempotencyKeys: keys as string[] };
}

const isRecordType = (t: unknown): t is HallRecordType => typeof t === 'string' && (HALL_RECORD_TYPES as readonly string[]).includes(t);

/**
 * The business key of a record: the value of its type's key field in the interface spec
 * (`RECORD_SPECS[type].keyField`, the field govgate's validator and store key records by — caseNo,
 * itemCode, superviseNo). undefined when the record has none.
 */
export function businessKeyOf(recordType: HallRecordType, record: Record<string, unknown>): string | undefined {
  const k = record[RECORD_SPECS[recordType].keyField];
  return typeof k === 'string' && k !== '' ? k : undefined;
}

/** The idempotency key of a record sent without one: `${deptCode}:${recordType}:${sha256 of JSON.stringify(record)}`. */
export function defaultIdempotencyKey(record: unknown, json = JSON.stringify(record)): string {
  const o = isObj(record) ? record : {};
  const dept = typeof o['deptCode'] === 'string' ? o['deptCode'] : '';
  const type = typeof o['recordType'] === 'string' ? o['recordType'] : '';
  return `${dept}:${type}:${createHash('sha256').update(json, 'utf8').digest('hex')}`;
}

interface ReadRecord extends BatchRecord {
  readonly dataVer?: number;
}

function readRecord(raw: unknown, index: number, senderDept: string, givenKey: string | undefined): ReadRecord {
  const json = JSON.stringify(raw);
  const idempotencyKey = givenKey ?? defaultIdempotencyKey(raw, json);
  const invalid = (zh: string, en: string, extra: { recordType?: HallRecordType; businessKey?: string } = {}): ReadRecord =>
    ({ index, idempotencyKey, invalid: { zh, en }, ...extra });
  if (!isObj(raw)) return invalid('记录应为 JSON 对象', 'a record must be a JSON object');
  const recordType = raw['recordType'];
  if (!isRecordType(recordType)) {
    return invalid(`recordType 应为 case、powerItem 或 supervision，实际为 ${short(recordType)}`, `recordType must be case, powerItem or supervision, found ${short(recordType)}`);
  }
  const spec = RECORD_SPECS[recordType];
  const businessKey = businessKeyOf(recordType, raw);
  const dept = raw[spec.deptField];
  if (dept !== senderDept) {
    return invalid(`记录的部门代码 ${short(dept)} 与发送部门 ${senderDept} 不一致（一个批次只含一个部门的记录）`,
      `the record's deptCode ${short(dept)} is not the sending department ${senderDept} (one batch carries one department's records)`,
      businessKey === undefined || businessKey.length > MAX_BUSINESS_KEY || LONE_SURROGATE.test(businessKey) ? { recordType } : { recordType, businessKey });
  }
  if (businessKey === undefined) {
    return invalid(`缺少业务主键 ${spec.keyField}（非空字符串）`, `the business key ${spec.keyField} (a non-empty string) is missing`, { recordType });
  }
  if (businessKey.length > MAX_BUSINESS_KEY || LONE_SURROGATE.test(businessKey)) {
    return invalid(`业务主键 ${spec.keyField} 应为不超过 ${MAX_BUSINESS_KEY} 个字符的合法 Unicode 字符串，实际为 ${short(businessKey)}`,
      `the business key ${spec.keyField} must be well-formed Unicode of at most ${MAX_BUSINESS_KEY} characters, found ${short(businessKey)}`, { recordType });
  }
  const dv = raw[spec.dataVerField];
  const contentJson = JSONB_SUSPECT.test(json) ? pgJson(raw) : json;
  const out: { -readonly [K in keyof ReadRecord]: ReadRecord[K] } = { index, idempotencyKey, recordType, businessKey, contentJson };
  if (typeof dv === 'number' && Number.isInteger(dv)) out.dataVer = dv;
  return out;
}

function hallFinding(reason: Reason): HallFinding {
  return { severity: 'error', code: 'HALL_REJECTED', path: '', message: { zh: `大厅拒收：${reason.zh}`, en: `rejected by the hall: ${reason.en}` } };
}

function receiptOf(at: Date, env: Envelope, records: readonly ReadRecord[], decisions: readonly { outcome: HallOutcome; reason?: Reason }[]): HallReceipt {
  const tally = { new: 0, changed: 0, unchanged: 0, rejected: 0 };
  const lines: HallRecordReceipt[] = records.map((r, i) => {
    const d = decisions[i]!;
    tally[d.outcome]++;
    const line: { -readonly [K in keyof HallRecordReceipt]?: HallRecordReceipt[K] } = { index: r.index };
    if (r.recordType !== undefined) line.recordType = r.recordType;
    if (r.businessKey !== undefined) line.key = r.businessKey;
    if (r.dataVer !== undefined) line.dataVer = r.dataVer;
    line.outcome = d.outcome;
    line.findings = d.reason === undefined ? [] : [hallFinding(d.reason)];
    return line as HallRecordReceipt;
  });
  const accepted = records.length - tally.rejected;
  return {
    // govgate's id format (time + 80 random bits) under the hall's own prefix.
    receiptId: `hall_${newReceiptId(at).slice('rcpt_'.length)}`,
    receivedAt: at.toISOString(),
    deptCode: env.senderDept,
    batchId: env.batchId,
    status: accepted === 0 ? 'rejected' : tally.rejected > 0 ? 'partial' : 'accepted',
    counts: { records: records.length, accepted, rejected: tally.rejected, new: tally.new, changed: tally.changed, unchanged: tally.unchanged, stale: 0 },
    records: lines,
    findings: [],
  };
}

function isValidDay(day: string): boolean {
  const m = DAY.exec(day);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === day;
}

function send(reply: FastifyReply, err: HallError): FastifyReply {
  if (err.statusCode === 503) void reply.header('retry-after', '1');
  return reply.code(err.statusCode).send(err.body());
}

/** An answer written on the raw response, for requests fastify never sees. */
function rawAnswer(res: ServerResponse, err: HallError): void {
  const body = JSON.stringify(err.body() satisfies HallErrorBody);
  res.writeHead(err.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': '1',
    connection: 'close',
  });
  res.end(body);
}

export async function createHallServer(opts: HallServerOptions): Promise<HallServer> {
  const { store, logger, now, random } = opts;
  let faults = opts.faults;
  let rejectKeys = new Set(faults.rejectKeys);
  const startedAt = Date.now();
  const injected: InjectedCounts = { errors: 0, timeouts: 0, outageDrops: 0 };
  let closing = false;
  const held = new Set<Socket>();

  // ── authentication ──
  const lookup = new Map<string, KeyLookupResult>();
  for (const k of opts.keys) {
    // A gateway's key submits for any department, so the department verifyRequest reports is unused.
    lookup.set(k.keyId, { deptCode: '*', key: { id: k.keyId, secret: k.secret, algorithm: k.algorithm ?? 'hmac-sha256', secretSource: 'inline', active: true } });
  }
  const nonces = new NonceCache({ now: () => now().getTime() });
  const nonceTtlMs = opts.nonceTtlSeconds * 1000;
  const authenticate = (req: FastifyRequest, body: Buffer | undefined): string => {
    try {
      const v = verifyRequest({
        method: req.method, url: req.url, headers: req.headers, body, now: now(), keys: (id) => lookup.get(id), clockSkewSeconds: opts.clockSkewSeconds,
      });
      // Only after the signature verified: otherwise anyone could fill the cache with junk.
      if (nonces.seen(v.keyId, v.nonce, nonceTtlMs)) throw new GovgateError('GOVGATE_AUTH_REPLAY', { found: v.nonce });
      return v.keyId;
    } catch (err) {
      throw fromAuthError(err) ?? err;
    }
  };

  // ── raw gate: outages, latency, shutdown ──
  const gate = (handler: (req: IncomingMessage, res: ServerResponse) => void) => (req: IncomingMessage, res: ServerResponse): void => {
    if ((req.url ?? '').startsWith('/_sim/')) {
      handler(req, res);
      return;
    }
    if (closing) {
      rawAnswer(res, new HallError('HALL_SHUTTING_DOWN'));
      return;
    }
    if (inOutage(faults, Date.now() - startedAt)) {
      injected.outageDrops++;
      if (faults.outageMode === '503') rawAnswer(res, new HallError('HALL_OUTAGE'));
      // RST rather than FIN: what a sender sees when the hall's host or balancer goes away.
      else req.socket.resetAndDestroy();
      return;
    }
    const ms = delayMs(faults, random);
    if (ms <= 0) {
      handler(req, res);
      return;
    }
    setTimeout(() => {
      // A request accepted before close began is still answered; its connection is not kept.
      if (closing) res.shouldKeepAlive = false;
      if (!req.socket.destroyed) handler(req, res);
    }, ms);
  };

  const app = Fastify({
    loggerInstance: logger,
    // A line per request would cost more than the simulated hall's own work under a chaos run.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes,
    // Shutdown answers come from the gate, in the hall's error shape.
    return503OnClosing: false,
    serverFactory: (handler) => createServer(gate(handler)) as Server,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof HallError) return send(reply, err);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, new HallError('HALL_PAYLOAD_TOO_LARGE', {
        detail: { zh: `上限 ${opts.bodyLimitBytes} 字节`, en: `the limit is ${opts.bodyLimitBytes} bytes` },
        details: { limit: opts.bodyLimitBytes, found: req.headers['content-length'] ?? `> ${opts.bodyLimitBytes}` },
      }));
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return send(reply, new HallError('HALL_REQUEST_INVALID', { detail: { zh: err.message, en: err.message }, details: { fastify: err.code } }));
    }
    req.log.error({ err }, 'hall-sim request failed');
    return send(reply, new HallError('HALL_INTERNAL'));
  });
  app.setNotFoundHandler((req, reply) => send(reply, new HallError('HALL_ROUTE_NOT_FOUND', {
    detail: { zh: `${req.method} ${req.url.split('?')[0]}`, en: `${req.method} ${req.url.split('?')[0]}` },
  })));

  /** Answers with the injected fault, or never answers. */
  const inject = (fault: InjectedFault, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (fault.kind === 'error') {
      injected.errors++;
      return send(reply, new HallError('HALL_INJECTED_ERROR', {
        status: fault.status,
        detail: fault.phase === 'after'
          ? { zh: `注入的 ${fault.status}（批次已入库，应答丢失）`, en: `injected ${fault.status} (the batch was stored, the answer lost)` }
          : { zh: `注入的 ${fault.status}（批次未处理）`, en: `injected ${fault.status} (the batch was not processed)` },
        details: { injected: true, phase: fault.phase },
      }));
    }
    injected.timeouts++;
    reply.hijack();
    const socket = req.raw.socket;
    if (closing) {
      socket.destroy();
      return reply;
    }
    held.add(socket);
    // Held until the client gives up (it closes the socket) or the hold time runs out.
    const timer = setTimeout(() => socket.destroy(), faults.timeoutHoldMs);
    socket.once('close', () => {
      clearTimeout(timer);
      held.delete(socket);
    });
    return reply;
  };

  const rule = (deptCode: string) => (recordType: HallRecordType, businessKey: string): Reason | undefined => {
    if (rejectKeys.has(businessKey)) {
      return { zh: `业务主键 ${businessKey} 在拒收名单（rejectKeys）中`, en: `the business key ${businessKey} is on the reject list (rejectKeys)` };
    }
    if (faults.rejectRate > 0 && rejectScore(deptCode, recordType, businessKey) < faults.rejectRate) {
      return { zh: `模拟拒收（rejectRate ${faults.rejectRate}）`, en: `simulated rejection (rejectRate ${faults.rejectRate})` };
    }
    return undefined;
  };

  // ── the upstream protocol ──
  await app.register(async (api) => {
    api.post('/batches', async (req, reply) => {
      const fault = decideFault(faults, random);
      if (fault?.phase === 'before') return inject(fault, req, reply);
      const body = req.body as Buffer | undefined;
      authenticate(req, body);
      const env = readEnvelope(body);
      const records = env.records.map((r, i) => readRecord(r, i, env.senderDept, env.idempotencyKeys?.[i]));
      const at = now();
      const decisions = await store.submit({ deptCode: env.senderDept, batchId: env.batchId, at, records, rule: rule(env.senderDept) });
      if (fault?.phase === 'after') return inject(fault, req, reply);
      return reply.code(200).send(receiptOf(at, env, records, decisions));
    });

    api.get('/reconciliation', async (req, reply) => {
      const fault = decideFault(faults, random);
      if (fault?.phase === 'before') return inject(fault, req, reply);
      authenticate(req, undefined);
      const q = req.query as Record<string, string | string[] | undefined>;
      const one = (name: string): string | undefined => {
        const v = q[name];
        if (Array.isArray(v)) throw new HallError('HALL_QUERY_INVALID', { detail: { zh: `参数 ${name} 出现多次`, en: `the parameter ${name} is given more than once` } });
        return v;
      };
      const deptCode = one('deptCode');
      const day = one('day');
      const recordType = one('recordType');
      const keys = one('keys');
      if (deptCode === undefined || deptCode === '') throw new HallError('HALL_QUERY_INVALID', { detail: { zh: '缺少 deptCode', en: 'deptCode is missing' } });
      if (day === undefined || !isValidDay(day)) {
        throw new HallError('HALL_QUERY_INVALID', { detail: { zh: `day 应为 YYYY-MM-DD 格式的日期，实际为 ${short(day)}`, en: `day must be a date as YYYY-MM-DD, found ${short(day)}` } });
      }
      if (recordType !== undefined && !isRecordType(recordType)) {
        throw new HallError('HALL_QUERY_INVALID', { detail: { zh: `recordType 应为 case、powerItem 或 supervision，实际为 ${short(recordType)}`, en: `recordType must be case, powerItem or supervision, found ${short(recordType)}` } });
      }
      if (keys !== undefined && !['true', 'false', '1', '0'].includes(keys)) {
        throw new HallError('HALL_QUERY_INVALID', { detail: { zh: `keys 应为 true 或 false，实际为 ${short(keys)}`, en: `keys must be true or false, found ${short(keys)}` } });
      }
      const types = await store.reconcile(deptCode, day, recordType === undefined ? HALL_RECORD_TYPES : [recordType], keys === 'true' || keys === '1');
      if (fault?.phase === 'after') return inject(fault, req, reply);
      const answer: Reconciliation = { deptCode, day, timezone: 'Asia/Shanghai', types };
      return reply.code(200).send(answer);
    });
  }, { prefix: '/api/v1' });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // ── control endpoints (open: it is a simulator) ──
  const jsonBody = (req: FastifyRequest, code: 'HALL_FAULTS_INVALID' | 'HALL_REQUEST_INVALID'): unknown => {
    const b = req.body as Buffer | undefined;
    try {
      return JSON.parse(utf8.decode(b ?? Buffer.alloc(0))) as unknown;
    } catch {
      throw new HallError(code, { detail: { zh: '正文应为 JSON', en: 'the body must be JSON' } });
    }
  };
  const setFaults = (partial: unknown): Faults => {
    const c = checkFaults(partial);
    if (!c.ok) throw new HallError('HALL_FAULTS_INVALID', { detail: { zh: c.problems.join('；'), en: c.problems.join('; ') }, details: { problems: c.problems } });
    faults = mergeFaults(faults, c.value);
    rejectKeys = new Set(faults.rejectKeys);
    logger.info({ faults }, 'hall-sim faults changed');
    return faults;
  };
  const startOutage = (durationSec: number): void => {
    if (typeof durationSec !== 'number' || !Number.isFinite(durationSec) || durationSec <= 0 || durationSec > 86_400) {
      throw new HallError('HALL_FAULTS_INVALID', { detail: { zh: 'durationSec 应为 0 到 86400 之间的秒数', en: 'durationSec must be a number of seconds above 0 and at most 86400' } });
    }
    const startSec = (Date.now() - startedAt) / 1000;
    faults = mergeFaults(faults, { outages: [...faults.outages, { startSec, durationSec }] });
    logger.warn({ startSec, durationSec }, 'hall-sim outage started');
  };

  app.get('/_sim/faults', async () => faults);
  app.put('/_sim/faults', async (req) => setFaults(jsonBody(req, 'HALL_FAULTS_INVALID')));
  app.post('/_sim/outage', async (req) => {
    const b = jsonBody(req, 'HALL_FAULTS_INVALID');
    startOutage(isObj(b) ? (b['durationSec'] as number) : Number.NaN);
    return { outage: true, outages: faults.outages };
  });
  app.get('/_sim/stats', async () => {
    const s = await store.stats();
    return { ...s.total, injected: { ...injected }, outage: inOutage(faults, Date.now() - startedAt), byDept: s.byDept };
  });
  app.get('/_sim/rejected', async () => store.rejected());
  app.get('/_sim/records', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const int = (name: string, dflt: number, max: number): number => {
      const v = q[name];
      if (v === undefined) return dflt;
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > max) throw new HallError('HALL_QUERY_INVALID', { detail: { zh: `${name} 应为 0–${max} 的整数`, en: `${name} must be an integer 0–${max}` } });
      return n;
    };
    const r = await store.records({
      ...(q['deptCode'] === undefined ? {} : { deptCode: q['deptCode'] }),
      ...(q['recordType'] === undefined ? {} : { recordType: q['recordType'] }),
      limit: int('limit', 100, 10_000),
      offset: int('offset', 0, Number.MAX_SAFE_INTEGER),
      content: q['content'] === 'true' || q['content'] === '1',
    });
    return reply.header('x-total-count', String(r.total)).send(r.records);
  });
  const resetInjected = (): void => {
    injected.errors = 0;
    injected.timeouts = 0;
    injected.outageDrops = 0;
  };
  app.post('/_sim/reset', async () => {
    await store.reset();
    resetInjected();
    return { reset: true };
  });

  return {
    app,
    faults: () => faults,
    setFaults,
    startOutage,
    injected: () => ({ ...injected }),
    outageNow: () => inOutage(faults, Date.now() - startedAt),
    resetInjected,
    async close() {
      closing = true;
      // Held sockets would keep server.close() waiting for the whole hold time.
      for (const s of held) s.destroy();
      held.clear();
      await app.close();
    },
  };
}
