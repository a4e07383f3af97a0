/**
 * 督办 (supervision): what the electronic supervision system sends back to a department about one
 * of its cases — a warning, a yellow or red card, and the department's answer (GB/T 39046 表11).
 */
import { code, datetime, int, str, type RecordSpec } from './model.js';
import { caseNo, deptCode, regionCode } from './common.js';

export const SUPERVISION_SPEC: RecordSpec = {
  type: 'supervision',
  zh: '督办',
  en: 'Supervision notice',
  doc: {
    zh: '电子监察系统针对某一办件发出的预警、黄牌、红牌督办及其反馈，经网关回传给责任部门。监察编号加数据版本是督办记录的身份。',
    en: 'A warning, yellow card or red card the supervision system raises on a case, and the department\'s answer, routed back to the responsible department through the gateway. The supervision number plus the data version is its identity.',
  },
  keyField: 'superviseNo',
  dataVerField: 'dataVer',
  deptField: 'deptCode',
  fields: {
    superviseNo: str('监察编号', 'Supervision number', 20, {
      required: true, pattern: '^[0-9A-Za-z-]{1,20}$',
      patternHint: { zh: '字母、数字或连字符，最多 20 位', en: 'letters, digits or hyphens, at most 20' },
      source: 'GB/T 39046 表11', example: 'JC2026030001',
    }),
    dataVer: int('数据版本', 'Data version', 1, 2_147_483_647, { required: true, example: 1 }),
    deptCode: deptCode('责任部门代码', 'Code of the responsible department: the department the notice is routed to'),
    deptName: str('责任部门名称', 'Responsible department', 100, { required: true, example: '杭州市市场监督管理局' }),
    regionCode: regionCode(false),
    caseNo: caseNo('Case number the notice is about'),
    itemCode: str('权力事项编码', 'Power item code', 64, { pattern: '^[0-9A-Za-z-]{1,64}$', patternHint: { zh: '字母、数字或连字符', en: 'letters, digits or hyphens' } }),
    itemCategory: code('事项类型', 'Category of the item', 'itemCategory', { example: '01' }),
    ruleNo: str('监察规则编号', 'Supervision rule number', 20, { required: true, source: 'GB/T 39046 表11', example: 'R-OVERDUE-01' }),
    signal: code('监察预警类型', 'Signal', 'supervisionSignal', { required: true, example: '2' }),
    state: code('督办状态', 'State', 'supervisionState', { required: true, example: '1' }),
    content: str('督办内容', 'What is to be corrected', 1000, { required: true, example: '该办件已超过承诺办结时限 2 个工作日，请说明原因并尽快办结。' }),
    issuerName: str('督办机构名称', 'Issuing organisation', 100, { required: true, example: '杭州市数据资源管理局电子监察中心' }),
    issuedTime: datetime('督办发出时间', 'When it was issued', { required: true, example: '2026-03-18T09:00:00+08:00' }),
    statusTime: datetime('状态产生时间', 'When the current state arose', { required: true, example: '2026-03-18T09:00:00+08:00' }),
    replyDue: datetime('反馈期限', 'Answer due by', { example: '2026-03-25T17:00:00+08:00' }),
    reply: str('部门反馈', 'The department\'s answer', 1000),
    resultDesc: str('监察结果描述', 'Outcome of the supervision', 1000),
  },
};
