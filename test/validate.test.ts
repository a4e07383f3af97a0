import t from 'tap';
import { createValidator } from '../src/schemas/validate.js';
import { PUBLISHED_EXAMPLES, exampleCase, examplePowerItem, exampleSupervision, exampleBatch } from '../src/schemas/spec/examples.js';
import { shippedDivisions } from '../src/schemas/spec/divisions.js';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const codes = (fs: readonly { code: string; severity: string }[]) => [...new Set(fs.filter((f) => f.severity === 'error').map((f) => f.code))].sort();

const v = createValidator({ divisions: shippedDivisions() });

t.test('the published examples validate as documented', async (t) => {
  for (const ex of PUBLISHED_EXAMPLES) {
    const res = v.validateDocument(clone(ex.document));
    t.same(res.findings, [], `${ex.name}: no document-level findings`);
    t.equal(res.records.length, ex.expect.length, `${ex.name}: record count`);
    res.records.forEach((r, i) => {
      t.same(codes(r.findings), [...new Set(ex.expect[i])].sort(), `${ex.name} record ${i}: ${JSON.stringify(r.findings.map((f) => f.message.en))}`);
    });
  }
});

t.test('a valid record is normalised and keyed', async (t) => {
  const rec = clone(exampleCase({ caseName: '  带空格的名称  ' }));
  const r = v.validateRecord(rec);
  t.ok(r.ok);
  t.equal(r.key, '330100-SJ-2026-000123');
  t.equal(r.dataVer, 3);
  t.equal(r.record?.['caseName'], '带空格的名称');
});

t.test('findings name the record, the field, expected and found, in both languages', async (t) => {
  const r = v.validateRecord(clone(exampleCase({ caseType: '7' })), 4);
  t.notOk(r.ok);
  const f = r.findings[0]!;
  t.equal(f.code, 'GOVGATE_FIELD_CODE');
  t.equal(f.path, '/caseType');
  t.equal(f.recordIndex, 4);
  t.equal(f.recordKey, 'case:330100-SJ-2026-000123@3');
  t.match(f.message.zh, /办件类型/);
  t.match(f.message.zh, /"7"/);
  t.match(f.message.en, /Case type/);
  t.match(f.message.en, /1, 2, 3, 4, 9/);
});

t.test('an ID number sent as a JSON number is a type error, not a silent rounding', async (t) => {
  const rec = clone(exampleCase()) as Record<string, any>;
  rec.applicant.contact.idNo = 33010619900101;
  const r = v.validateRecord(rec);
  t.same(codes(r.findings), ['GOVGATE_FIELD_TYPE']);
  t.equal(r.findings[0]!.path, '/applicant/contact/idNo');
});

t.test('a 15-digit resident ID is upgraded with a warning', async (t) => {
  const rec = clone(exampleCase()) as Record<string, any>;
  rec.applicant.contact.idNo = '330106900101123';
  const r = v.validateRecord(rec);
  t.ok(r.ok, JSON.stringify(r.findings));
  t.equal(r.findings[0]?.code, 'GOVGATE_RULE_ID_CARD_LEGACY');
  t.equal(r.findings[0]?.severity, 'warning');
  t.equal((r.record as any).applicant.contact.idNo, '33010619900101123X');
});

t.test('step type and result combinations are enforced', async (t) => {
  const rec = clone(exampleCase()) as Record<string, any>;
  rec.steps[0].result = '1'; // start step may only be 4, 5 or 6
  const r = v.validateRecord(rec);
  t.same(codes(r.findings), ['GOVGATE_RULE_STEP_COMBINATION']);
  t.match(r.findings[0]!.message.en, /allowed are 4, 5, 6/);
});

t.test('lifecycle: completed needs a result, accepted needs acceptance, refusal needs a reason', async (t) => {
  t.same(codes(v.validateRecord(clone(exampleCase({ result: undefined }))).findings), ['GOVGATE_RULE_RESULT_REQUIRED']);
  t.same(codes(v.validateRecord(clone(exampleCase({ status: 'accepted', acceptance: undefined, steps: [], specialProcedures: [], result: undefined }))).findings), ['GOVGATE_RULE_STATUS_INCOMPLETE']);
  const refused = clone(exampleCase({ status: 'rejected', steps: [], specialProcedures: [], result: undefined })) as Record<string, any>;
  refused.acceptance.accepted = false;
  t.same(codes(v.validateRecord(refused).findings), ['GOVGATE_RULE_REASON_REQUIRED']);
  refused.acceptance.rejectReason = '不属于本机关职权范围';
  t.ok(v.validateRecord(refused).ok);
  const negative = clone(exampleCase()) as Record<string, any>;
  negative.result.code = '7';
  t.same(codes(v.validateRecord(negative).findings), ['GOVGATE_RULE_REASON_REQUIRED']);
});

t.test('power item category requirements and dates', async (t) => {
  const penalty = clone(examplePowerItem({ category: '02' }));
  t.same(codes(v.validateRecord(penalty).findings), ['GOVGATE_FIELD_REQUIRED']);
  t.ok(v.validateRecord(clone(examplePowerItem({ category: '02', penalty: { procedure: '立案、调查、告知、决定、送达', kinds: '警告、罚款' } }))).ok);
  t.same(codes(v.validateRecord(clone(examplePowerItem({ effectiveTo: '2025-01-01' }))).findings), ['GOVGATE_RULE_DATE_RANGE']);
  t.same(codes(v.validateRecord(clone(examplePowerItem({ isFee: true }))).findings), ['GOVGATE_RULE_STATUS_INCOMPLETE']);
  const { acceptConditions: _a, ...noConditions } = examplePowerItem();
  t.same(codes(v.validateRecord(clone(noConditions)).findings), ['GOVGATE_FIELD_REQUIRED']);
});

t.test('catalogue: a case must refer to a known power item when the catalogue is known', async (t) => {
  const withCatalogue = createValidator({ catalogue: (code) => code === 'KNOWN-1' });
  t.same(codes(withCatalogue.validateRecord(clone(exampleCase())).findings), ['GOVGATE_RULE_ITEM_UNKNOWN']);
  t.ok(withCatalogue.validateRecord(clone(exampleCase({ itemCode: 'KNOWN-1' }))).ok);
});

t.test('unknown region codes are flagged, as a warning with the shipped subset', async (t) => {
  const r = v.validateRecord(clone(exampleSupervision({ regionCode: '999999' })));
  t.ok(r.ok);
  t.equal(r.findings[0]?.code, 'GOVGATE_RULE_REGION_UNKNOWN');
  t.equal(r.findings[0]?.severity, 'warning');
});

t.test('envelope problems', async (t) => {
  t.equal(v.validateDocument({ ...exampleBatch([]), specVersion: '2' }).findings[0]?.code, 'GOVGATE_SPEC_VERSION_UNSUPPORTED');
  t.equal(v.validateDocument({ ...exampleBatch([clone(exampleCase())]), batchId: undefined }).findings[0]?.code, 'GOVGATE_ENVELOPE_INVALID');
  t.equal(v.validateDocument([1, 2]).findings[0]?.code, 'GOVGATE_ENVELOPE_INVALID');
  const small = createValidator({ maxRecords: 2 });
  t.equal(small.validateDocument(exampleBatch([exampleCase(), exampleCase(), exampleCase()])).findings[0]?.code, 'GOVGATE_TOO_MANY_RECORDS');
  t.equal(v.validateDocument({ recordType: 'nonsense' }).records[0]?.findings[0]?.code, 'GOVGATE_RECORD_TYPE_UNKNOWN');
});

t.test('the same record twice in one batch: the second is rejected', async (t) => {
  const res = v.validateDocument(clone(exampleBatch([exampleCase(), exampleCase()])));
  t.ok(res.records[0]!.ok);
  t.notOk(res.records[1]!.ok);
  t.same(codes(res.records[1]!.findings), ['GOVGATE_RULE_DUPLICATE_KEY_IN_BATCH']);
  t.equal(res.records[1]!.record, undefined);
});

t.test('findings per record are capped', async (t) => {
  const rec: Record<string, unknown> = clone(exampleCase());
  for (let i = 0; i < 200; i++) rec[`junk${i}`] = i;
  const r = createValidator({ maxFindingsPerRecord: 10 }).validateRecord(rec);
  t.equal(r.findings.length, 11);
  t.match(r.findings[10]!.message.en, /190 more findings/);
});

t.test('date-times need an offset and a real calendar day', async (t) => {
  const { isDateTime, isDate } = await import('../src/schemas/validate.js');
  for (const ok of ['2026-03-02T09:15:00+08:00', '2026-03-02T01:15:00Z', '2024-02-29T00:00:00.123+08:00', '2000-02-29T23:59:59-05:00']) t.ok(isDateTime(ok), ok);
  for (const bad of ['2026-03-02T09:15:00', '2026-03-02 09:15:00+08:00', '2026-02-29T09:15:00+08:00', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-03-02t09:15:00z', '2026-13-01T00:00:00Z', '2026-03-02T24:00:00Z']) t.notOk(isDateTime(bad), bad);
  t.ok(isDate('2026-12-31'));
  t.notOk(isDate('2026-11-31'));
  const r = v.validateRecord(clone(exampleCase({ applyTime: '2026-02-30T09:00:00+08:00' })));
  t.same(codes(r.findings), ['GOVGATE_FIELD_PATTERN']);
});

t.test('time order compares instants, whatever offset or precision each stamp is written in', async (t) => {
  const { compareStamps } = await import('../src/schemas/rules/index.js');
  t.equal(Math.sign(compareStamps('2026-03-02T09:15:00+08:00', '2026-03-02T10:00:00+08:00')), -1);
  t.equal(compareStamps('2026-03-02T10:00:00+08:00', '2026-03-02T02:00:00Z'), 0);
  t.equal(Math.sign(compareStamps('2026-03-02T10:00:00+08:00', '2026-03-02T02:00:01Z')), -1);
  t.equal(Math.sign(compareStamps('2026-03-02T10:00:00.5+08:00', '2026-03-02T10:00:00+08:00')), 1);
  t.equal(Math.sign(compareStamps('2026-03-02T01:00:00-05:00', '2026-03-02T10:00:00+08:00')), 1);
  // Accepted at 10:00 Beijing time = 02:00 UTC; applied at 02:30 UTC is later, so this is out of order.
  const rec = clone(exampleCase({ applyTime: '2026-03-02T02:30:00Z' })) as Record<string, any>;
  const r = v.validateRecord(rec);
  t.same(codes(r.findings), ['GOVGATE_RULE_TIME_ORDER']);
});
