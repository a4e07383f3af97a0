/**
 * Department-side data for the simulators: rows of an EA_JC-style 办件 table as a department's
 * approval system writes them into its front-end database (upper-case columns, local codes,
 * `yyyy-MM-dd HH:mm:ss` times). The demo department 11330100002489671K's mapping
 * (config/departments/11330100002489671K.yaml) turns them into standard case records.
 */
export const EA_JC_DEPT = '11330100002489671K';

/** Columns of the simulated table, in order; all text, as front-end tables usually are. */
export const EA_JC_COLUMNS = [
  'PROJID', 'DATAVER', 'DEPTNAME', 'REGION_ID', 'ORGBUSNO', 'ITEMNO', 'ITEMNAME', 'PROJECTNAME', 'INFOTYPE', 'SUBMIT',
  'PROJECTSTATE', 'RECEIVETIME', 'APPLYERTYPE', 'APPLYNAME', 'APPLY_CARDTYPE', 'APPLY_CARDNUMBER', 'LEGALMAN', 'CONTACTMAN',
  'TELPHONE', 'ADDRESS', 'POSTCODE', 'LEGALTIMELIMIT', 'LEGALTIMEUNIT', 'PROMISETIMELIMIT', 'PROMISETIMEUNIT', 'SLSJ', 'BLRXM', 'SLBMMC', 'SLBMZZJGDM', 'SLZTDM',
] as const;

export type EaJcRow = Record<(typeof EA_JC_COLUMNS)[number], string>;

/** Row `i` of the simulated department: a case being processed (accepted, no result yet). */
export function eaJcRow(i: number, overrides: Partial<EaJcRow> = {}): EaJcRow {
  const n = String(i).padStart(6, '0');
  return {
    PROJID: `330100-SJ-2026-${n}`,
    DATAVER: '1',
    DEPTNAME: '杭州市市场监督管理局',
    REGION_ID: '330102',
    ORGBUSNO: `SCJG2026${n}`,
    ITEMNO: '11330100002489671K3000111817000',
    ITEMNAME: '食品经营许可',
    PROJECTNAME: `关于杭州某某餐饮有限公司（${n}）食品经营许可的申请`,
    INFOTYPE: '2',
    SUBMIT: '1',
    PROJECTSTATE: '2',
    RECEIVETIME: '2026-03-02 09:15:00',
    APPLYERTYPE: '2',
    APPLYNAME: '杭州某某餐饮有限公司',
    APPLY_CARDTYPE: '49',
    APPLY_CARDNUMBER: '913301067041829J10',
    LEGALMAN: '李四',
    CONTACTMAN: '王五',
    TELPHONE: '13800000000',
    ADDRESS: '浙江省杭州市上城区解放路 1 号',
    POSTCODE: '310002',
    LEGALTIMELIMIT: '20',
    LEGALTIMEUNIT: '1',
    PROMISETIMELIMIT: '10',
    PROMISETIMEUNIT: '1',
    SLSJ: '2026-03-02 10:00:00',
    BLRXM: '赵六',
    SLBMMC: '杭州市市场监督管理局',
    SLBMZZJGDM: '11330100002489671K',
    SLZTDM: '1',
    ...overrides,
  };
}

/** A row the mapping or validation refuses: an unknown local code for the case type. */
export function badEaJcRow(i: number): EaJcRow {
  return eaJcRow(i, { INFOTYPE: '7' });
}
