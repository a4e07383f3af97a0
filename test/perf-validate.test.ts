/**
 * The validation shortcuts taken for speed must not change any outcome:
 * - the fast validators count string lengths in UTF-16 code units; the full ones (code points,
 *   every error) decide whenever the fast one refuses;
 * - intake skips trimming when the JSON reader vouched that nothing needs it;
 * - isDateTime / isDate read the day from the characters instead of a match array.
 */
import t from 'tap';
import { intake } from '../src/pipeline/intake.js';
import { exampleCase } from '../src/schemas/spec/examples.js';
import { createValidator, isDate, isDateTime } from '../src/schemas/validate.js';

const validator = createValidator();
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

t.test('lengths are code points: a name of rare characters at the limit is valid, one more is not', async (t) => {
  const base = exampleCase();
  // The case name's limit, in characters; U+20000 is two UTF-16 code units.
  const probe = validator.validateRecord({ ...exampleCase(), caseName: 'x'.repeat(10_000) });
  const limit = Number(/(\d+)/.exec(String(probe.findings.find((f) => f.code === 'GOVGATE_FIELD_TOO_LONG')?.expected ?? ''))?.[1]);
  t.ok(limit > 10, `caseName allows ${limit} characters`);
  const atLimit = validator.validateRecord({ ...base, caseName: '𠀀'.repeat(limit) });
  t.ok(atLimit.ok, `${limit} × U+20000 (${2 * limit} code units) is valid`);
  const over = validator.validateRecord({ ...base, caseName: '𠀀'.repeat(limit + 1) });
  t.notOk(over.ok);
  t.match(over.findings, [{ code: 'GOVGATE_FIELD_TOO_LONG', path: '/caseName' }]);
  t.equal(over.findings.length, 1);
});

t.test('every error is still reported once the fast validator refuses a record', async (t) => {
  const r = validator.validateRecord({ ...exampleCase(), caseNo: 5, status: 'nope', applyTime: 'yesterday', unknownField: 1 });
  t.notOk(r.ok);
  const codes = r.findings.map((f) => `${f.code} ${f.path}`).sort();
  t.same(codes, ['GOVGATE_FIELD_CODE /status', 'GOVGATE_FIELD_PATTERN /applyTime', 'GOVGATE_FIELD_TYPE /caseNo', 'GOVGATE_FIELD_UNKNOWN /unknownField']);
});

t.test('intake still trims what needs trimming, with and without the shortcut', async (t) => {
  const clean = intake(enc(exampleCase()), { validator, contentType: 'application/json' });
  t.ok(clean.document?.records[0]?.ok);
  const padded = intake(enc({ ...exampleCase(), caseName: '\u3000 关于某某的申请 \n', deptName: '\u00a0杭州市市场监督管理局' }), { validator, contentType: 'application/json' });
  const record = padded.document?.records[0]?.record;
  t.equal(record?.['caseName'], '关于某某的申请');
  t.equal(record?.['deptName'], '杭州市市场监督管理局');
  const escaped = intake(new TextEncoder().encode(JSON.stringify(exampleCase()).replace('"caseName":"', '"caseName":"\\t')), { validator, contentType: 'application/json' });
  t.equal(escaped.document?.records[0]?.record?.['caseName'], exampleCase()['caseName'], 'an escaped tab at the start');
  const batch = intake(enc({ specVersion: '1', batchId: 'B1', senderDept: '11330100002489671K', sentAt: '2026-03-10T17:00:00+08:00', records: [{ ...exampleCase(), caseName: ' x ' }] }), { validator, contentType: 'application/json' });
  t.equal(batch.document?.records[0]?.record?.['caseName'], 'x', 'in a batch');
  // Without the hint, validateDocument trims as it always did.
  const direct = validator.validateDocument({ ...exampleCase(), caseName: ' y ' });
  t.equal(direct.records[0]?.record?.['caseName'], 'y');
});

t.test('isDateTime and isDate agree with the match-array version on every day of 1999–2101', async (t) => {
  const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  const oracle = (s: string): boolean => {
    const m = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.exec(s.slice(0, 10));
    if (m === null) return false;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (d <= 28) return true;
    if (mo === 2 && d === 29) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
    return d <= (DAYS[mo - 1] as number);
  };
  let checked = 0;
  for (let y = 1999; y <= 2101; y++) {
    for (let m = 1; m <= 12; m++) {
      for (let d = 1; d <= 31; d++) {
        const date = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        const want = oracle(date);
        if (isDate(date) !== want || isDateTime(`${date}T12:00:00+08:00`) !== want) t.fail(date);
        checked++;
      }
    }
  }
  for (const bad of ['2026-00-10', '2026-13-01', '2026-01-00', '2026-01-32', '226-01-01', '2026-1-01', '２０２６-01-01', '2026-01-01T24:00:00Z', '2026-01-01T12:00:00']) {
    t.notOk(isDate(bad) && isDateTime(bad), bad);
  }
  t.ok(checked > 30000, `${checked} dates`);
});
