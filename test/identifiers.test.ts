import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  checkOrgCode,
  checkResidentId,
  checkUscc,
  upgradeResidentId15,
  type IdCheck,
} from '../src/schemas/rules/identifiers.js';

interface Vectors {
  ric: {
    valid: Array<{ input: string; normalized: string; birthDate: string; regionCode: string; sex: 'male' | 'female' }>;
    invalid: Array<{ input: string; expect: 'ok' | 'format' | 'date' | 'checksum' }>;
    legacy15: Array<{ input: string; upgraded: string }>;
  };
  uscc: {
    valid: string[];
    normalise: Array<{ input: string; normalized: string }>;
    invalid: Array<{ input: string; expect: 'length' | 'format' | 'checksum'; expected?: string }>;
  };
  orgCode: { valid: Array<{ input: string; normalized: string }> };
}

const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/id-vectors.json', import.meta.url), 'utf8'),
) as Vectors;

// Independent oracles, written from the published weight tables rather than the shortcuts the
// implementation uses, so an algebra slip in either shows up as a disagreement.
const RIC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function ricCheck(body17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(body17[i]) * RIC_WEIGHTS[i]!;
  const c = (12 - (sum % 11)) % 11;
  return c === 10 ? 'X' : String(c);
}
// python-stdnum's formulation, (1 − 2·int(body, 13)) mod 11, as a second opinion.
function ricCheckBase13(body17: string): string {
  let n = 0n;
  for (const ch of body17) n = n * 13n + BigInt(ch);
  const c = Number((((1n - 2n * n) % 11n) + 11n) % 11n);
  return c === 10 ? 'X' : String(c);
}
const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
function usccCheck(body17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(body17[i]!) * USCC_WEIGHTS[i]!;
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2];
function orgCheck(body8: string): string {
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += parseInt(body8[i]!, 36) * ORG_WEIGHTS[i]!;
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}
const withRicCheck = (body17: string): string => body17 + ricCheck(body17);

function failure(r: IdCheck): Extract<IdCheck, { ok: false }> {
  if (r.ok) throw new Error(`expected a failure, got ok ${r.normalized}`);
  return r;
}
function success(r: IdCheck): Extract<IdCheck, { ok: true }> {
  if (!r.ok) throw new Error(`expected ok, got ${r.kind}: ${r.en}`);
  return r;
}

/** YYYYMMDD in China time, `days` from today. */
function chinaDate(days: number): string {
  const d = new Date(Date.now() + 8 * 3_600_000 + days * 86_400_000);
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

t.test('the oracles agree with each other and with the vectors file', async (t) => {
  for (const v of vectors.ric.valid) {
    const body = v.normalized.slice(0, 17);
    t.equal(ricCheck(body), v.normalized[17], v.input);
    t.equal(ricCheckBase13(body), v.normalized[17], `${v.input} (base 13)`);
  }
  t.equal(vectors.uscc.valid.length, 383);
  t.equal(new Set(vectors.uscc.valid).size, 383, 'no duplicates');
  t.ok(vectors.uscc.valid.every((u) => usccCheck(u.slice(0, 17)) === u[17]), 'oracle passes all 383');
  t.ok(vectors.uscc.valid.every((u) => orgCheck(u.slice(8, 16)) === u[16]), 'embedded org codes pass the oracle');
});

t.test('resident ID: python-stdnum valid vectors', async (t) => {
  for (const v of vectors.ric.valid) {
    const r = success(checkResidentId(v.input));
    t.same(
      r,
      { ok: true, normalized: v.normalized, birthDate: v.birthDate, regionCode: v.regionCode, sex: v.sex },
      v.input,
    );
    t.equal(r.legacyUpgraded, undefined);
  }
});

t.test('resident ID: python-stdnum invalid vectors', async (t) => {
  for (const v of vectors.ric.invalid) {
    const r = checkResidentId(v.input);
    if (v.expect === 'ok') t.ok(r.ok, `${v.input} accepted: regions are not checked here`);
    else t.equal(failure(r).kind, v.expect, v.input);
  }
});

t.test('resident ID: messages say exactly what is wrong', async (t) => {
  const checksum = failure(checkResidentId('36042619910102009X'));
  const want = ricCheck('36042619910102009');
  t.same(checksum, {
    ok: false,
    kind: 'checksum',
    zh: `校验位应为 ${want}，实际为 X`,
    en: `the check digit should be ${want}, found X`,
    expected: want,
    found: 'X',
  });

  const date = failure(checkResidentId('360426199113010079'));
  t.equal(date.zh, '出生日期 19911301 不是有效日期');
  t.equal(date.en, 'the birth date 19911301 is not a valid date');

  const fmt = failure(checkResidentId('T60426199101010078'));
  t.equal(fmt.kind, 'format');
  t.equal(fmt.zh, '第 1 位应为数字，实际为“T”');
  t.equal(fmt.en, "character 1 should be a digit, found 'T'");

  const check = failure(checkResidentId('36042619910101007A'));
  t.equal(check.kind, 'format');
  t.equal(check.en, "character 18 (the check digit) should be a digit or X, found 'A'");

  const fullWidth = failure(checkResidentId('３60426199101010071'));
  t.equal(fullWidth.kind, 'format');
  t.match(fullWidth.zh, /全角/);
  t.match(fullWidth.en, /full-width/);

  const control = failure(checkResidentId('360426199101010\u000071'));
  t.equal(control.en, "character 16 should be a digit, found 'U+0000'", 'invisible characters are shown as code points');

  const short = failure(checkResidentId('36042619910101007'));
  t.equal(short.kind, 'length');
  t.equal(short.en, 'a resident ID number must have 18 characters (15 for a legacy number), found 17');
  t.equal(short.zh, '居民身份证号码应为 18 位（旧号码为 15 位），实际为 17 位');
});

t.test('resident ID: lower-case x is accepted and normalised', async (t) => {
  const r = success(checkResidentId('44011320141005001x'));
  t.equal(r.normalized, '44011320141005001X');
  const bad = failure(checkResidentId('44011320141005002x'));
  t.equal(bad.kind, 'checksum');
  t.equal(bad.found, 'x', 'the message quotes what came');
});

t.test('resident ID: whitespace is ignored, other separators are not', async (t) => {
  t.equal(success(checkResidentId(' 360426 19910101 0071\t')).normalized, '360426199101010071');
  t.equal(success(checkResidentId('360426199101010071\u3000')).normalized, '360426199101010071');
  t.equal(failure(checkResidentId('360426-19910101-0071')).kind, 'length');
});

t.test('resident ID: birth dates', async (t) => {
  const at = (yyyymmdd: string, seq = '003'): IdCheck => checkResidentId(withRicCheck(`110101${yyyymmdd}${seq}`));
  t.ok(at('20000229').ok, '2000 is a leap year');
  t.ok(at('19960229').ok, '1996 is a leap year');
  t.equal(failure(at('19000229')).kind, 'date', '1900 is not a leap year');
  t.equal(failure(at('19990229')).kind, 'date');
  t.equal(failure(at('19990431')).kind, 'date', 'April has 30 days');
  t.equal(failure(at('19990100')).kind, 'date', 'day 0');
  t.equal(failure(at('19990001')).kind, 'date', 'month 0');
  t.ok(at('19000101').ok, '1900-01-01 is the earliest accepted date');
  const early = failure(at('18991231'));
  t.equal(early.kind, 'date');
  t.equal(early.en, 'the birth date 18991231 is before 1900-01-01');
  t.equal(early.zh, '出生日期 18991231 早于 1900-01-01');
  t.ok(at(chinaDate(-1)).ok, 'yesterday');
  const future = failure(at(chinaDate(2)));
  t.equal(future.kind, 'date');
  t.equal(future.en, `the birth date ${chinaDate(2)} is in the future`);
  t.equal(failure(at('99991231')).kind, 'date');
  // The date is reported even when the check digit is also wrong, because it locates the typo.
  const both = failure(checkResidentId('110101199913010030'));
  t.equal(both.kind, 'date');
});

t.test('resident ID: sex from the sequence code', async (t) => {
  t.equal(success(checkResidentId(withRicCheck('11010119900101003'))).sex, 'male');
  t.equal(success(checkResidentId(withRicCheck('11010119900101002'))).sex, 'female');
  t.equal(success(checkResidentId(withRicCheck('11010119900101000'))).sex, 'female');
});

t.test('resident ID: check value X from the body', async (t) => {
  // Find bodies whose check digit is X and 0 (the two edge values of the formula).
  let foundX = false;
  let found0 = false;
  for (let seq = 0; seq < 100 && !(foundX && found0); seq++) {
    const body = `110101199001010${String(seq).padStart(2, '0')}`;
    const id = withRicCheck(body);
    const r = success(checkResidentId(id));
    t.equal(r.normalized, id);
    if (id.endsWith('X')) foundX = true;
    if (id.endsWith('0')) found0 = true;
  }
  t.ok(foundX && found0, 'covered both X and 0');
});

t.test('resident ID: every single-character substitution is detected', async (t) => {
  const accepted: string[] = [];
  let tried = 0;
  for (const v of vectors.ric.valid) {
    const id = v.normalized;
    for (let i = 0; i < 18; i++) {
      for (const ch of '0123456789X') {
        if (ch === id[i]) continue;
        const mutated = id.slice(0, i) + ch + id.slice(i + 1);
        tried++;
        if (checkResidentId(mutated).ok) accepted.push(mutated);
      }
    }
  }
  t.equal(tried, vectors.ric.valid.length * 18 * 10);
  t.same(accepted, []);
});

t.test('resident ID: every adjacent transposition of different digits is detected', async (t) => {
  const accepted: string[] = [];
  for (const v of vectors.ric.valid) {
    const id = v.normalized;
    for (let i = 0; i < 17; i++) {
      if (id[i] === id[i + 1]) continue;
      const swapped = id.slice(0, i) + id[i + 1] + id[i] + id.slice(i + 2);
      if (checkResidentId(swapped).ok) accepted.push(swapped);
    }
  }
  t.same(accepted, []);
});

t.test('resident ID: 15-digit legacy numbers are upgraded', async (t) => {
  for (const v of vectors.ric.legacy15) {
    t.equal(v.upgraded, `${v.input.slice(0, 6)}19${v.input.slice(6)}${ricCheck(`${v.input.slice(0, 6)}19${v.input.slice(6)}`)}`);
    const r = success(checkResidentId(v.input));
    t.equal(r.normalized, v.upgraded, v.input);
    t.equal(r.legacyUpgraded, true);
    const direct = success(checkResidentId(v.upgraded));
    t.same({ ...r, legacyUpgraded: undefined }, { ...direct, legacyUpgraded: undefined }, 'same facts as the 18-digit form');
    t.equal(upgradeResidentId15(v.input), v.upgraded);
  }
  t.same(success(checkResidentId('110101900101002')), {
    ok: true,
    normalized: withRicCheck('11010119900101002'),
    legacyUpgraded: true,
    birthDate: '1990-01-01',
    regionCode: '110101',
    sex: 'female',
  });
  t.equal(upgradeResidentId15(' 360426 910101 007 '), '360426199101010071');

  const badDate = failure(checkResidentId('360426911301007'));
  t.equal(badDate.kind, 'date');
  t.equal(badDate.en, 'the birth date 19911301 is not a valid date');
  t.equal(failure(checkResidentId('360426000229007')).kind, 'date', '1900-02-29 does not exist');
  t.equal(upgradeResidentId15('360426911301007'), undefined);

  const letter = failure(checkResidentId('36042691010100X'));
  t.equal(letter.kind, 'format');
  t.equal(letter.en, "character 15 of a 15-digit legacy number should be a digit, found 'X'");
  t.equal(upgradeResidentId15('36042691010100X'), undefined);
  t.equal(upgradeResidentId15('360426199101010071'), undefined, '18 digits are not upgraded');
  t.equal(upgradeResidentId15(''), undefined);
});

t.test('USCC: all 383 python-stdnum vectors', async (t) => {
  const rejected: string[] = [];
  for (const u of vectors.uscc.valid) {
    const r = checkUscc(u);
    if (!r.ok || r.normalized !== u) rejected.push(u);
  }
  t.same(rejected, []);
  t.same(checkUscc('91110000600037341L'), { ok: true, normalized: '91110000600037341L' });
});

t.test('USCC: python-stdnum corner cases', async (t) => {
  for (const v of vectors.uscc.normalise) t.same(checkUscc(v.input), { ok: true, normalized: v.normalized }, v.input);
  for (const v of vectors.uscc.invalid) {
    const r = failure(checkUscc(v.input));
    t.equal(r.kind, v.expect, v.input);
    if (v.expected !== undefined) t.equal(r.expected, v.expected);
  }
  const checksum = failure(checkUscc('91110000600037341N'));
  t.equal(checksum.zh, '校验码应为 L，实际为 N');
  t.equal(checksum.en, 'the check character should be L, found N');
  const letters = failure(checkUscc('9111000060003IOZSV'));
  t.equal(letters.en, "character 14 ('I') is not allowed in a unified social credit code (digits and capital letters except I, O, Z, S, V)");
  const region = failure(checkUscc('911A0000600037341L'));
  t.equal(region.en, "character 4 should be a digit (part of the registration region code), found 'A'");
});

t.test('USCC: letter registration-authority codes pass when the check character fits', async (t) => {
  // 农村集体经济组织 codes start with N (农业农村部门); python-stdnum would reject them.
  const body = 'N2330106' + 'MA2PBM9H' + 'X';
  const code = body + usccCheck(body);
  t.same(checkUscc(code), { ok: true, normalized: code });
  const y = 'Y1110000' + '60003734' + '1';
  t.ok(checkUscc(y + usccCheck(y)).ok);
});

t.test('USCC: normalisation', async (t) => {
  t.equal(success(checkUscc('91110000600037341l')).normalized, '91110000600037341L');
  t.equal(success(checkUscc('9111-0000-6000-3734-1L')).normalized, '91110000600037341L');
  t.equal(success(checkUscc('\t91110000600037341L\r\n')).normalized, '91110000600037341L');
  t.equal(success(checkUscc('91340600ma2pbm9hxd')).normalized, '91340600MA2PBM9HXD');
  t.equal(failure(checkUscc('91110000600037341L.')).kind, 'length');
});

t.test('USCC: every single-character substitution is detected', async (t) => {
  const accepted: string[] = [];
  let tried = 0;
  for (const u of vectors.uscc.valid) {
    for (let i = 0; i < 18; i++) {
      for (const ch of USCC_ALPHABET) {
        if (ch === u[i]) continue;
        tried++;
        const mutated = u.slice(0, i) + ch + u.slice(i + 1);
        if (checkUscc(mutated).ok) accepted.push(mutated);
      }
      for (const ch of 'IOZSV') {
        tried++;
        if (checkUscc(u.slice(0, i) + ch + u.slice(i + 1)).ok) accepted.push(`${u}@${i}=${ch}`);
      }
    }
  }
  t.equal(tried, 383 * 18 * 35);
  t.same(accepted, []);
});

t.test('USCC: an inconsistent embedded organization code is not an error', async (t) => {
  // Change the org-code check character (position 17) and re-seal the USCC: the USCC check passes,
  // the embedded GB 11714 check does not. Decision: accepted (see checkUscc's comment).
  const u = '91110000600037341L';
  const orgBad = u.slice(0, 16) + (u[16] === '0' ? '2' : '0');
  const resealed = orgBad.slice(0, 17) + usccCheck(orgBad.slice(0, 17));
  t.notOk(checkOrgCode(resealed.slice(8, 17)).ok, 'the embedded code is inconsistent');
  t.same(checkUscc(resealed), { ok: true, normalized: resealed });
});

t.test('org code: characters 9-17 of all 383 USCC vectors', async (t) => {
  const rejected: string[] = [];
  for (const u of vectors.uscc.valid) {
    const org = u.slice(8, 17);
    const r = checkOrgCode(org);
    if (!r.ok || r.normalized !== org) rejected.push(org);
    const display = `${org.slice(0, 8)}-${org[8]}`;
    if (!checkOrgCode(display).ok || !checkOrgCode(display.toLowerCase()).ok) rejected.push(display);
  }
  t.same(rejected, []);
});

t.test('org code: forms and messages', async (t) => {
  for (const v of vectors.orgCode.valid) t.same(checkOrgCode(v.input), { ok: true, normalized: v.normalized });
  t.equal(success(checkOrgCode('d2143569-x')).normalized, 'D2143569X');
  t.equal(success(checkOrgCode(' D2143569 - X ')).normalized, 'D2143569X');
  // Letters outside the USCC alphabet are legal in a standalone organization code.
  const withI = 'IOSVZ123';
  t.ok(checkOrgCode(withI + orgCheck(withI)).ok);
  // Σ mod 11 = 0 → 11 → '0'.
  const zeroBody = ['00000000', '10000000', '20000000', '30000000'].find((b) => orgCheck(b) === '0');
  t.ok(zeroBody, 'a body with check character 0 exists');
  t.ok(checkOrgCode(`${zeroBody}-0`).ok);
  const bad = failure(checkOrgCode('D2143569-5'));
  t.same(bad, {
    ok: false,
    kind: 'checksum',
    zh: '校验码应为 X，实际为 5',
    en: 'the check character should be X, found 5',
    expected: 'X',
    found: '5',
  });
  t.equal(failure(checkOrgCode('D2143569-A')).en, "character 9 (the check character) should be a digit or X, found 'A'");
  t.equal(failure(checkOrgCode('D21435_9-X')).en, "character 7 should be a digit or a capital letter, found '_'");
  t.equal(failure(checkOrgCode('D2143569')).en, 'an organization code must have 9 characters (8 plus a check character), found 8');
});

t.test('org code: digit substitutions are detected, some letter substitutions are not', async (t) => {
  const accepted: string[] = [];
  for (const u of vectors.uscc.valid) {
    const org = u.slice(8, 17);
    for (let i = 0; i < 9; i++) {
      const options = i === 8 ? '0123456789X' : '0123456789';
      const current = org[i]!;
      // Only digit-for-digit in the body: a letter whose value differs by 11 from the original is a
      // documented blind spot of GB 11714 (e.g. 0 ↔ B), not a bug here.
      if (i < 8 && !/[0-9]/.test(current)) continue;
      for (const ch of options) {
        if (ch === current) continue;
        const mutated = org.slice(0, i) + ch + org.slice(i + 1);
        if (checkOrgCode(mutated).ok) accepted.push(mutated);
      }
    }
  }
  t.same(accepted, []);
  // 0 and B are worth 0 and 11, equal mod 11, so both bodies share a check character.
  const check = orgCheck('02143569');
  t.equal(orgCheck('B2143569'), check);
  t.ok(checkOrgCode(`02143569-${check}`).ok && checkOrgCode(`B2143569-${check}`).ok, 'GB 11714 cannot tell 0 from B');
});

t.test('empty, non-string and very long input', async (t) => {
  for (const [name, fn] of [
    ['resident ID', checkResidentId],
    ['USCC', checkUscc],
    ['org code', checkOrgCode],
  ] as const) {
    t.equal(failure(fn('')).kind, 'length', `${name}: empty`);
    t.equal(failure(fn('   ')).kind, 'length', `${name}: blank`);
    t.equal(failure(fn(110101199001010030 as unknown as string)).kind, 'format', `${name}: number`);
    t.equal(failure(fn(null as unknown as string)).kind, 'format', `${name}: null`);
    const huge = [
      '1'.repeat(10_240),
      'x'.repeat(10_240),
      ' '.repeat(10_240) + '360426199101010071',
      '91110000600037341L'.repeat(600),
    ];
    const start = process.hrtime.bigint();
    for (let k = 0; k < 1000; k++) {
      for (const h of huge) {
        if (fn(h).ok) t.fail(`${name}: accepted a ${h.length}-character string`);
      }
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    t.ok(ms < 200, `${name}: 4000 calls on 10 KB strings took ${ms.toFixed(1)} ms`);
    const r = failure(fn('1'.repeat(10_240)));
    t.equal(r.kind, 'length');
    t.match(r.en, /found 10240$/);
  }
  t.equal(failure(checkResidentId('')).zh, '居民身份证号码为空');
  t.equal(failure(checkUscc('')).en, 'the unified social credit code is empty');
  t.equal(failure(checkOrgCode('-')).en, 'the organization code is empty');
  t.equal(upgradeResidentId15('1'.repeat(10_240)), undefined);
});
