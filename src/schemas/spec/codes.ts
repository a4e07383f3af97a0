/**
 * Code tables of spec v1. Each table is versioned: a published table never changes meaning;
 * a change is a new version, and destinations map from the canonical table to whatever version
 * their receiver speaks (real platforms disagree, see research/gov-standards.md §c).
 */

export interface CodeEntry {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  /** A code kept for compatibility with an older or vendor table; accepted, flagged in the docs. */
  readonly origin?: string;
}

export interface CodeTable {
  readonly name: string;
  readonly zh: string;
  readonly en: string;
  readonly version: string;
  readonly source: string;
  readonly entries: readonly CodeEntry[];
  /** Other published versions of the same concept, documented for destination code maps. */
  readonly variants?: readonly { readonly name: string; readonly source: string; readonly entries: readonly CodeEntry[] }[];
}

const e = (code: string, zh: string, en: string, origin?: string): CodeEntry =>
  origin === undefined ? { code, zh, en } : { code, zh, en, origin };

export const CODE_TABLES = {
  itemCategory: {
    name: 'itemCategory', zh: '事项类型', en: 'Power item category', version: '1',
    source: 'GB/T 39046-2020 附录 A.1',
    entries: [
      e('01', '行政许可', 'administrative licence'),
      e('02', '行政处罚', 'administrative penalty'),
      e('03', '行政强制', 'administrative coercion'),
      e('04', '行政征收', 'administrative levy'),
      e('05', '行政给付', 'administrative payment'),
      e('06', '行政检查', 'administrative inspection'),
      e('07', '行政确认', 'administrative confirmation'),
      e('08', '行政奖励', 'administrative reward'),
      e('09', '行政裁决', 'administrative ruling'),
      e('10', '其他行政权力', 'other administrative power'),
      e('20', '公共服务', 'public service'),
    ],
  },
  useLevel: {
    name: 'useLevel', zh: '行使层级', en: 'Level of exercise', version: '1', source: 'GB/T 39046-2020 附录 A.2',
    entries: [
      e('1', '国家级', 'national'), e('2', '省级', 'provincial'), e('3', '市级', 'city'), e('4', '县级', 'county'),
      e('5', '镇（乡、街道）级', 'township'), e('6', '村（社区）级', 'village'), e('7', '分级管理', 'tiered'),
    ],
  },
  deptNature: {
    name: 'deptNature', zh: '实施主体性质', en: 'Nature of the implementing body', version: '1', source: 'GB/T 39046-2020 附录 A.3',
    entries: [
      e('1', '法定机关', 'statutory authority'), e('2', '授权组织', 'authorised organisation'),
      e('3', '受委托组织', 'entrusted organisation'), e('9', '其他', 'other'),
    ],
  },
  serviceObject: {
    name: 'serviceObject', zh: '服务对象（行政相对人类型）', en: 'Service object (kind of counterpart)', version: '1',
    source: 'GB/T 39046-2020 附录 A.4',
    entries: [
      e('1', '自然人', 'natural person'), e('2', '企业法人', 'enterprise legal person'), e('3', '事业法人', 'public institution'),
      e('4', '社会组织法人', 'social organisation'), e('5', '行政机关', 'administrative organ'), e('6', '其他组织', 'other organisation'),
    ],
  },
  channel: {
    name: 'channel', zh: '办理形式 / 申报来源', en: 'Handling form / application channel', version: '1', source: 'GB/T 39046-2020 附录 A.5',
    entries: [
      e('1', '窗口办理', 'at the service window'), e('2', '电脑端网上办理', 'online, desktop'), e('3', '移动端网上申请', 'online, mobile'),
      e('4', '快递申请', 'by post or courier'), e('9', '其他', 'other'),
    ],
  },
  caseType: {
    name: 'caseType', zh: '办件类型', en: 'Case type', version: '1', source: 'GB/T 39046-2020 附录 A.6',
    entries: [
      e('1', '即办件', 'handled on the spot'), e('2', '承诺件', 'handled within a promised time'),
      e('3', '联办件', 'handled jointly', 'EA_JC 前置库'), e('4', '上报件', 'reported upward', 'EA_JC 前置库'),
      e('9', '其他', 'other'),
    ],
  },
  caseStatus: {
    name: 'caseStatus', zh: '办件状态', en: 'Case status', version: '1',
    source: 'govgate spec v1（GB/T 39046 未定义办件状态 / not defined by GB/T 39046）',
    entries: [
      e('submitted', '已申报', 'submitted'), e('accepted', '已受理', 'accepted'), e('processing', '办理中', 'in process'),
      e('suspended', '特别程序（挂起）', 'suspended by a special procedure'), e('correction', '补齐补正', 'awaiting correction'),
      e('completed', '已办结', 'completed'), e('rejected', '不予受理', 'not accepted'), e('withdrawn', '已撤回', 'withdrawn'),
    ],
  },
  certificateType: {
    name: 'certificateType', zh: '证件类型', en: 'Certificate type', version: '1',
    source: 'GA/T 2000.156（经 GB/T 39046 引用）；001/002 为本规范扩展 / 001 and 002 are govgate extensions',
    entries: [
      e('111', '居民身份证', 'resident identity card'), e('112', '临时居民身份证', 'temporary resident identity card'),
      e('113', '户口簿', 'household register'), e('114', '军官证', 'military officer card'), e('115', '武警警官证', 'armed police officer card'),
      e('117', '出生医学证明', 'birth certificate'), e('335', '机动车驾驶证', 'driving licence'), e('411', '外交护照', 'diplomatic passport'),
      e('412', '公务护照', 'service passport'), e('414', '普通护照', 'ordinary passport'),
      e('511', '台湾居民来往大陆通行证', 'Mainland travel permit for Taiwan residents'),
      e('516', '港澳同胞回乡证', 'Home return permit for Hong Kong and Macao residents'),
      e('553', '外国人永久居留身份证', 'foreigner permanent residence ID card'), e('554', '外国人居留证', 'foreigner residence permit'),
      e('990', '其他', 'other'),
      e('001', '统一社会信用代码', 'unified social credit code (GB 32100)', 'govgate extension, as sent by Jining 办件库'),
      e('002', '组织机构代码', 'organization code (GB 11714)', 'govgate extension'),
    ],
  },
  timeUnit: {
    name: 'timeUnit', zh: '时限单位', en: 'Time-limit unit', version: '1', source: 'EA_JC 前置库 PROMISETIMEUNIT',
    entries: [
      e('1', '工作日', 'working days'), e('2', '自然日', 'natural days'), e('3', '小时', 'hours'), e('4', '分钟', 'minutes'), e('5', '月', 'months'),
    ],
  },
  stepType: {
    name: 'stepType', zh: '环节类型', en: 'Step type', version: '1', source: 'EA_JC_STEP_PROC NODETYPE',
    entries: [e('1', '开始', 'start'), e('2', '中间', 'middle'), e('3', '结束', 'end'), e('4', '开始即结束', 'start is end')],
  },
  stepResult: {
    name: 'stepResult', zh: '环节处理结果', en: 'Step result', version: '1', source: 'EA_JC_STEP_PROC NODERESULT',
    entries: [
      e('0', '不同意', 'disagree'), e('1', '同意', 'agree'), e('2', '不受理', 'not accepted'), e('3', '不予受理', 'refused acceptance'),
      e('4', '受理', 'accepted'), e('5', '补齐补正', 'correction requested'), e('6', '特别程序（挂起）', 'special procedure (suspended)'),
      e('7', '退回', 'returned'),
    ],
  },
  stepAction: {
    name: 'stepAction', zh: '业务动作', en: 'Step action', version: '1',
    source: 'GB/T 39046 表7 SPHJDM（1–3）；4–9 为本规范扩展 / 4–9 are govgate extensions',
    entries: [
      e('1', '承办', 'undertake'), e('2', '审核', 'review'), e('3', '批准', 'approve'), e('4', '受理', 'accept'),
      e('5', '办结', 'conclude'), e('6', '送达', 'deliver'), e('9', '其他', 'other'),
    ],
  },
  stepState: {
    name: 'stepState', zh: '环节办理状态', en: 'Step state', version: '1', source: 'GB/T 39046 表7',
    entries: [e('1', '待办', 'pending'), e('2', '已办', 'done')],
  },
  specialProcedureType: {
    name: 'specialProcedureType', zh: '特别程序种类', en: 'Special procedure type', version: '1',
    source: 'GB/T 39046 附录 A.7 与 EA_JC_STEP_SPECIALNODE NODERESULT 合并 / merged from A.7 and SPECIALNODE',
    entries: [
      e('1', '延长审批', 'extension of the time limit'), e('2', '听证', 'hearing'), e('3', '公示', 'public notice'),
      e('4', '检验、检测、检疫、鉴定、实地核查', 'inspection, testing, appraisal or site check'),
      e('5', '补齐补正', 'correction of materials'), e('6', '挂起', 'suspension'), e('9', '其他', 'other'),
    ],
  },
  documentType: {
    name: 'documentType', zh: '文书类型', en: 'Document type', version: '1', source: 'govgate spec v1（依据 seeds/002 §11）',
    entries: [
      e('01', '受理通知书', 'acceptance notice'), e('02', '不予受理通知书', 'notice of non-acceptance'),
      e('03', '补正材料通知书', 'correction notice'), e('04', '决定书', 'decision'),
      e('05', '行政处罚告知书', 'penalty notice'), e('06', '行政处罚决定书', 'penalty decision'),
      e('07', '立案审批表', 'filing approval'), e('08', '证据材料', 'evidence'), e('09', '申请材料', 'application material'),
      e('10', '送达回证', 'proof of service'), e('99', '其他', 'other'),
    ],
  },
  doneResult: {
    name: 'doneResult', zh: '办结结果', en: 'Completion result', version: '1',
    source: 'govgate spec v1，以 EA_JC 前置库 DONERESULT 为基础并补充 7、8 / based on EA_JC DONERESULT plus 7 and 8',
    entries: [
      e('0', '出证办结（准予）', 'completed with a certificate or approval'), e('1', '退回办结', 'completed by return'),
      e('2', '作废办结', 'void'), e('3', '删除办结（录入错误）', 'deleted (entry error)'), e('4', '转报办结', 'forwarded upward'),
      e('5', '补正不来办结', 'closed: correction not supplied'), e('6', '办结（其他）', 'completed (other)'),
      e('7', '不予许可', 'licence refused'), e('8', '不予受理', 'acceptance refused'),
    ],
    variants: [
      {
        name: 'eajc', source: 'EA_JC_STEP_DONE（xxl-job 执行器注释）',
        entries: [e('0', '出证办结', ''), e('1', '退回办结', ''), e('2', '作废办结', ''), e('3', '删除办结', ''), e('4', '转报办结', ''), e('5', '补正不来办结', ''), e('6', '办结', '')],
      },
      {
        name: 'inspur', source: 'com.inspur.workinfo 附录',
        entries: [e('0', '出证办结（含准予许可）', ''), e('1', '不予许可', ''), e('2', '作废', ''), e('3', '删除', ''), e('4', '转报', ''), e('5', '退件', ''), e('6', '不予受理', '')],
      },
      {
        name: 'bi', source: 'Inspur icity business_index',
        entries: [e('0', '出证', ''), e('1', '退回', ''), e('2', '作废', ''), e('3', '删除', ''), e('4', '转报', ''), e('5', '补正超时驳回', ''), e('6', '办结', '')],
      },
    ],
  },
  resultType: {
    name: 'resultType', zh: '结果类型', en: 'Result type', version: '1', source: '济宁办件库 resulttype',
    entries: [e('10', '证照', 'certificate or licence'), e('20', '批文', 'approval document'), e('30', '其他', 'other'), e('99', '无', 'none')],
  },
  chargeKind: {
    name: 'chargeKind', zh: '收费罚没类别', en: 'Kind of charge', version: '1', source: 'govgate spec v1',
    entries: [e('fee', '行政事业性收费', 'administrative fee'), e('fine', '罚款', 'fine'), e('confiscation', '没收违法所得', 'confiscated illegal gains')],
  },
  itemStatus: {
    name: 'itemStatus', zh: '事项状态', en: 'Power item status', version: '1', source: 'up_task_general_basic task_state',
    entries: [e('1', '在用', 'in force'), e('2', '暂停', 'suspended'), e('3', '取消', 'revoked')],
  },
  supervisionSignal: {
    name: 'supervisionSignal', zh: '监察预警类型', en: 'Supervision signal', version: '1',
    source: 'GB/T 39046 表11 监察预警类型代码（标准未给出取值，本规范定义 / values defined by govgate）',
    entries: [e('1', '预警', 'early warning'), e('2', '黄牌', 'yellow card'), e('3', '红牌', 'red card'), e('9', '其他', 'other')],
  },
  digestAlgorithm: {
    name: 'digestAlgorithm', zh: '摘要算法', en: 'Digest algorithm', version: '1', source: 'GB/T 32905 (SM3); FIPS 180-4 (SHA-256)',
    entries: [e('sm3', 'SM3 密码杂凑算法', 'SM3'), e('sha256', 'SHA-256', 'SHA-256')],
  },
  supervisionState: {
    name: 'supervisionState', zh: '督办状态', en: 'Supervision state', version: '1', source: 'govgate spec v1',
    entries: [e('1', '已发出', 'issued'), e('2', '已反馈', 'answered'), e('3', '已办结', 'closed'), e('4', '已撤销', 'withdrawn')],
  },
} as const satisfies Record<string, CodeTable>;

export type CodeTableName = keyof typeof CODE_TABLES;

export function codeTable(name: CodeTableName): CodeTable {
  return CODE_TABLES[name];
}

export function codesOf(name: CodeTableName): string[] {
  return CODE_TABLES[name].entries.map((x) => x.code);
}

/**
 * Case status lifecycle: which status a newer data version may move to from the stored one.
 * submitted → accepted → processing ⇄ suspended/correction → completed | rejected | withdrawn.
 * Terminal states only repeat (a re-report of a completed case stays completed).
 */
export const STATUS_TRANSITIONS: Readonly<Record<string, readonly string[]>> = {
  submitted: ['submitted', 'accepted', 'rejected', 'withdrawn', 'correction'],
  accepted: ['accepted', 'processing', 'suspended', 'correction', 'completed', 'withdrawn'],
  processing: ['processing', 'suspended', 'correction', 'completed', 'withdrawn'],
  suspended: ['suspended', 'processing', 'correction', 'completed', 'withdrawn'],
  correction: ['correction', 'accepted', 'processing', 'suspended', 'completed', 'rejected', 'withdrawn'],
  completed: ['completed'],
  rejected: ['rejected'],
  withdrawn: ['withdrawn'],
};

export function isAllowedTransition(from: string, to: string): boolean {
  return STATUS_TRANSITIONS[from]?.includes(to) ?? false;
}

/**
 * Step type → step results allowed (EA_JC NODETYPE/NODERESULT comments):
 * start → 4, 5, 6; middle → 0, 1, 5, 6, 7; end → 0, 1; start-is-end → 1, 2, 3, 4.
 */
export const STEP_RESULTS_BY_TYPE: Readonly<Record<string, readonly string[]>> = {
  '1': ['4', '5', '6'],
  '2': ['0', '1', '5', '6', '7'],
  '3': ['0', '1'],
  '4': ['1', '2', '3', '4'],
};

/** Step results that are negative opinions and must carry a reason (seeds/002 §11.4). */
export const NEGATIVE_STEP_RESULTS: readonly string[] = ['0', '2', '3', '7'];
/** Completion results that end a case without granting it: a reason is required (EA_JC EXITRES). */
export const NEGATIVE_DONE_RESULTS: readonly string[] = ['1', '2', '3', '4', '5', '7', '8'];
