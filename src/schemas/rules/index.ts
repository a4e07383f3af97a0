/**
 * The second validation layer: what a schema cannot say. Runs only on records that passed the
 * schema, so every field here has its declared type. Rules may normalise values in place
 * (upgrading a 15-digit ID number, upper-casing a check character); each such change is a warning.
 */
import { finding, pointer, type Finding } from '../findings.js';
import {
  NEGATIVE_DONE_RESULTS, NEGATIVE_STEP_RESULTS, STEP_RESULTS_BY_TYPE, type RecordType,
} from '../spec/index.js';
import { checkOrgCode, checkResidentId, checkUscc } from './identifiers.js';
import type { Divisions } from '../spec/divisions.js';

export interface RuleContext {
  /** Known power item codes; when given, a case must refer to one of them. */
  readonly catalogue?: (itemCode: string) => boolean;
  readonly divisions?: Divisions;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

export function applyRules(type: RecordType, record: Obj, ctx: RuleContext): Finding[] {
  const out: Finding[] = [];
  checkRegion(record, ctx, out);
  switch (type) {
    case 'case': caseRules(record, ctx, out); break;
    case 'powerItem': powerItemRules(record, out); break;
    case 'supervision': supervisionRules(record, out); break;
  }
  return out;
}

// ── identifiers ─────────────────────────────────────────────────────────────────────────────────

const RESIDENT_ID_TYPES = new Set(['111', '112']);

/** Checks `holder.idNo` according to `holder.idType`, normalising it in place when valid. */
function checkCertificate(holder: Obj, base: string, out: Finding[]): void {
  const idType = holder['idType'];
  const idNo = holder['idNo'];
  if (typeof idNo !== 'string' || typeof idType !== 'string') return;
  const path = `${base}/idNo`;
  if (RESIDENT_ID_TYPES.has(idType)) {
    const r = checkResidentId(idNo);
    if (!r.ok) {
      out.push(finding('error', 'GOVGATE_RULE_ID_CARD_INVALID', { path, found: idNo, expected: r.expected, detail: r.zh, detailEn: r.en }));
    } else {
      if (r.legacyUpgraded === true) out.push(finding('warning', 'GOVGATE_RULE_ID_CARD_LEGACY', { path, found: r.normalized }));
      holder['idNo'] = r.normalized;
    }
  } else if (idType === '001') {
    const r = checkUscc(idNo);
    if (!r.ok) out.push(finding('error', 'GOVGATE_RULE_USCC_INVALID', { path, found: idNo, expected: r.expected, detail: r.zh, detailEn: r.en }));
    else holder['idNo'] = r.normalized;
  } else if (idType === '002') {
    const r = checkOrgCode(idNo);
    if (!r.ok) out.push(finding('error', 'GOVGATE_RULE_ORG_CODE_INVALID', { path, found: idNo, expected: r.expected, detail: r.zh, detailEn: r.en }));
    else holder['idNo'] = r.normalized;
  }
}

function checkUsccField(owner: Obj, field: string, base: string, out: Finding[]): void {
  const value = owner[field];
  if (typeof value !== 'string') return;
  const r = checkUscc(value);
  if (!r.ok) out.push(finding('error', 'GOVGATE_RULE_USCC_INVALID', { path: `${base}/${field}`, found: value, expected: r.expected, detail: r.zh, detailEn: r.en }));
}

function checkRegion(record: Obj, ctx: RuleContext, out: Finding[]): void {
  const region = record['regionCode'];
  if (ctx.divisions === undefined || typeof region !== 'string') return;
  if (!ctx.divisions.has(region.slice(0, 6))) {
    // A subset table cannot prove a code wrong, only unknown: keep the record and flag it.
    out.push(finding(ctx.divisions.complete ? 'error' : 'warning', 'GOVGATE_RULE_REGION_UNKNOWN', { path: '/regionCode', found: region }));
  }
}

// ── time order ──────────────────────────────────────────────────────────────────────────────────

interface Stamp { readonly base: string; readonly field: string; readonly value: string }

/** Schema-valid RFC 3339 strings; the path is only built when a finding needs it. */
function stamp(owner: Obj | undefined, field: string, base: string): Stamp | undefined {
  const v = owner?.[field];
  return typeof v === 'string' ? { base, field, value: v } : undefined;
}

/**
 * Milliseconds between two RFC 3339 stamps' instants, sign only. Senders nearly always write every
 * time with the same offset and precision; then the strings order like the instants and no date
 * parsing is needed.
 */
const offsetOf = (s: string): string => (s.endsWith('Z') ? 'Z' : s.slice(-6));

export function compareStamps(a: string, b: string): number {
  if (a.length === b.length && offsetOf(a) === offsetOf(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Date.parse(a) - Date.parse(b);
}

/** `later` must not be before `earlier`. */
function notBefore(later: Stamp | undefined, earlier: Stamp | undefined, out: Finding[]): void {
  if (later === undefined || earlier === undefined || compareStamps(later.value, earlier.value) >= 0) return;
  out.push(finding('error', 'GOVGATE_RULE_TIME_ORDER', {
    path: `${later.base}/${later.field}`, found: later.value, otherPath: `${earlier.base}/${earlier.field}`, expected: earlier.value,
  }));
}

// ── amounts ─────────────────────────────────────────────────────────────────────────────────────

/** At most two decimals, judged on the shortest decimal form JavaScript prints for the number. */
export function isAmount(v: unknown): boolean {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return false;
  return /^\d+(\.\d{1,2})?$/.test(String(v));
}

function checkAmount(owner: Obj, field: string, base: string, out: Finding[]): void {
  const v = owner[field];
  if (v !== undefined && !isAmount(v)) out.push(finding('error', 'GOVGATE_RULE_AMOUNT', { path: `${base}/${field}`, found: v }));
}

// ── case ────────────────────────────────────────────────────────────────────────────────────────

const ACCEPTED_STATES = new Set(['accepted', 'processing', 'suspended', 'correction', 'completed']);

function caseRules(c: Obj, ctx: RuleContext, out: Finding[]): void {
  const applicant = c['applicant'] as Obj;
  checkCertificate(applicant, '/applicant', out);
  if (isObj(applicant['contact'])) checkCertificate(applicant['contact'], '/applicant/contact', out);

  if (ctx.catalogue !== undefined && typeof c['itemCode'] === 'string' && !ctx.catalogue(c['itemCode'])) {
    out.push(finding('error', 'GOVGATE_RULE_ITEM_UNKNOWN', { path: '/itemCode', found: c['itemCode'] }));
  }

  const status = c['status'] as string;
  const acceptance = isObj(c['acceptance']) ? c['acceptance'] : undefined;
  const result = isObj(c['result']) ? c['result'] : undefined;

  if (acceptance !== undefined) {
    checkUsccField(acceptance, 'orgCode', '/acceptance', out);
    if (acceptance['accepted'] === false && typeof acceptance['rejectReason'] !== 'string') {
      out.push(finding('error', 'GOVGATE_RULE_REASON_REQUIRED', { path: '/acceptance/rejectReason', found: 'accepted = false' }));
    }
  }
  if (ACCEPTED_STATES.has(status)) {
    if (acceptance === undefined) out.push(finding('error', 'GOVGATE_RULE_STATUS_INCOMPLETE', { path: '/acceptance', found: status }));
    else if (acceptance['accepted'] === false) out.push(finding('error', 'GOVGATE_RULE_STATUS_INCOMPLETE', { path: '/acceptance/accepted', found: status }));
  }
  if (status === 'rejected' && acceptance?.['accepted'] !== false && result === undefined) {
    out.push(finding('error', 'GOVGATE_RULE_STATUS_INCOMPLETE', { path: '/acceptance/accepted', found: status }));
  }
  if (status === 'completed' && result === undefined) {
    out.push(finding('error', 'GOVGATE_RULE_RESULT_REQUIRED', { path: '/result', found: status }));
  }

  const applyTime = stamp(c, 'applyTime', '');
  const acceptTime = stamp(acceptance, 'time', '/acceptance');
  notBefore(acceptTime, applyTime, out);

  const steps = arr(c['steps']);
  let prevSeq: number | undefined;
  let latestStep: Stamp | undefined;
  // A plain loop: the forEach closure and the `[start, end]` array per step were visible in the
  // profile of a one-record payload (rules ~0.9 µs of ~12 µs, Node 20.20).
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as Obj;
    const base = `/steps/${i}`;
    const seq = step['seq'] as number;
    if (prevSeq !== undefined && seq <= prevSeq) {
      out.push(finding('error', 'GOVGATE_RULE_STEP_SEQUENCE', { path: `${base}/seq`, found: seq, expected: prevSeq }));
    }
    prevSeq = seq;
    const type = step['stepType'] as string;
    const res = step['result'] as string;
    const allowed = STEP_RESULTS_BY_TYPE[type];
    if (allowed !== undefined && !allowed.includes(res)) {
      out.push(finding('error', 'GOVGATE_RULE_STEP_COMBINATION', { path: base, stepType: type, found: res, expected: allowed.join(', ') }));
    }
    if (NEGATIVE_STEP_RESULTS.includes(res) && typeof step['reason'] !== 'string') {
      out.push(finding('error', 'GOVGATE_RULE_REASON_REQUIRED', { path: `${base}/reason`, found: `result = ${res}` }));
    }
    checkUsccField(step, 'orgCode', base, out);
    const start = stamp(step, 'startTime', base);
    const end = stamp(step, 'endTime', base);
    notBefore(start, applyTime, out);
    notBefore(end, start, out);
    if (start !== undefined && (latestStep === undefined || compareStamps(start.value, latestStep.value) > 0)) latestStep = start;
    if (end !== undefined && (latestStep === undefined || compareStamps(end.value, latestStep.value) > 0)) latestStep = end;
  }

  arr(c['specialProcedures']).forEach((sp, i) => {
    const base = pointer('specialProcedures', i);
    const start = stamp(sp, 'startTime', base);
    notBefore(start, applyTime, out);
    notBefore(stamp(sp, 'endTime', base), start, out);
    checkUsccField(sp, 'orgCode', base, out);
    checkAmount(sp, 'feeAmount', base, out);
  });
  if (status === 'suspended' && !arr(c['specialProcedures']).some((sp) => sp['endTime'] === undefined)) {
    out.push(finding('warning', 'GOVGATE_RULE_STATUS_INCOMPLETE', { path: '/specialProcedures', found: status }));
  }

  arr(c['charges']).forEach((ch, i) => checkAmount(ch, 'amount', pointer('charges', i), out));

  if (result !== undefined) {
    const doneTime = stamp(result, 'time', '/result');
    notBefore(doneTime, applyTime, out);
    notBefore(doneTime, acceptTime, out);
    notBefore(doneTime, latestStep, out);
    if (NEGATIVE_DONE_RESULTS.includes(result['code'] as string) && typeof result['reason'] !== 'string') {
      out.push(finding('error', 'GOVGATE_RULE_REASON_REQUIRED', { path: '/result/reason', found: `code = ${String(result['code'])}` }));
    }
  }
}

// ── power item ──────────────────────────────────────────────────────────────────────────────────

function powerItemRules(p: Obj, out: Finding[]): void {
  const from = p['effectiveFrom'];
  const to = p['effectiveTo'];
  if (typeof from === 'string' && typeof to === 'string' && to < from) {
    out.push(finding('error', 'GOVGATE_RULE_DATE_RANGE', { path: '/effectiveTo', found: to, otherPath: '/effectiveFrom', expected: from }));
  }
  if ((p['version'] as number) > 1 && typeof p['adjustReason'] !== 'string') {
    out.push(finding('error', 'GOVGATE_RULE_STATUS_INCOMPLETE', { path: '/adjustReason', found: `version ${String(p['version'])}` }));
  }
  if (p['isFee'] === true) {
    for (const f of ['feeBasis', 'feeStandard']) {
      if (typeof p[f] !== 'string') out.push(finding('error', 'GOVGATE_RULE_STATUS_INCOMPLETE', { path: `/${f}`, found: 'isFee = true' }));
    }
  }
  if (isObj(p['handlingOrg'])) checkUsccField(p['handlingOrg'], 'code', '/handlingOrg', out);
  let prev: number | undefined;
  arr(p['flowchart']).forEach((step, i) => {
    const seq = step['seq'] as number;
    if (prev !== undefined && seq <= prev) out.push(finding('error', 'GOVGATE_RULE_STEP_SEQUENCE', { path: `${pointer('flowchart', i)}/seq`, found: seq, expected: prev }));
    prev = seq;
  });
}

// ── supervision ─────────────────────────────────────────────────────────────────────────────────

function supervisionRules(s: Obj, out: Finding[]): void {
  const issued = stamp(s, 'issuedTime', '');
  notBefore(stamp(s, 'statusTime', ''), issued, out);
  notBefore(stamp(s, 'replyDue', ''), issued, out);
}
