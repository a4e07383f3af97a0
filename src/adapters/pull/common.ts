/**
 * Helpers the pull kinds share: secrets given inline or through an environment variable, the
 * schema fragments for them, time formatting for "updated since" parameters, JSON Pointer reads
 * and turning transport failures into stable error codes.
 */
import { GovgateError, type ErrorCode } from '../../errors.js';

// ── secrets ──────────────────────────────────────────────────────────────────────────────────────

export { secretPair, secretValue, secretProblems, type OptionProblem } from '../secrets.js';

type Obj = Record<string, unknown>;

// ── time ─────────────────────────────────────────────────────────────────────────────────────────

export const TIME_FORMATS = ['iso', 'yyyy-MM-dd HH:mm:ss', 'yyyyMMddHHmmss', 'yyyy-MM-dd', 'epoch-ms', 'epoch-s'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/** `+08:00` → minutes east of UTC. */
export function offsetMinutes(offset: string): number {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset);
  if (m === null) throw new RangeError(`offset must look like +08:00, not ${offset}`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * An instant as a department API expects it: local wall-clock time at `offset`, or epoch numbers.
 * Formats coarser than the instant round it: down for a lower bound, `up` for an upper bound, so
 * a range asked for never leaves out a record inside it (what is asked twice is unchanged).
 */
export function formatTime(at: Date, format: TimeFormat, offset = '+08:00', up = false): string {
  if (format === 'epoch-ms') return String(at.getTime());
  if (up) {
    const unit = format === 'yyyy-MM-dd' ? 86_400_000 : 1000;
    const shift = format === 'yyyy-MM-dd' ? offsetMinutes(offset) * 60_000 : 0;
    at = new Date(Math.ceil((at.getTime() + shift) / unit) * unit - shift);
  }
  if (format === 'epoch-s') return String(Math.floor(at.getTime() / 1000));
  const local = new Date(at.getTime() + offsetMinutes(offset) * 60_000);
  const y = pad(local.getUTCFullYear(), 4);
  const mo = pad(local.getUTCMonth() + 1);
  const d = pad(local.getUTCDate());
  const h = pad(local.getUTCHours());
  const mi = pad(local.getUTCMinutes());
  const s = pad(local.getUTCSeconds());
  switch (format) {
    case 'iso': return `${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`;
    case 'yyyy-MM-dd HH:mm:ss': return `${y}-${mo}-${d} ${h}:${mi}:${s}`;
    case 'yyyyMMddHHmmss': return `${y}${mo}${d}${h}${mi}${s}`;
    case 'yyyy-MM-dd': return `${y}-${mo}-${d}`;
  }
}

const TS_TEXT = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(.*)$/;

/**
 * Moves a timestamp the source printed (`2026-03-02 09:15:00.123456`, with or without a zone
 * suffix) by `seconds`, keeping its form: the result goes back to the same source as a parameter,
 * which compares it with the column in the column's own type, so no time-zone conversion happens
 * on our side. Sub-millisecond digits are kept when the shift is a whole number of milliseconds.
 */
export function shiftTimestampText(text: string, seconds: number): string {
  const m = TS_TEXT.exec(text);
  if (m === null) throw new RangeError(`not a timestamp the source printed: ${JSON.stringify(text)}`);
  const frac = m[7] ?? '';
  const ms = frac === '' ? 0 : Number(frac.slice(1, 4).padEnd(3, '0'));
  const rest = frac.length > 4 ? frac.slice(4) : '';
  const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  const shifted = new Date(base + Math.round(seconds * 1000));
  const f = frac === '' && shifted.getUTCMilliseconds() === 0 ? '' : `.${pad(shifted.getUTCMilliseconds(), 3)}${rest}`;
  return `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())} ` +
    `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}${f}${m[8] ?? ''}`;
}

/** Parses `--since`/`--until` and schema date-times: RFC 3339, or a date (midnight at `offset`). */
export function parseInstant(text: string, offset = '+08:00'): Date | undefined {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00${offset}` : text.replace(' ', 'T');
  const withZone = /(Z|[+-]\d{2}:\d{2})$/.test(t) ? t : `${t}${offset}`;
  const d = new Date(withZone);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

// ── documents ────────────────────────────────────────────────────────────────────────────────────

/** Reads a JSON Pointer (RFC 6901) into a parsed value; undefined when a segment is missing. */
export function pointerGet(value: unknown, pointer: string): unknown {
  if (pointer === '' || pointer === '/') return value;
  let cur = value;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      // A single XML element reads as an object: index 0 addresses it too.
      cur = /^\d+$/.test(seg) ? cur[Number(seg)] : undefined;
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.hasOwn(cur, seg) ? (cur as Obj)[seg] : seg === '0' ? cur : undefined;
    } else return undefined;
  }
  return cur;
}

/** How many records a list value holds: a repeated XML element is an array, a single one an object. */
export function countItems(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (v === undefined || v === null || v === '') return 0;
  return 1;
}

// ── errors ───────────────────────────────────────────────────────────────────────────────────────

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ESOCKETTIMEDOUT', 'PROTOCOL_CONNECTION_LOST']);

/** Any failure talking to a source → a GovgateError with a stable code; never a credential in it. */
export function sourceFailure(adapter: string, err: unknown, secrets: readonly string[] = []): GovgateError {
  if (err instanceof GovgateError) return err;
  const e = (err ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  let message = typeof e.message === 'string' ? e.message : String(err);
  for (const s of secrets) if (s.length > 0) message = message.split(s).join('***');
  const detail = code === '' ? message : `${code}: ${message}`;
  let which: ErrorCode = 'GOVGATE_PULL_SOURCE_ERROR';
  if (UNAVAILABLE.has(code) || e.name === 'TimeoutError' || code === 'ETIMEDOUT' || /^08/.test(code) || code === '57P01' || code === '57P03') which = 'GOVGATE_PULL_SOURCE_UNAVAILABLE';
  if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') which = 'GOVGATE_PULL_SOURCE_AUTH';
  return new GovgateError(which, { adapter, detail }, { cause: err });
}

export function aborted(adapter: string): GovgateError {
  return new GovgateError('GOVGATE_PULL_ABORTED', { adapter });
}
