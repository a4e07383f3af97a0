/**
 * 权力事项 (power item): the catalogue entry every case refers to, with the public fields seeds/000
 * §4.2 lists per category (licence, penalty, levy, coercion) and the fee, agency and staff fields of
 * seeds/004 §3.5. Catalogue changes are dated: each change is a new version with its effective dates
 * and adjustment reason (seeds/000 §4.1).
 */
import { bool, code, date, int, list, obj, str, type RecordSpec } from './model.js';
import { deptCode, orgUscc, phone, regionCode, timeLimit } from './common.js';

const longText = (zh: string, en: string, extra: Parameters<typeof str>[3] = {}) => str(zh, en, 4000, extra);

export const POWER_ITEM_SPEC: RecordSpec = {
  type: 'powerItem',
  zh: '权力事项',
  en: 'Power item',
  doc: {
    zh: '行政权力事项或公共服务事项的目录信息。实施编码加版本号是事项的身份；目录调整形成新版本，载明生效日期与调整原因。不同类别有各自必须公开的字段（见“按类别必填”）。',
    en: 'A catalogue entry for an administrative power or public service. The implementation code plus the version is the item\'s identity; each catalogue change is a new version with its effective dates and the reason. Each category has its own mandatory public fields (see "required by category").',
  },
  keyField: 'itemCode',
  dataVerField: 'version',
  deptField: 'deptCode',
  fields: {
    itemCode: str('实施编码', 'Implementation code of the item', 64, {
      required: true,
      pattern: '^[0-9A-Za-z-]{1,64}$',
      patternHint: { zh: '字母、数字或连字符，最多 64 位', en: 'letters, digits or hyphens, at most 64' },
      source: 'GB/T 39046 表4；GB/T 39554.1', seenAs: ['task_code', 'TaskCode', 'SXBM', 'ITEMNO'],
      example: '11330100002489671K3000111817000',
    }),
    version: int('事项版本', 'Version: increases by one with each catalogue change', 1, 1_000_000, { required: true, seenAs: ['task_version'], example: 3 }),
    catalogCode: str('基本编码', 'Basic catalogue code', 20, {
      pattern: '^[0-9A-Za-z-]{1,20}$', patternHint: { zh: '字母、数字或连字符，最多 20 位', en: 'letters, digits or hyphens, at most 20' },
      source: 'GB/T 39046 表4（an..10；国家库 varchar(12)）', seenAs: ['catalog_code'], example: '000111817000',
    }),
    localCode: str('地方编码', 'Local catalogue code', 50, { seenAs: ['local_catalog_code', 'LocalTaskCode'] }),
    itemName: str('事项名称', 'Item name', 200, { required: true, seenAs: ['task_name', 'SXMC', 'ITEMNAME'], example: '食品经营许可' }),
    category: code('事项类型', 'Category', 'itemCategory', { required: true, seenAs: ['task_type', 'ITEMTYPE', 'APPROVE_TYPE'], example: '01' }),
    status: code('事项状态', 'Status', 'itemStatus', { required: true, seenAs: ['task_state'], example: '1' }),
    effectiveFrom: date('生效日期', 'In force from', { required: true, example: '2026-01-01' }),
    effectiveTo: date('失效日期', 'In force until (absent: open-ended)', { example: '2028-12-31' }),
    adjustReason: str('调整原因', 'Why this version changed the catalogue (required from version 2)', 1000, { example: '依据《食品经营许可和备案管理办法》调整受理条件' }),
    deptCode: deptCode('实施主体编码', 'Code of the implementing department'),
    deptName: str('实施主体名称', 'Implementing department', 100, { required: true, seenAs: ['dept_name'], example: '杭州市市场监督管理局' }),
    deptNature: code('实施主体性质', 'Nature of the implementing body', 'deptNature', { seenAs: ['dept_type'], example: '1' }),
    useLevel: code('行使层级', 'Level at which it is exercised', 'useLevel', { required: true, seenAs: ['use_level'], example: '3' }),
    regionCode: regionCode(),
    legalBasis: longText('设定依据（法律依据）', 'Legal basis', { required: true, seenAs: ['by_law'], example: '《中华人民共和国食品安全法》第三十五条' }),
    serviceObjects: list('服务对象', 'Who the item serves', 'serviceObject', code('服务对象', 'Service object', 'serviceObject'), 6, { seenAs: ['server_type'], example: ['1', '2'] }),
    handleForms: list('办理形式', 'How it can be handled', 'handleForm', code('办理形式', 'Handling form', 'channel'), 5, { seenAs: ['handle_type'], example: ['1', '2'] }),
    acceptConditions: longText('受理条件', 'Conditions for acceptance', { seenAs: ['accept_condition'], example: '申请人应当具有与经营的食品品种、数量相适应的经营场所。' }),
    isFee: bool('是否收费', 'Whether a fee is charged', { seenAs: ['is_fee'], example: false }),
    feeBasis: longText('收费依据', 'Legal basis of the fee (required when a fee is charged)', { seenAs: ['fee_basis'] }),
    feeStandard: longText('收费标准', 'Fee standard (required when a fee is charged)', { seenAs: ['FEESTANDARD'] }),
    legalLimit: timeLimit('法定办结时限', 'Legal time limit', { seenAs: ['anticipate_day', 'anticipate_type'] }),
    promiseLimit: timeLimit('承诺办结时限', 'Promised time limit', { seenAs: ['promise_day', 'promise_type'] }),
    handlingOrg: obj('承办机构', 'Handling agency (internal unit)', {
      name: str('承办机构名称', 'Name', 100, { required: true, example: '行政审批处' }),
      code: orgUscc('承办机构统一社会信用代码', 'USCC'),
    }),
    handlingStaff: list('承办人员', 'Handling staff', 'staff', obj('承办人员', 'One staff member', {
      name: str('姓名', 'Name', 30, { required: true, example: '赵六' }),
      post: str('岗位', 'Post', 100, { example: '窗口受理岗' }),
      phone: phone('电话', 'Phone'),
    }), 100),
    handleAddress: str('办理地点', 'Where it is handled', 200, { seenAs: ['transact_addr'], example: '杭州市民中心 B 座 2 楼' }),
    handleHours: str('办理时间', 'Office hours', 150, { seenAs: ['transact_time'], example: '工作日 9:00–12:00，13:30–17:00' }),
    consultPhone: phone('咨询电话', 'Phone for questions', { seenAs: ['link_way'], example: '0571-85252525' }),
    supervisePhone: phone('监督电话', 'Phone for complaints (supervision)', { seenAs: ['supervise_way'], example: '0571-12345' }),
    onlineUrl: str('网上办理地址', 'Online handling address', 500, { seenAs: ['link_addr'], example: 'https://www.zjzwfw.gov.cn/' }),
    flowchart: list('办理流程图', 'Flowchart: the ordered steps with post, responsibility and step time limit', 'flowStep', obj('流程环节', 'One flowchart step', {
      seq: int('环节序号', 'Order', 1, 1000, { required: true, example: 1 }),
      name: str('环节名称', 'Step name', 100, { required: true, example: '受理' }),
      post: str('承办岗位', 'Post responsible', 100, { required: true, example: '窗口受理岗' }),
      responsibility: str('岗位职责', 'What the post does at this step', 1000, { example: '审查申请材料是否齐全、符合法定形式' }),
      timeLimit: timeLimit('环节时限', 'Step time limit'),
    }), 100, { source: 'seeds/004（流程图应载明承办岗位、运行程序、办理时限）', seenAs: ['handle_flow'] }),
    guide: longText('服务指南', 'Service guide (text or address)', { example: 'https://www.zjzwfw.gov.cn/guide/000111817000' }),
    forms: list('服务表格', 'Forms', 'form', obj('表格', 'One form', {
      name: str('表格名称', 'Form name', 200, { required: true, example: '食品经营许可申请书' }),
      url: str('下载地址', 'Download address', 500),
    }), 100),
    materials: list('申请材料', 'Application materials', 'material', obj('申请材料', 'One material', {
      name: str('材料名称', 'Name', 200, { required: true, example: '营业执照复印件' }),
      issuer: str('出具机构', 'Issued by', 100),
      originals: int('原件份数', 'Originals', 0, 99),
      copies: int('复印件份数', 'Copies', 0, 99),
      mandatory: bool('是否必备', 'Mandatory', { example: true }),
    }), 200, { source: 'GB/T 39046 表4' }),
    faq: list('常见问题', 'Frequently asked questions', 'faqEntry', obj('问答', 'One question and answer', {
      question: str('问题', 'Question', 500, { required: true }),
      answer: str('解答', 'Answer', 2000, { required: true }),
    }), 100),
    penalty: obj('行政处罚类公开信息', 'Penalty-specific public fields', {
      procedure: longText('处罚程序', 'Penalty procedure', { required: true }),
      kinds: str('处罚种类', 'Kinds of penalty', 1000, { required: true, example: '警告、罚款、没收违法所得' }),
      discretion: longText('裁量基准', 'Discretion standard'),
    }, { source: 'seeds/000 §4.2' }),
    levy: obj('行政征收类公开信息', 'Levy-specific public fields', {
      standard: longText('征收标准', 'Levy standard', { required: true }),
      procedure: longText('征收程序', 'Levy procedure', { required: true }),
    }, { source: 'seeds/000 §4.2' }),
    coercion: obj('行政强制类公开信息', 'Coercion-specific public fields', {
      procedure: longText('强制程序', 'Coercion procedure', { required: true }),
      measures: str('强制措施', 'Coercive measures', 1000),
    }, { source: 'seeds/000 §4.2' }),
  },
  requirements: [
    {
      when: { field: 'category', in: ['01'] },
      require: ['acceptConditions', 'isFee', 'legalLimit', 'promiseLimit', 'handleAddress', 'consultPhone', 'supervisePhone', 'flowchart', 'guide', 'forms', 'faq'],
      doc: { zh: '行政许可类：编码、名称、法律依据、受理条件、是否收费、办理期限、承诺期限、办理部门、办理地点、联系电话、流程图、服务指南、服务表格、常见问题、监督电话（seeds/000 §4.2）', en: 'Licences: the public fields of seeds/000 §4.2' },
    },
    {
      when: { field: 'category', in: ['02'] },
      require: ['penalty', 'handleAddress', 'supervisePhone'],
      doc: { zh: '行政处罚类：处罚程序、处罚种类、实施主体、办公地点、监督电话', en: 'Penalties: procedure, kinds, office address, supervision phone' },
    },
    {
      when: { field: 'category', in: ['03'] },
      require: ['coercion', 'handleAddress', 'supervisePhone'],
      doc: { zh: '行政强制类：强制程序、实施主体、办公地点、监督电话', en: 'Coercion: procedure, office address, supervision phone' },
    },
    {
      when: { field: 'category', in: ['04'] },
      require: ['levy', 'handleAddress', 'supervisePhone'],
      doc: { zh: '行政征收类：征收标准、征收程序、实施主体、办公地点、监督电话', en: 'Levies: standard, procedure, office address, supervision phone' },
    },
  ],
};
