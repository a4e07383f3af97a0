/** Field shapes shared by several record types. */
import { code, int, obj, str, type Fields, type ObjectField, type StringField } from './model.js';

export const DEPT_CODE_PATTERN = '^[0-9A-Za-z][0-9A-Za-z_-]{1,31}$';

export const deptCode = (zh = '部门代码', en = 'Department code: the code the department is registered under in govgate; usually its unified social credit code'): StringField =>
  str(zh, en, 32, {
    pattern: DEPT_CODE_PATTERN,
    patternHint: { zh: '2–32 位字母、数字、下划线或连字符', en: '2–32 letters, digits, underscores or hyphens' },
    seenAs: ['DEPTCODE', 'dept_code', 'ORGCODE', 'SLBMZZJGDM'],
    example: '11330100002489671K',
  });

export const regionCode = (required = true): StringField =>
  str('行政区划代码', 'Administrative division code (GB/T 2260, 6 digits; 9 or 12 digits down to township)', 12, {
    required,
    pattern: '^[0-9]{6}([0-9]{3}|[0-9]{6})?$',
    patternHint: { zh: '6、9 或 12 位数字', en: '6, 9 or 12 digits' },
    source: 'GB/T 39046 表5；GB/T 2260',
    seenAs: ['REGION_ID', 'XZQHDM', 'AREACODE'],
    example: '330102',
  });

export const phone = (zh: string, en: string, extra: Partial<StringField> = {}): StringField =>
  str(zh, en, 30, {
    pattern: '^[0-9+() -]{3,30}$',
    patternHint: { zh: '数字，可含 + - ( ) 和空格', en: 'digits, optionally with + - ( ) and spaces' },
    example: '0571-85252525',
    ...extra,
  });

export const personName = (zh: string, en: string, extra: Partial<StringField> = {}): StringField =>
  str(zh, en, 100, { minLength: 1, example: '张三', ...extra });

export const orgUscc = (zh: string, en: string, extra: Partial<StringField> = {}): StringField =>
  str(zh, en, 18, {
    pattern: '^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$',
    patternHint: { zh: '18 位统一社会信用代码（GB 32100）', en: 'an 18-character unified social credit code (GB 32100)' },
    example: '11330100002489671K',
    ...extra,
  });

/** Legal and promised time limits are a number and a unit: 20 working days is not 20 natural days. */
export const timeLimit = (zh: string, en: string, extra: Partial<ObjectField> = {}): ObjectField =>
  obj(zh, en, {
    value: int('时限数值', 'Amount of time', 0, 3650, { required: true, example: 20 }),
    unit: code('时限单位', 'Unit of the time limit', 'timeUnit', { required: true, example: '1' }),
  }, extra);

/** A person or body with a certificate: the counterpart, a contact person, an agent. */
export const certificateFields = (): Fields => ({
  idType: code('证件类型', 'Certificate type (GA/T 2000.156; 001 = USCC, 002 = organization code)', 'certificateType', {
    seenAs: ['APPLY_CARDTYPE', 'ApplyerPageType', 'SQRZJLX'], example: '111',
  }),
  idNo: str('证件号码', 'Certificate number; checked per type (GB 11643, GB 32100, GB 11714)', 32, {
    pattern: '^[0-9A-Za-z()（）-]{1,32}$',
    patternHint: { zh: '字母、数字、括号或连字符，最多 32 位', en: 'letters, digits, brackets or hyphens, at most 32' },
    seenAs: ['APPLY_CARDNUMBER', 'ApplyerPageCode', 'SQRZJHM'], example: '330106199001011234',
  }),
});

export const caseNo = (en = 'Case serial number; with the data version, the identity of the case across systems', required = true): StringField =>
  str('办件编号', en, 50, {
    required,
    pattern: '^[\\x21-\\x7E]{1,50}$',
    patternHint: { zh: '1–50 位可见 ASCII 字符，不含空格', en: '1–50 printable ASCII characters without spaces' },
    source: 'GB/T 39046 表5',
    seenAs: ['PROJID', 'SBLSH', 'SBLSH_SHORT', 'ProjectNo', 'caseNumber', 'flowsn'],
    example: '330100-SJ-2026-000123',
  });
