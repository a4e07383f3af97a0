import t from 'tap';
import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { isGovgateError } from '../src/errors.js';
import { applyMapping, compileMapping, compileMappingYaml, type CompiledMapping } from '../src/pipeline/mapping.js';
import { loadDepartments } from '../src/config/departments.js';
import type { LocatedProblem } from '../src/config/yaml-source.js';
import { createValidator } from '../src/schemas/validate.js';
import { errorOf } from './helpers/errors.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/mapping/${name}`, import.meta.url), 'utf8');

function problemsOf(fn: () => unknown): LocatedProblem[] {
  try {
    fn();
  } catch (err) {
    if (isGovgateError(err)) return (err.details.problems as LocatedProblem[] | undefined) ?? [];
    throw err;
  }
  throw new Error('expected an error');
}


const caseMapping = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}): CompiledMapping =>
  compileMapping({ recordType: 'case', fields, ...extra });

t.test('values, transforms, defaults and constants land on dotted targets', async (t) => {
  const m = caseMapping({
    caseNo: { from: '/PROJID' },
    dataVer: { from: '/DATAVER', transform: ['toInteger'], default: 1 },
    applyTime: { from: '/SBSJ', transform: [{ date: 'yyyyMMddHHmmss', tz: '+08:00' }] },
    'applicant.name': { from: '/APPLYNAME', transform: ['trim', 'fullwidthToHalfwidth'] },
    'applicant.idNo': { from: '/APPLY_CARDNUMBER', transform: ['trim', 'upper', 'idCard15to18'] },
    'acceptance.time': { from: '/SLSJ', transform: [{ date: 'yyyy/MM/dd HH:mm' }] },
    status: { const: 'accepted' },
  });
  const { record, findings, recordType } = applyMapping(m, {
    PROJID: 'P-1', SBSJ: '20260305093000', APPLYNAME: ' 杭州ＡＢＣ有限公司 ', APPLY_CARDNUMBER: '44011320141005001x', SLSJ: '2026/03/05 10:00',
  });
  t.equal(recordType, 'case');
  t.same(record, {
    recordType: 'case',
    caseNo: 'P-1',
    dataVer: 1,
    applyTime: '2026-03-05T09:30:00+08:00',
    applicant: { name: '杭州ABC有限公司', idNo: '44011320141005001X' },
    acceptance: { time: '2026-03-05T10:00:00+08:00' },
    status: 'accepted',
  });
  t.same(findings, []);
  t.same(Object.keys(record), ['recordType', 'caseNo', 'dataVer', 'applyTime', 'applicant', 'acceptance', 'status'], 'mapping order is kept');
});

t.test('an absent source field leaves the target absent, never an empty string', async (t) => {
  const m = caseMapping({
    caseNo: '/PROJID',
    'applicant.postcode': { from: '/POSTCODE', transform: ['trim'] },
    'applicant.address': { from: '/ADDRESS' },
    remark: { from: '/REMARK', transform: ['trim'] },
    'acceptance.rejectReason': { from: '/BSLYY' },
  });
  const { record, findings } = applyMapping(m, { PROJID: 'P-1', POSTCODE: '', ADDRESS: null, REMARK: '   ' });
  t.same(record, { recordType: 'case', caseNo: 'P-1' });
  t.notOk('applicant' in record, 'no empty parent objects either');
  t.same(findings, []);

  const keepEmpty = caseMapping({ 'applicant.postcode': { from: '/POSTCODE' } }, { emptyAsAbsent: false });
  t.same(applyMapping(keepEmpty, { POSTCODE: '' }).record, { recordType: 'case', applicant: { postcode: '' } }, 'emptyAsAbsent: false keeps empty text');
});

t.test('defaults apply when the source is absent or transforms leave nothing', async (t) => {
  const m = caseMapping({ dataVer: { from: '/DATAVER', transform: ['toInteger'], default: 1 }, regionCode: { from: '/REGION', transform: ['trim'], default: '330100' } });
  t.same(applyMapping(m, {}).record, { recordType: 'case', dataVer: 1, regionCode: '330100' });
  t.same(applyMapping(m, { DATAVER: '3', REGION: '  ' }).record, { recordType: 'case', dataVer: 3, regionCode: '330100' });
});

t.test('from may list alternatives: the first present wins', async (t) => {
  const m = caseMapping({ 'acceptance.time': { from: ['/SLSJ', '/ACCEPTTIME', '/YWSLSJ'], transform: [{ date: ['yyyy-MM-dd HH:mm:ss', 'yyyyMMddHHmmss'] }] } });
  t.same(applyMapping(m, { ACCEPTTIME: '20260305100000', YWSLSJ: '2026-01-01 00:00:00' }).record, { recordType: 'case', acceptance: { time: '2026-03-05T10:00:00+08:00' } });
  t.same(applyMapping(m, { SLSJ: '', YWSLSJ: '2026-01-01 00:00:00' }).record, { recordType: 'case', acceptance: { time: '2026-01-01T00:00:00+08:00' } });
});

t.test('nested sources and each-built arrays', async (t) => {
  const m = caseMapping({
    'result.code': { from: '/DONE/DONERESULT' },
    steps: {
      each: '/STEPS/STEP',
      fields: {
        seq: { from: '/SN', transform: ['toInteger'] },
        name: { from: '/NODENAME' },
        'timeLimit.value': { from: '/TIMELIMIT', transform: ['toInteger'] },
      },
    },
  });
  const src = {
    DONE: { DONERESULT: '0' },
    STEPS: { STEP: [{ SN: '1', NODENAME: '受理', TIMELIMIT: '1' }, { SN: '2', NODENAME: '审核' }] },
  };
  t.same(applyMapping(m, src).record, {
    recordType: 'case',
    result: { code: '0' },
    steps: [{ seq: 1, name: '受理', timeLimit: { value: 1 } }, { seq: 2, name: '审核' }],
  });
});

t.test('a single XML element where a list is expected is a list of one', async (t) => {
  const m = caseMapping({
    steps: { each: '/STEPS/STEP', fields: { seq: { from: '/SN', transform: ['toInteger'] }, name: '/NODENAME' } },
    'applicant.name': '/APPLICANTS/APPLICANT/0/NAME',
  });
  const single = { STEPS: { STEP: { SN: '1', NODENAME: '受理' } }, APPLICANTS: { APPLICANT: { NAME: '张三' } } };
  t.same(applyMapping(m, single).record, { recordType: 'case', steps: [{ seq: 1, name: '受理' }], applicant: { name: '张三' } });
  const many = { STEPS: { STEP: [{ SN: '1', NODENAME: '受理' }] }, APPLICANTS: { APPLICANT: [{ NAME: '张三' }, { NAME: '李四' }] } };
  t.same(applyMapping(m, many).record, { recordType: 'case', steps: [{ seq: 1, name: '受理' }], applicant: { name: '张三' } });
  const empty = { STEPS: '', APPLICANTS: { APPLICANT: { NAME: '' } } };
  t.same(applyMapping(m, empty).record, { recordType: 'case' }, '<STEPS/> is no steps');
  const blankEntry = { STEPS: { STEP: [{ SN: '1', NODENAME: '受理' }, ''] } };
  t.same(applyMapping(m, blankEntry).record, { recordType: 'case', steps: [{ seq: 1, name: '受理' }] }, 'an empty <STEP/> is skipped');
});

t.test('a path through a list of several entries without an index is a failure, not a guess', async (t) => {
  const m = caseMapping({ 'applicant.name': '/APPLICANTS/APPLICANT/NAME', 'applicant.address': { from: '/APPLICANTS/APPLICANT/ADDR', transform: ['trim'] } });
  const { record, findings } = applyMapping(m, { APPLICANTS: { APPLICANT: [{ NAME: '张三', ADDR: 'a' }, { NAME: '李四', ADDR: 'b' }] } });
  t.same(record, { recordType: 'case' });
  t.same(findings.map((f) => [f.code, f.path]), [['GOVGATE_MAPPING_FAILED', '/applicant/name'], ['GOVGATE_MAPPING_FAILED', '/applicant/address']]);
  t.match(findings[0]?.message.en, /crosses a list of 2 entries/);
});

t.test('scalar lists: each without fields', async (t) => {
  const m = compileMapping({
    recordType: 'powerItem',
    fields: { serviceObjects: { each: '/SERVER_TYPE/TYPE', transform: ['trim'], codes: 'serviceObject' } },
    codes: { serviceObject: { '个人': '1', '法人': '2' } },
  });
  t.same(applyMapping(m, { SERVER_TYPE: { TYPE: [' 个人', '法人 '] } }).record, { recordType: 'powerItem', serviceObjects: ['1', '2'] });
  t.same(applyMapping(m, { SERVER_TYPE: { TYPE: '法人' } }).record, { recordType: 'powerItem', serviceObjects: ['2'] });
  const miss = applyMapping(m, { SERVER_TYPE: { TYPE: ['个人', '社会组织'] } });
  t.same(miss.record, { recordType: 'powerItem', serviceObjects: ['1'] });
  t.same(miss.findings.map((f) => [f.code, f.path, f.found]), [['GOVGATE_MAPPING_FAILED', '/serviceObjects/1', '社会组织']]);
});

t.test('codes: a hit maps, a miss is a finding naming the table and the value', async (t) => {
  const m = caseMapping(
    { 'applicant.idType': { from: '/APPLY_CARDTYPE', transform: ['trim', 'upper'], codes: 'certificateType' }, 'acceptance.accepted': { from: '/SLZTDM', codes: 'accepted' } },
    { codes: { certificateType: { '1': '111', '01': '111', SFZ: '111', '9': '990' }, accepted: { '1': true, '2': false } } },
  );
  for (const [local, std] of [['1', '111'], ['01', '111'], [' sfz ', '111'], ['9', '990']] as const) {
    t.same(applyMapping(m, { APPLY_CARDTYPE: local }).record, { recordType: 'case', applicant: { idType: std } }, local);
  }
  t.same(applyMapping(m, { APPLY_CARDTYPE: 1 }).record, { recordType: 'case', applicant: { idType: '111' } }, 'a JSON number looks up by its text');
  t.same(applyMapping(m, { SLZTDM: '2' }).record, { recordType: 'case', acceptance: { accepted: false } }, 'codes may map to booleans');

  const { record, findings } = applyMapping(m, { APPLY_CARDTYPE: '7' });
  t.same(record, { recordType: 'case' }, 'an unknown code is never passed through');
  t.equal(findings.length, 1);
  const f = findings[0];
  t.equal(f?.code, 'GOVGATE_MAPPING_FAILED');
  t.equal(f?.severity, 'error');
  t.equal(f?.path, '/applicant/idType');
  t.equal(f?.found, '7');
  t.match(f?.message.zh, /certificateType/);
  t.match(f?.message.zh, /源字段 \/APPLY_CARDTYPE/);
  t.match(f?.message.en, /the code "7" is not in the mapping code table certificateType/);
  t.notMatch(f?.message.en, /[\u4e00-\u9fff]/, 'the English message is English');
});

t.test('a failing transform omits the field and reports where', async (t) => {
  const m = caseMapping({
    dataVer: { from: '/DATAVER', transform: ['toInteger'] },
    applyTime: { from: '/SBSJ', transform: [{ date: 'yyyyMMdd' }] },
    steps: { each: '/STEPS/STEP', fields: { seq: { from: '/SN', transform: ['toInteger'] }, name: '/NODENAME' } },
  });
  const { record, findings } = applyMapping(m, { DATAVER: 'v2', SBSJ: '20260230', STEPS: { STEP: [{ SN: '1', NODENAME: 'a' }, { SN: 'x', NODENAME: 'b' }] } });
  t.same(record, { recordType: 'case', steps: [{ seq: 1, name: 'a' }, { name: 'b' }] });
  t.same(findings.map((f) => [f.path, f.found]), [['/dataVer', 'v2'], ['/applyTime', '20260230'], ['/steps/1/seq', 'x']]);
  t.match(findings[1]?.message.zh, /20260230 不是真实的日历日期/);
  t.equal(findings[1]?.expected, 'yyyyMMdd');
});

t.test('a 15-digit ID upgraded by the mapping leaves a warning', async (t) => {
  const m = caseMapping({ 'applicant.idNo': { from: '/ID', transform: ['trim', 'idCard15to18'] } });
  const { record, findings } = applyMapping(m, { ID: '360426910101007' });
  t.same(record, { recordType: 'case', applicant: { idNo: '360426199101010071' } });
  t.same(findings.map((f) => [f.severity, f.code, f.path, f.found]), [['warning', 'GOVGATE_RULE_ID_CARD_LEGACY', '/applicant/idNo', '360426199101010071']]);
});

t.test('recordTypeFrom picks the record type per record', async (t) => {
  const m = compileMapping({
    recordTypeFrom: { from: '/TYPE', values: { BJ: 'case', SX: 'powerItem' } },
    fields: { itemName: '/NAME' },
  });
  t.same(m.recordTypes, ['case', 'powerItem']);
  t.same(applyMapping(m, { TYPE: 'SX', NAME: 'x' }), { record: { recordType: 'powerItem', itemName: 'x' }, findings: [], recordType: 'powerItem' });
  const bad = applyMapping(m, { TYPE: 'JC', NAME: 'x' });
  t.equal(bad.recordType, undefined);
  t.same(bad.findings.map((f) => [f.path, f.found]), [['/recordType', 'JC']]);
});

t.test('a source that is not an object is one finding, not a crash', async (t) => {
  const m = caseMapping({ caseNo: '/PROJID' });
  for (const bad of [null, 'PROJID', 42, [{ PROJID: 'x' }]]) {
    const { record, findings } = applyMapping(m, bad);
    t.same(record, {}, JSON.stringify(bad));
    t.same(findings.map((f) => [f.code, f.path]), [['GOVGATE_MAPPING_FAILED', '']]);
    t.match(findings[0]?.message.en, /^mapping the field \/ failed: a record must be an object/);
  }
});

t.test('constants and defaults are copied, not shared between records', async (t) => {
  const m = caseMapping({ legalLimit: { const: { value: 20, unit: '1' } }, promiseLimit: { from: '/X', default: { value: 5, unit: '1' } } });
  const a = applyMapping(m, {}).record;
  (a.legalLimit as Record<string, unknown>).value = 99;
  (a.promiseLimit as Record<string, unknown>).value = 99;
  t.same(applyMapping(m, {}).record, { recordType: 'case', legalLimit: { value: 20, unit: '1' }, promiseLimit: { value: 5, unit: '1' } });
});

t.test('source pointers are read safely', async (t) => {
  const m = caseMapping({ caseNo: '/__proto__', remark: '/a~1b', 'applicant.name': '/constructor/name', itemName: '/toString' });
  const { record } = applyMapping(m, { 'a/b': 'slash' });
  t.same(record, { recordType: 'case', remark: 'slash' }, 'inherited properties are not fields');
});

t.test('compile errors carry file, line and column', async (t) => {
  const err = errorOf(() => compileMappingYaml(fixture('bad-mapping.yaml'), 'bad-mapping.yaml'));
  t.equal(err.code, 'GOVGATE_MAPPING_INVALID');
  const problems = err.details.problems as LocatedProblem[];
  const at = (line: number): LocatedProblem[] => problems.filter((p) => p.line === line);
  t.match(at(10)[0], { file: 'bad-mapping.yaml', path: 'fields.caseNo.from', en: /not a valid JSON Pointer/ }, 'pointer without a slash');
  t.match(at(11)[0], { path: 'fields.dataVer.transform[0]', en: /unknown transform "toInt"; did you mean toInteger\?/ });
  t.match(at(12)[0], { path: 'fields.applyTime.transform[0].date', en: /unsupported letters hh/ }, 'hh is not a pattern letter');
  t.match(at(13)[0], { path: 'fields["applicant.idType"].codes', en: /code table "certType" is not defined/ });
  t.match(at(14)[0], { path: 'fields["applicant.nmae"]', en: /no field applicant\.nmae; did you mean applicant\.name\?/ });
  t.match(at(17)[0], { en: /unknown key "transfrom" in a field rule; did you mean "transform"\?/ });
  t.match(at(19)[0], { path: 'codes.states["1"]', en: /not quoted/ }, 'an unquoted numeric key');
  t.match(at(22)[0], { path: 'codes.idTypes["2"]', en: /"11" is not a code of the standard table certificateType/ });
  t.match(at(23)[0], { path: 'codes.idTypes["3"]', en: /must be quoted text/ });
  t.equal(problems.length, 9, 'and nothing else');
  t.ok(problems.every((p) => typeof p.column === 'number' && p.column > 0), 'every problem has a column');
  t.match(err.messages.zh, /映射配置错误：bad-mapping\.yaml 第 10 行/);
});

t.test('shape errors in mappings', async (t) => {
  const cases: [unknown, RegExp][] = [
    [[], /must be a mapping/],
    [{ recordType: 'case' }, /fields must be a non-empty mapping/],
    [{ recordType: 'cases', fields: { caseNo: '/A' } }, /record type must be one of case, powerItem, supervision/],
    [{ recordType: 'case', recordTypeFrom: { from: '/T', values: { a: 'case' } }, fields: { caseNo: '/A' } }, /either recordType or recordTypeFrom/],
    [{ recordType: 'case', fields: { caseNo: {} } }, /needs one of from/],
    [{ recordType: 'case', fields: { caseNo: { const: 'x', from: '/A' } } }, /unknown key "from" in a const rule/],
    [{ recordType: 'case', fields: { caseNo: '/A', 'caseNo.x': '/B' } }, /conflicts with caseNo/],
    [{ recordType: 'case', fields: { 'applicant..name': '/A' } }, /target "applicant..name" is invalid/],
    [{ recordType: 'case', fields: { __proto__x: '/A', 'a.__proto__': '/B' } }, /invalid/],
    [{ recordType: 'case', fields: { caseNo: { each: '/A' } } }, /each builds a list, but the standard field caseNo is not a list/],
    [{ recordType: 'case', fields: { steps: { each: '/S', transform: ['trim'], fields: { seq: '/SN' } } } }, /put transform and codes on the sub-fields/],
    [{ recordType: 'case', fields: { applyTime: { from: '/A', transform: [{ date: 'yyyyMMdd', zone: '+08:00' }] } } }, /has no option zone/],
    [{ recordType: 'case', fields: { applyTime: { from: '/A', transform: [{ date: 'yyyyMMdd', tz: 'Asia/Shanghai' }] } } }, /tz must be Z or an offset/],
    [{ recordType: 'case', fields: { caseNo: { from: '/A', codes: 'x' } }, codes: { x: {} } }, /non-empty mapping/],
    [{ recordType: 'case', fields: { caseNo: '/A' }, emptyAsAbsent: 'yes' }, /emptyAsAbsent must be true or false/],
    [{ recordType: 'case', fields: { caseNo: '/A' }, extra: 1 }, /unknown key "extra" in the mapping/],
    [{ recordTypeFrom: { from: '/T', values: { a: 'file' } }, fields: { caseNo: '/A' } }, /record type must be one of/],
    [{ recordType: 'case', fields: { caseNo: '/A~2' } }, /not a valid JSON Pointer/],
  ];
  for (const [raw, re] of cases) {
    const problems = problemsOf(() => compileMapping(raw));
    t.ok(problems.some((p) => re.test(p.en)), `${JSON.stringify(raw)} → ${re}`);
  }
});

t.test('the demo department maps a whole EA_JC case, which then passes validation', async (t) => {
  const [scjg] = loadDepartments(new URL('../config/departments', import.meta.url).pathname, {});
  t.equal(scjg?.code, '11330100002489671K');
  const mapping = scjg?.mapping;
  if (mapping === undefined) throw new Error('the demo department has a mapping');
  const source = JSON.parse(fixture('eajc-case.json')) as unknown;
  const { record, findings } = applyMapping(mapping, source);
  t.same(findings, []);
  t.same(record, {
    recordType: 'case',
    caseNo: '330100-SJ-2026-000123',
    dataVer: 1,
    deptCode: '11330100002489671K',
    deptName: '杭州市市场监督管理局',
    regionCode: '330102',
    sourceBizNo: 'SCJG20260302001',
    itemCode: '11330100002489671K3000111817000',
    itemName: '食品经营许可',
    caseName: '关于杭州某某餐饮有限公司食品经营许可的申请',
    caseType: '2',
    channel: '2',
    status: 'completed',
    applyTime: '2026-03-02T09:15:00+08:00',
    applicant: {
      kind: '2',
      name: '杭州某某餐饮有限公司',
      idType: '001',
      idNo: '913301067041829J10',
      legalRep: '李四',
      contact: { name: '王五', mobile: '13800000000' },
      address: '浙江省杭州市上城区解放路 1 号',
      postcode: '310002',
    },
    legalLimit: { value: 20, unit: '1' },
    promiseLimit: { value: 10, unit: '1' },
    acceptance: { time: '2026-03-02T10:00:00+08:00', acceptor: '赵六', orgName: '杭州市市场监督管理局', orgCode: '11330100002489671K', accepted: true },
    steps: [
      { seq: 1, name: '受理', stepType: '1', action: '4', result: '4', state: '2', handlerName: '赵六', handlerId: 'zhaoliu', orgName: '杭州市市场监督管理局', opinion: '材料齐全，予以受理。', startTime: '2026-03-02T10:00:00+08:00', endTime: '2026-03-02T10:20:00+08:00' },
      { seq: 2, name: '审核', stepType: '2', action: '2', result: '1', state: '2', handlerName: '钱八', handlerId: 'qianba', orgName: '杭州市市场监督管理局', opinion: '现场核查符合要求。', startTime: '2026-03-03T09:00:00+08:00', endTime: '2026-03-06T16:00:00+08:00' },
      { seq: 3, name: '批准', stepType: '3', action: '3', result: '1', state: '2', handlerName: '孙七', handlerId: 'sunqi', orgName: '杭州市市场监督管理局', opinion: '同意。', startTime: '2026-03-09T09:00:00+08:00', endTime: '2026-03-10T16:00:00+08:00' },
    ],
    result: {
      code: '0', text: '准予许可，核发食品经营许可证。', time: '2026-03-10T16:30:00+08:00', doneBy: '孙七',
      certName: '食品经营许可证', certNo: 'JY13301020012345', certValidTo: '2031-03-09', certIssuer: '杭州市市场监督管理局',
    },
  });
  const validated = createValidator().validateRecord(record, 0, 'case');
  t.same(validated.findings.filter((f) => f.severity === 'error'), [], 'the mapped record is a valid standard case');
});

t.test('the same mapping reads the XML form, where leaves are text and one step is not a list', async (t) => {
  const [scjg] = loadDepartments(new URL('../config/departments', import.meta.url).pathname, {});
  const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: true, trimValues: false });
  const doc = parser.parse(fixture('eajc-case.xml')) as { APASINFO: unknown };
  if (scjg?.mapping === undefined) throw new Error('mapping expected');
  const { record, findings } = applyMapping(scjg.mapping, doc.APASINFO);
  t.same(findings.map((f) => [f.severity, f.code, f.path]), [['warning', 'GOVGATE_RULE_ID_CARD_LEGACY', '/applicant/idNo']]);
  t.match(record, {
    caseNo: '330100-SJ-2026-000124',
    dataVer: 2,
    deptName: '杭州市市场监督管理局',
    caseType: '1',
    channel: '1',
    status: 'accepted',
    applyTime: '2026-03-05T09:30:00+08:00',
    applicant: { kind: '1', name: '张三', idType: '111', idNo: '360426199101010071' },
    steps: [{ seq: 1, name: '受理', state: '2', startTime: '2026-03-05T10:00:00+08:00' }],
  });
  t.notOk('postcode' in (record.applicant as object), '<POSTCODE/> maps to nothing');
  t.notOk('result' in record);
});

t.test('applying a compiled mapping is cheap per record', async (t) => {
  const [scjg] = loadDepartments(new URL('../config/departments', import.meta.url).pathname, {});
  const source = JSON.parse(fixture('eajc-case.json')) as unknown;
  if (scjg?.mapping === undefined) throw new Error('mapping expected');
  const n = 5000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) applyMapping(scjg.mapping, source);
  const perRecordUs = Number(process.hrtime.bigint() - start) / 1000 / n;
  t.comment(`${perRecordUs.toFixed(1)} µs per EA_JC case`);
  // Generous bound: catches accidental per-call compilation (which costs milliseconds), not jitter.
  t.ok(perRecordUs < 500, `${perRecordUs.toFixed(1)} µs per record`);
});
