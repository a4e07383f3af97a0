/**
 * Example payloads published in docs/spec/examples/ in JSON, XML (UTF-8) and XML (GBK). The test
 * suite validates every published file: valid ones must pass, invalid ones must fail with exactly
 * the codes listed here, so the docs can never show an example that govgate disagrees with.
 */
import type { ErrorCode } from '../../errors.js';

type Obj = Record<string, unknown>;

export const DEMO_DEPT = { code: '11330100002489671K', name: '杭州市市场监督管理局' } as const;
export const DEMO_DEPT_2 = { code: '11330100002490146A', name: '杭州市规划和自然资源局' } as const;

export function exampleCase(overrides: Obj = {}): Obj {
  return {
    recordType: 'case',
    caseNo: '330100-SJ-2026-000123',
    dataVer: 3,
    deptCode: DEMO_DEPT.code,
    deptName: DEMO_DEPT.name,
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
      contact: { name: '王五', idType: '111', idNo: '33010619900101123X', mobile: '13800000000' },
      address: '浙江省杭州市上城区解放路 1 号',
      postcode: '310002',
    },
    legalLimit: { value: 20, unit: '1' },
    promiseLimit: { value: 10, unit: '1' },
    promiseDueTime: '2026-03-16T17:00:00+08:00',
    acceptance: {
      time: '2026-03-02T10:00:00+08:00',
      acceptor: '赵六',
      orgName: DEMO_DEPT.name,
      orgCode: DEMO_DEPT.code,
      place: '杭州市民中心 B 座 2 楼 12 号窗口',
      docNo: '杭市监受〔2026〕123 号',
      accepted: true,
    },
    steps: [
      {
        seq: 1, name: '受理', stepType: '1', action: '4', result: '4', state: '2', post: '窗口受理岗', handlerName: '赵六',
        orgName: DEMO_DEPT.name, orgCode: DEMO_DEPT.code, opinion: '材料齐全，予以受理。',
        startTime: '2026-03-02T10:00:00+08:00', endTime: '2026-03-02T10:20:00+08:00',
      },
      {
        seq: 2, name: '审核', stepType: '2', action: '2', result: '1', state: '2', post: '审核岗', handlerName: '钱八',
        opinion: '现场核查符合要求。', startTime: '2026-03-03T09:00:00+08:00', endTime: '2026-03-06T16:00:00+08:00',
        timeLimit: { value: 5, unit: '1' },
      },
      {
        seq: 3, name: '批准', stepType: '3', action: '3', result: '1', state: '2', post: '分管领导', handlerName: '孙七',
        opinion: '同意。', startTime: '2026-03-09T09:00:00+08:00', endTime: '2026-03-10T16:00:00+08:00',
      },
    ],
    specialProcedures: [
      {
        seq: 1, type: '4', name: '现场核查', startTime: '2026-03-04T09:00:00+08:00', endTime: '2026-03-04T11:30:00+08:00',
        reason: '《食品经营许可和备案管理办法》第十九条', result: '经营场所符合要求', handlerName: '钱八',
      },
    ],
    documents: [
      { type: '01', name: '受理通知书', docNo: '杭市监受〔2026〕123 号', date: '2026-03-02', digestAlg: 'sm3', digest: '66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0' },
      { type: '04', name: '准予行政许可决定书', docNo: '杭市监许〔2026〕456 号', date: '2026-03-10' },
    ],
    charges: [{ kind: 'fee', amount: 0, basis: '食品经营许可不收费' }],
    result: {
      code: '0', text: '准予许可，核发食品经营许可证。', time: '2026-03-10T16:30:00+08:00', doneBy: '孙七', resultType: '10',
      certName: '食品经营许可证', certNo: 'JY13301020012345', certValidTo: '2031-03-09', certIssuer: DEMO_DEPT.name,
      decisionNo: '杭市监许〔2026〕456 号',
    },
    ...overrides,
  };
}

export function examplePowerItem(overrides: Obj = {}): Obj {
  return {
    recordType: 'powerItem',
    itemCode: '11330100002489671K3000111817000',
    version: 3,
    catalogCode: '000111817000',
    itemName: '食品经营许可',
    category: '01',
    status: '1',
    effectiveFrom: '2026-01-01',
    adjustReason: '依据《食品经营许可和备案管理办法》调整受理条件与承诺时限',
    deptCode: DEMO_DEPT.code,
    deptName: DEMO_DEPT.name,
    deptNature: '1',
    useLevel: '3',
    regionCode: '330100',
    legalBasis: '《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》',
    serviceObjects: ['1', '2'],
    handleForms: ['1', '2'],
    acceptConditions: '申请人应当具有与经营的食品品种、数量相适应的经营场所和设备设施。',
    isFee: false,
    legalLimit: { value: 20, unit: '1' },
    promiseLimit: { value: 10, unit: '1' },
    handlingOrg: { name: '行政审批处' },
    handlingStaff: [{ name: '赵六', post: '窗口受理岗', phone: '0571-85252525' }],
    handleAddress: '杭州市民中心 B 座 2 楼',
    handleHours: '工作日 9:00–12:00，13:30–17:00',
    consultPhone: '0571-85252525',
    supervisePhone: '0571-12345',
    onlineUrl: 'https://www.zjzwfw.gov.cn/',
    flowchart: [
      { seq: 1, name: '受理', post: '窗口受理岗', responsibility: '审查申请材料是否齐全、符合法定形式', timeLimit: { value: 1, unit: '1' } },
      { seq: 2, name: '审核', post: '审核岗', responsibility: '审查材料实质内容，必要时现场核查', timeLimit: { value: 5, unit: '1' } },
      { seq: 3, name: '决定', post: '分管领导', responsibility: '作出准予或不予许可的决定', timeLimit: { value: 2, unit: '1' } },
      { seq: 4, name: '送达', post: '窗口发证岗', responsibility: '制证并送达', timeLimit: { value: 2, unit: '1' } },
    ],
    guide: 'https://www.zjzwfw.gov.cn/guide/000111817000',
    forms: [{ name: '食品经营许可申请书', url: 'https://www.zjzwfw.gov.cn/forms/spjyxk.docx' }],
    materials: [
      { name: '食品经营许可申请书', originals: 1, copies: 0, mandatory: true },
      { name: '营业执照复印件', issuer: '市场监督管理部门', originals: 0, copies: 1, mandatory: true },
    ],
    faq: [{ question: '食品经营许可证有效期多长？', answer: '有效期为 5 年。' }],
    ...overrides,
  };
}

export function exampleSupervision(overrides: Obj = {}): Obj {
  return {
    recordType: 'supervision',
    superviseNo: 'JC2026030001',
    dataVer: 1,
    deptCode: DEMO_DEPT.code,
    deptName: DEMO_DEPT.name,
    regionCode: '330100',
    caseNo: '330100-SJ-2026-000120',
    itemCode: '11330100002489671K3000111817000',
    itemCategory: '01',
    ruleNo: 'R-OVERDUE-01',
    signal: '2',
    state: '1',
    content: '该办件已超过承诺办结时限 2 个工作日，请说明原因并尽快办结。',
    issuerName: '杭州市数据资源管理局电子监察中心',
    issuedTime: '2026-03-18T09:00:00+08:00',
    statusTime: '2026-03-18T09:00:00+08:00',
    replyDue: '2026-03-25T17:00:00+08:00',
    ...overrides,
  };
}

export function exampleBatch(records: Obj[]): Obj {
  return { specVersion: '1', batchId: 'B20260310-0001', senderDept: DEMO_DEPT.code, sentAt: '2026-03-10T17:00:00+08:00', records };
}

export interface PublishedExample {
  /** File name without extension; `.json`, `.xml` and `-gbk.xml` are written. */
  readonly name: string;
  readonly title: { readonly zh: string; readonly en: string };
  readonly document: Obj;
  /** Codes expected, record by record (one array per record); empty arrays for a valid example. */
  readonly expect: readonly (readonly ErrorCode[])[];
}

const badIdCase = exampleCase({
  caseNo: '330100-SJ-2026-000124',
  applicant: { ...(exampleCase()['applicant'] as Obj), idType: '001', idNo: '913301067041829J11' },
});

const badTimesCase = exampleCase({
  caseNo: '330100-SJ-2026-000125',
  acceptance: { ...(exampleCase()['acceptance'] as Obj), time: '2026-03-01T10:00:00+08:00' },
  result: undefined,
});

const badShapeCase = exampleCase({
  caseNo: '330100-SJ-2026-000126',
  caseType: '7',
  applyTime: '2026/03/02 09:15',
  steps: [
    {
      seq: 1, name: '审核', stepType: '3', action: '2', result: '7', handlerName: '钱八',
      startTime: '2026-03-03T09:00:00+08:00', endTime: '2026-03-03T10:00:00+08:00',
    },
  ],
  charges: [{ kind: 'fine', amount: 100.123 }],
  fax: '0571-1234567',
});

export const PUBLISHED_EXAMPLES: readonly PublishedExample[] = [
  { name: 'case-valid', title: { zh: '有效的办件（已办结的食品经营许可）', en: 'A valid case (a completed food-business licence)' }, document: exampleCase(), expect: [[]] },
  { name: 'power-item-valid', title: { zh: '有效的权力事项（行政许可）', en: 'A valid power item (licence)' }, document: examplePowerItem(), expect: [[]] },
  { name: 'supervision-valid', title: { zh: '有效的督办记录（黄牌）', en: 'A valid supervision notice (yellow card)' }, document: exampleSupervision(), expect: [[]] },
  {
    name: 'batch-valid',
    title: { zh: '有效的批次：办件、权力事项、督办各一条', en: 'A valid batch: one case, one power item, one supervision notice' },
    document: exampleBatch([exampleCase(), examplePowerItem(), exampleSupervision()]),
    expect: [[], [], []],
  },
  {
    name: 'batch-invalid',
    title: { zh: '含错误记录的批次：第 1 条有效，其余各有错误', en: 'A batch with bad records: the first is valid, the others are not' },
    document: exampleBatch([exampleCase(), badIdCase, badTimesCase, badShapeCase]),
    expect: [
      [],
      ['GOVGATE_RULE_USCC_INVALID'],
      ['GOVGATE_RULE_TIME_ORDER', 'GOVGATE_RULE_RESULT_REQUIRED'],
      ['GOVGATE_FIELD_UNKNOWN', 'GOVGATE_FIELD_CODE', 'GOVGATE_FIELD_PATTERN'],
    ],
  },
  {
    name: 'case-invalid-rules',
    title: { zh: '形式正确但违反业务规则的办件', en: 'A well-formed case that breaks the rules' },
    document: exampleCase({
      caseNo: '330100-SJ-2026-000127',
      steps: [
        {
          seq: 1, name: '受理', stepType: '4', action: '4', result: '3', handlerName: '赵六',
          startTime: '2026-03-02T10:00:00+08:00', endTime: '2026-03-02T09:00:00+08:00',
        },
      ],
      charges: [{ kind: 'fine', amount: 100.123 }],
    }),
    expect: [['GOVGATE_RULE_REASON_REQUIRED', 'GOVGATE_RULE_TIME_ORDER', 'GOVGATE_RULE_AMOUNT']],
  },
];
