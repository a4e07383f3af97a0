import t from 'tap';
import {
  compileDatePattern, fullwidthToHalfwidth, idCard15to18, idCardCheckChar, MappingFailure, parseDate,
  TRANSFORM_BY_NAME, type DatePattern, type Step,
} from '../src/pipeline/mapping-transforms.js';

const noop = (): void => {};

function step(name: string, arg?: unknown, options: Record<string, unknown> = {}): Step {
  const def = TRANSFORM_BY_NAME.get(name);
  if (def === undefined) throw new Error(`no transform ${name}`);
  const s = def.compile(arg, options);
  if (typeof s !== 'function') throw new Error(`${name}: ${s.en}`);
  return s;
}

const FAIL = Symbol('fail');
const run = (s: Step, v: unknown): unknown => {
  const out = s(v, noop);
  return out instanceof MappingFailure ? FAIL : out;
};

t.test('simple transforms, value by value', async (t) => {
  const cases: [string, unknown, unknown][] = [
    ['trim', '  张三 ', '张三'],
    ['trim', '\u3000张三\u3000', '张三'],
    ['trim', '\t330106\r\n', '330106'],
    ['trim', 330106, '330106'],
    ['trim', { a: 1 }, FAIL],
    ['trim', ['a', 'b'], FAIL],
    ['upper', '44011320141005001x', '44011320141005001X'],
    ['upper', 'sfz', 'SFZ'],
    ['lower', 'HMAC-SM3', 'hmac-sm3'],
    ['lower', true, FAIL],
    ['fullwidthToHalfwidth', 'ＡＢＣ１２３', 'ABC123'],
    ['fullwidthToHalfwidth', '杭州（西湖）有限公司', '杭州(西湖)有限公司'],
    ['fullwidthToHalfwidth', '张\u3000三', '张 三'],
    ['fullwidthToHalfwidth', '！～', '!~'],
    ['fullwidthToHalfwidth', '中文不变，句号。', '中文不变,句号。'],
    ['toString', 330106, '330106'],
    ['toString', '01', '01'],
    ['toInteger', '3', 3],
    ['toInteger', '+3', 3],
    ['toInteger', '-12', -12],
    ['toInteger', '3.0', 3],
    ['toInteger', 7, 7],
    ['toInteger', '3.5', FAIL],
    ['toInteger', '', FAIL],
    ['toInteger', ' 3', FAIL],
    ['toInteger', '1e3', FAIL],
    ['toInteger', '99999999999999999', FAIL],
    ['toInteger', 1.5, FAIL],
    ['toInteger', null, FAIL],
    ['toNumber', '120.50', 120.5],
    ['toNumber', '120.5', 120.5],
    ['toNumber', '0', 0],
    ['toNumber', '0.01', 0.01],
    ['toNumber', '-3.10', -3.1],
    ['toNumber', '12.300', 12.3],
    ['toNumber', '12.345', FAIL],
    ['toNumber', '1,234.00', FAIL],
    ['toNumber', '.5', FAIL],
    ['toNumber', '5.', FAIL],
    ['toNumber', 'abc', FAIL],
    ['toNumber', '12345678901234', FAIL],
    ['toNumber', 0.1, 0.1],
    ['toNumber', 0.125, FAIL],
    ['idCard15to18', '330106900101123', '33010619900101123X'],
    ['idCard15to18', '33010619900101123X', '33010619900101123X'],
    ['idCard15to18', '3301069001011', '3301069001011'],
    ['idCard15to18', '33010690010112A', '33010690010112A'],
    ['idCard15to18', 330106900101123, 330106900101123],
  ];
  for (const [name, input, expected] of cases) {
    t.same(run(step(name), input), expected, `${name}(${JSON.stringify(input)})`);
  }
});

t.test('GB 11643 check digits agree with the published vectors', async (t) => {
  for (const id of ['360426199101010071', '44011320141005001X', '412723199010050012', '110102199101010078', '120110198012010073', '120110199212010072']) {
    t.equal(idCardCheckChar(id.slice(0, 17)), id[17], id);
  }
  t.not(idCardCheckChar('36042619910102009'), 'X', '36042619910102009X has a wrong check digit');
  // 15 → 18: the century goes after the 6-digit region, then the check digit is computed.
  t.equal(idCard15to18('360426910101007'), '360426199101010071');
  t.equal(idCard15to18('110102910101007'), '110102199101010078');
});

t.test('idCard15to18 leaves a note when it upgrades', async (t) => {
  const notes: unknown[] = [];
  const s = step('idCard15to18');
  s('360426910101007', (code, found) => notes.push([code, found]));
  s('360426199101010071', (code, found) => notes.push([code, found]));
  t.same(notes, [['GOVGATE_RULE_ID_CARD_LEGACY', '360426199101010071']]);
});

t.test('fullwidthToHalfwidth covers exactly U+FF01–FF5E and U+3000', async (t) => {
  let all = '';
  let ascii = '';
  for (let c = 0xff01; c <= 0xff5e; c++) {
    all += String.fromCharCode(c);
    ascii += String.fromCharCode(c - 0xfee0);
  }
  t.equal(fullwidthToHalfwidth(all), ascii);
  t.equal(fullwidthToHalfwidth('\uff00\uff5f\uffe5'), '\uff00\uff5f\uffe5', 'neighbours and ￥ stay');
});

t.test('dates: formats in use by deployed systems', async (t) => {
  const cases: [unknown, Record<string, unknown>, unknown, unknown][] = [
    ['yyyyMMddHHmmss', {}, '20260305093000', '2026-03-05T09:30:00+08:00'],
    ['yyyyMMddHHmmss', { tz: '+08:00' }, '20260305093000', '2026-03-05T09:30:00+08:00'],
    ['yyyyMMddHHmmss', { tz: 'Z' }, '20260305093000', '2026-03-05T09:30:00Z'],
    ['yyyyMMdd', {}, '20260305', '2026-03-05'],
    ['yyyyMMdd', { output: 'datetime' }, '20260305', '2026-03-05T00:00:00+08:00'],
    ['yyyy-MM-dd HH:mm:ss', {}, '2026-03-05 09:30:00', '2026-03-05T09:30:00+08:00'],
    ['yyyy/MM/dd HH:mm', {}, '2026/03/05 09:30', '2026-03-05T09:30:00+08:00'],
    ["yyyy-MM-dd'T'HH:mm:ss", {}, '2026-03-05T09:30:00', '2026-03-05T09:30:00+08:00'],
    ["yyyy-MM-dd'T'HH:mm:ssXXX", {}, '2026-03-05T09:30:00+09:00', '2026-03-05T09:30:00+09:00'],
    ['yyyy-MM-dd HH:mm:ss.S', {}, '2026-03-05 09:30:00.0', '2026-03-05T09:30:00+08:00'],
    ['yyyy-MM-dd HH:mm:ss.SSS', {}, '2026-03-05 09:30:00.250', '2026-03-05T09:30:00.250+08:00'],
    ['yyyy/M/d H:mm:ss', {}, '2026/3/5 9:30:00', '2026-03-05T09:30:00+08:00'],
    ["yyyy年MM月dd日", {}, '2026年03月05日', '2026-03-05'],
    ['yyyyMMddHHmmss', {}, '20240229000000', '2024-02-29T00:00:00+08:00'],
    [['yyyy-MM-dd HH:mm:ss', 'yyyyMMddHHmmss'], {}, '20260305093000', '2026-03-05T09:30:00+08:00'],
    [['yyyy-MM-dd HH:mm:ss', 'yyyy-MM-dd'], {}, '2026-03-05', '2026-03-05T00:00:00+08:00'],
    // invalid calendar dates and times
    ['yyyyMMdd', {}, '20260230', FAIL],
    ['yyyyMMdd', {}, '20250229', FAIL],
    ['yyyyMMdd', {}, '19000229', FAIL],
    ['yyyyMMdd', {}, '20000229', '2000-02-29'],
    ['yyyyMMdd', {}, '20261301', FAIL],
    ['yyyyMMdd', {}, '20260400', FAIL],
    ['yyyyMMdd', {}, '20260431', FAIL],
    ['yyyyMMdd', {}, '00000101', FAIL],
    ['yyyyMMddHHmmss', {}, '20260305243000', FAIL],
    ['yyyyMMddHHmmss', {}, '20260305096000', FAIL],
    ['yyyyMMddHHmmss', {}, '20260305093060', FAIL],
    // shape mismatches
    ['yyyyMMddHHmmss', {}, '2026-03-05 09:30:00', FAIL],
    ['yyyyMMddHHmmss', {}, '202603050930', FAIL],
    ['yyyyMMddHHmmss', {}, ' 20260305093000', FAIL],
    ['yyyyMMddHHmmss', {}, 20260305093000, FAIL],
    ['yyyy-MM-dd', {}, '2026-03-05x', FAIL],
  ];
  for (const [format, options, input, expected] of cases) {
    t.same(run(step('date', format, options), input), expected, `${JSON.stringify(format)} ${JSON.stringify(input)}`);
  }
});

t.test('a date failure says why', async (t) => {
  const out = step('date', 'yyyyMMdd')('20260230', noop);
  t.ok(out instanceof MappingFailure);
  t.match((out as MappingFailure).zh, /不是真实的日历日期/);
  t.match((out as MappingFailure).en, /not a real calendar date/);
  t.equal((out as MappingFailure).expected, 'yyyyMMdd');
});

t.test('bad date formats are refused when compiled', async (t) => {
  for (const bad of ['yyyyMMddhhmmss', 'yyyy-MM', 'MMdd', "yyyy-MM-dd'T", 'yyyy-MM-dd HH:ss', 'yyyy-MM-dd mm', 'YYYY-MM-DD', 'yyyy-MM-dd HH:mm:ss.SSSSSSSSSS', 'yyyyMMddyyyy', '']) {
    t.notOk('re' in compileDatePattern(bad), bad);
  }
  const def = TRANSFORM_BY_NAME.get('date');
  t.notOk(typeof def?.compile('yyyyMMdd', { tz: '8' }) === 'function', 'bad tz');
  t.notOk(typeof def?.compile('yyyyMMdd', { output: 'time' }) === 'function', 'bad output');
  t.notOk(typeof def?.compile(42, {}) === 'function', 'non-string format');
  t.notOk(typeof TRANSFORM_BY_NAME.get('trim')?.compile('x', {}) === 'function', 'trim takes no argument');
});

t.test('date patterns are compiled once and reused', async (t) => {
  const p = compileDatePattern('yyyy-MM-dd HH:mm:ss') as DatePattern;
  t.ok(p.re instanceof RegExp);
  const o = { patterns: [p], tz: '+08:00', output: 'datetime' as const };
  t.equal(parseDate('2026-03-05 09:30:00', o), '2026-03-05T09:30:00+08:00');
  t.equal(parseDate('2026-03-06 10:00:00', o), '2026-03-06T10:00:00+08:00', 'the regex has no lastIndex state');
});
