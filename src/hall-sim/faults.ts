/**
 * Fault injection for the hall simulator: what can go wrong between a gateway and the hall, as
 * data. Everything here is pure (decisions take the random source and the clock as arguments) so
 * the server stays a thin layer and the rules can be read in one place.
 */
import { createHash } from 'node:crypto';

export type FaultPhase = 'before' | 'after' | 'mixed';
export type OutageMode = 'reset' | '503';

export interface OutageWindow {
  /** Seconds after the simulator started. */
  readonly startSec: number;
  readonly durationSec: number;
}

export interface Faults {
  /** Added to every request but the control endpoints: a fixed delay or a uniform range [min, max]. */
  readonly latencyMs: number | readonly [number, number];
  /** Share of protocol requests answered 503 (sometimes 500 or 502). */
  readonly errorRate: number;
  /** Share of protocol requests never answered. */
  readonly timeoutRate: number;
  /** How long an unanswered request's socket is held before it is destroyed. */
  readonly timeoutHoldMs: number;
  /** Whether an injected error or timeout happens before the batch is stored, after it was committed, or either. */
  readonly faultPhase: FaultPhase;
  /** Share of records (by business key) the hall refuses. */
  readonly rejectRate: number;
  /** Business keys the hall always refuses. */
  readonly rejectKeys: readonly string[];
  readonly outages: readonly OutageWindow[];
  /** `reset`: the connection is reset; `503`: answered 503. */
  readonly outageMode: OutageMode;
}

export const DEFAULT_FAULTS: Faults = {
  latencyMs: 0,
  errorRate: 0,
  timeoutRate: 0,
  timeoutHoldMs: 120_000,
  faultPhase: 'mixed',
  rejectRate: 0,
  rejectKeys: [],
  outages: [],
  outageMode: 'reset',
};

const FAULT_NAMES = Object.keys(DEFAULT_FAULTS) as (keyof Faults)[];

/** A day in ms: bounds delays so a typo cannot park a request for weeks. */
const MAX_MS = 86_400_000;
const MAX_REJECT_KEYS = 100_000;

export type FaultsCheck = { readonly ok: true; readonly value: Partial<Faults> } | { readonly ok: false; readonly problems: readonly string[] };

const isRate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_MS;
const isSec = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_MS / 1000;

/**
 * Checks a partial fault setting (a PUT body, CLI flags). Unknown names are refused rather than
 * ignored: a misspelt `errorrate` silently doing nothing would make a chaos run prove nothing.
 * Problems are bilingual, one line each.
 */
export function checkFaults(input: unknown): FaultsCheck {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, problems: ['应为 JSON 对象 / expected a JSON object'] };
  }
  const problems: string[] = [];
  const out: { -readonly [K in keyof Faults]?: Faults[K] } = {};
  for (const [name, v] of Object.entries(input as Record<string, unknown>)) {
    switch (name as keyof Faults) {
      case 'latencyMs':
        if (isMs(v)) out.latencyMs = v;
        else if (Array.isArray(v) && v.length === 2 && isMs(v[0]) && isMs(v[1]) && v[0] <= v[1]) out.latencyMs = [v[0], v[1]];
        else problems.push(`latencyMs 应为 0–${MAX_MS} 的整数或 [最小, 最大] / latencyMs must be an integer 0–${MAX_MS} or [min, max]`);
        break;
      case 'errorRate':
      case 'timeoutRate':
      case 'rejectRate':
        if (isRate(v)) out[name as 'errorRate'] = v;
        else problems.push(`${name} 应为 0 到 1 之间的数 / ${name} must be a number from 0 to 1`);
        break;
      case 'timeoutHoldMs':
        if (isMs(v)) out.timeoutHoldMs = v;
        else problems.push(`timeoutHoldMs 应为 0–${MAX_MS} 的整数 / timeoutHoldMs must be an integer 0–${MAX_MS}`);
        break;
      case 'faultPhase':
        if (v === 'before' || v === 'after' || v === 'mixed') out.faultPhase = v;
        else problems.push('faultPhase 应为 before、after 或 mixed / faultPhase must be before, after or mixed');
        break;
      case 'outageMode':
        if (v === 'reset' || v === '503') out.outageMode = v;
        else problems.push('outageMode 应为 reset 或 503 / outageMode must be reset or 503');
        break;
      case 'rejectKeys':
        if (Array.isArray(v) && v.length <= MAX_REJECT_KEYS && v.every((k) => typeof k === 'string' && k !== '')) out.rejectKeys = [...(v as string[])];
        else problems.push(`rejectKeys 应为非空字符串数组（至多 ${MAX_REJECT_KEYS} 个） / rejectKeys must be an array of non-empty strings (at most ${MAX_REJECT_KEYS})`);
        break;
      case 'outages':
        if (Array.isArray(v) && v.every((w) => w !== null && typeof w === 'object' && isSec((w as OutageWindow).startSec) && isSec((w as OutageWindow).durationSec)
          && Object.keys(w as object).every((k) => k === 'startSec' || k === 'durationSec'))) {
          out.outages = (v as OutageWindow[]).map((w) => ({ startSec: w.startSec, durationSec: w.durationSec }));
        } else problems.push('outages 应为 [{ startSec, durationSec }] 数组（秒，非负） / outages must be an array of { startSec, durationSec } (seconds, non-negative)');
        break;
      default:
        problems.push(`未知的故障设置 ${JSON.stringify(name)}，可用：${FAULT_NAMES.join('、')} / unknown fault setting ${JSON.stringify(name)}; known: ${FAULT_NAMES.join(', ')}`);
    }
  }
  return problems.length === 0 ? { ok: true, value: out } : { ok: false, problems };
}

/** `current` with `partial` laid over it; a list given replaces the old one. */
export function mergeFaults(current: Faults, partial: Partial<Faults>): Faults {
  return { ...current, ...partial };
}

export function delayMs(faults: Faults, random: () => number): number {
  const l = faults.latencyMs;
  if (typeof l === 'number') return l;
  return Math.round(l[0] + random() * (l[1] - l[0]));
}

export type InjectedFault =
  | { readonly kind: 'error'; readonly status: 500 | 502 | 503; readonly phase: 'before' | 'after' }
  | { readonly kind: 'timeout'; readonly phase: 'before' | 'after' };

/**
 * What goes wrong with one protocol request, if anything. One draw decides error vs timeout vs
 * nothing, so each happens at exactly its configured rate (timeouts get what is left when the two
 * rates add up to more than 1).
 */
export function decideFault(faults: Faults, random: () => number): InjectedFault | undefined {
  if (faults.errorRate === 0 && faults.timeoutRate === 0) return undefined;
  const r = random();
  const phase = faults.faultPhase === 'mixed' ? (random() < 0.5 ? 'before' : 'after') : faults.faultPhase;
  if (r < faults.errorRate) {
    // Mostly 503, as a hall behind a load balancer answers; the others make sure a sender does
    // not retry on 503 alone.
    const s = random();
    return { kind: 'error', status: s < 0.8 ? 503 : s < 0.9 ? 500 : 502, phase };
  }
  if (r < faults.errorRate + faults.timeoutRate) return { kind: 'timeout', phase };
  return undefined;
}

/**
 * A record's fixed place in [0, 1): the first 6 bytes of sha256(dept \0 type \0 key) / 2^48. A
 * function of the business key only, so the same record is refused on every resend, by every
 * simulator instance, and a test can predict which keys a rate refuses.
 */
export function rejectScore(deptCode: string, recordType: string, businessKey: string): number {
  const h = createHash('sha256').update(`${deptCode}\u0000${recordType}\u0000${businessKey}`, 'utf8').digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/** Whether an outage window covers `sinceStartMs` (ms after the simulator started). */
export function inOutage(faults: Faults, sinceStartMs: number): boolean {
  const s = sinceStartMs / 1000;
  for (const w of faults.outages) if (s >= w.startSec && s < w.startSec + w.durationSec) return true;
  return false;
}
