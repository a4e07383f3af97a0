/**
 * Administrative divisions (GB/T 2260). govgate ships the province-level codes and the
 * prefectures and counties its demo and examples use; a deployment loads the full current table
 * (`spec.divisionsFile`, CSV `code,name` or JSON `{ "code": "name" }`). With only the shipped subset
 * an unknown code is a warning; with a full table it is an error.
 */
import { readFileSync } from 'node:fs';
import { GovgateError } from '../../errors.js';

export interface Divisions {
  has(code6: string): boolean;
  name(code6: string): string | undefined;
  readonly size: number;
  /** True when a full table was loaded, so an unknown code is certainly wrong. */
  readonly complete: boolean;
}

export const SHIPPED_DIVISIONS: Readonly<Record<string, string>> = {
  '110000': '北京市', '120000': '天津市', '130000': '河北省', '140000': '山西省', '150000': '内蒙古自治区',
  '210000': '辽宁省', '220000': '吉林省', '230000': '黑龙江省', '310000': '上海市', '320000': '江苏省',
  '330000': '浙江省', '340000': '安徽省', '350000': '福建省', '360000': '江西省', '370000': '山东省',
  '410000': '河南省', '420000': '湖北省', '430000': '湖南省', '440000': '广东省', '450000': '广西壮族自治区',
  '460000': '海南省', '500000': '重庆市', '510000': '四川省', '520000': '贵州省', '530000': '云南省',
  '540000': '西藏自治区', '610000': '陕西省', '620000': '甘肃省', '630000': '青海省', '640000': '宁夏回族自治区',
  '650000': '新疆维吾尔自治区', '710000': '台湾省', '810000': '香港特别行政区', '820000': '澳门特别行政区',
  '110101': '东城区', '110102': '西城区', '120110': '东丽区',
  '320100': '南京市', '321100': '镇江市', '321102': '京口区', '321111': '润州区', '321112': '丹徒区', '321181': '丹阳市',
  '330100': '杭州市', '330102': '上城区', '330105': '拱墅区', '330106': '西湖区', '330108': '滨江区', '330109': '萧山区', '330110': '余杭区',
  '360426': '德安县', '370800': '济宁市', '410600': '鹤壁市', '410602': '鹤山区', '410603': '山城区', '410611': '淇滨区',
  '412723': '商水县', '440113': '番禺区', '520300': '遵义市', '520302': '红花岗区', '520303': '汇川区',
};

function fromRecord(table: Readonly<Record<string, string>>, complete: boolean): Divisions {
  const map = new Map(Object.entries(table));
  return {
    has: (c) => map.has(c),
    name: (c) => map.get(c),
    size: map.size,
    complete,
  };
}

export const shippedDivisions = (): Divisions => fromRecord(SHIPPED_DIVISIONS, false);

/** Loads a full table. Lines that are not `6 digits,name` are reported with their line number. */
export function loadDivisions(file: string): Divisions {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  if (text.trimStart().startsWith('{')) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new GovgateError('GOVGATE_CONFIG_INVALID', { file, line: 1, path: '/', detail: `区划表不是有效的 JSON：${why}`, detailEn: `the divisions table is not valid JSON: ${why}` });
    }
    const table: Record<string, string> = {};
    for (const [code, name] of Object.entries(parsed)) {
      if (!/^\d{6}$/.test(code) || typeof name !== 'string') {
        throw new GovgateError('GOVGATE_CONFIG_INVALID', {
          file, line: '-', path: `/${code}`,
          detail: `区划表条目应为 "6 位代码": "名称"，实际为 ${JSON.stringify(code)}`, detailEn: `each entry must be "6-digit code": "name", found ${JSON.stringify(code)}`,
        });
      }
      table[code] = name;
    }
    return fromRecord(table, true);
  }
  const table: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || /^code\s*,/i.test(trimmed)) return;
    const m = /^(\d{6})\s*,\s*(.+)$/.exec(trimmed);
    if (m === null) {
      throw new GovgateError('GOVGATE_CONFIG_INVALID', {
        file, line: i + 1, path: 'code,name',
        detail: `每行应为 "6 位代码,名称"，实际为 "${trimmed.slice(0, 40)}"`, detailEn: `each line must be "6-digit code,name", found "${trimmed.slice(0, 40)}"`,
      });
    }
    table[m[1]!] = m[2]!.trim();
  });
  return fromRecord(table, true);
}
