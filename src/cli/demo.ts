/**
 * `govgate demo push`: what a newcomer runs against `npm start` to see records accepted and
 * rejected. It signs and sends real requests with the client helper, as a department would.
 */
import { readFileSync } from 'node:fs';
import { loadDepartments, type Department } from '../config/departments.js';
import { GovgateClient, GovgateClientError, type Receipt } from '../client/index.js';
import { DEMO_DEPT, DEMO_DEPT_2, exampleBatch, exampleCase, examplePowerItem } from '../schemas/spec/examples.js';
import { documentToXml } from '../schemas/xml-form.js';

function clientFor(baseUrl: string, dept: Department): GovgateClient {
  const key = dept.keys.find((k) => k.active);
  if (key === undefined) throw new Error(`department ${dept.code} has no active key`);
  return new GovgateClient({ baseUrl, keyId: key.id, secret: key.secret, algorithm: key.algorithm });
}

function describe(title: string, r: Receipt): string {
  const lines = [`■ ${title}`, `  回执 receipt ${r.receiptId}: ${r.status} — 接收 accepted ${r.counts.accepted}，拒收 rejected ${r.counts.rejected}（新增 new ${r.counts.new}，变更 changed ${r.counts.changed}，未变 unchanged ${r.counts.unchanged}）`];
  for (const rec of r.records) {
    lines.push(`    #${rec.index + 1} ${rec.recordType ?? '?'} ${rec.key ?? ''} → ${rec.outcome}${rec.version === undefined ? '' : ` v${rec.version}`}`);
    for (const f of rec.findings) lines.push(`        ${f.severity === 'error' ? '✗' : '!'} ${f.code} ${f.path}: ${f.message.zh}`, `          ${f.message.en}`);
  }
  return lines.join('\n');
}

/**
 * Waits (up to 10 s) until the hall simulator holds every key the demo expects, then lists them:
 * the end of the journey department → gateway → hall.
 */
async function showHall(hallUrl: string, expected: readonly string[]): Promise<void> {
  const end = Date.now() + 10_000;
  let keys: string[] = [];
  for (;;) {
    const res = await fetch(new URL('_sim/records?limit=500', hallUrl.endsWith('/') ? hallUrl : `${hallUrl}/`)).catch(() => undefined);
    if (res?.ok) {
      const body = (await res.json()) as { idempotencyKey?: string }[];
      keys = (Array.isArray(body) ? body : []).map((r) => r.idempotencyKey ?? '').filter((k) => k !== '');
    }
    if (expected.every((k) => keys.some((x) => x.endsWith(`:${k}`))) || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const arrived = expected.filter((k) => keys.some((x) => x.endsWith(`:${k}`)));
  process.stdout.write(`\n统一网厅模拟器已收到（经网关转发） / the hall simulator received (forwarded by the gateway): ${arrived.length}/${expected.length}\n`);
  for (const k of keys.filter((x) => expected.some((e) => x.endsWith(`:${e}`)))) process.stdout.write(`  ✓ ${k}\n`);
  if (arrived.length < expected.length) process.stdout.write('  （其余仍在发件箱中，稍后再看 / the rest are still in the outbox; look again shortly）\n');
}

export async function runDemoPush(opts: { url: string; departmentsDir: string; hallUrl?: string }): Promise<number> {
  const depts = loadDepartments(opts.departmentsDir, process.env, { allowInlineSecrets: true });
  const market = depts.find((d) => d.code === DEMO_DEPT.code);
  const planning = depts.find((d) => d.code === DEMO_DEPT_2.code);
  if (market === undefined || planning === undefined) {
    process.stderr.write(`演示部门不在 ${opts.departmentsDir} 中 / the demo departments are not in ${opts.departmentsDir}\n`);
    return 2;
  }
  const own = { deptCode: DEMO_DEPT_2.code, deptName: DEMO_DEPT_2.name };
  const stamp = Date.now().toString(36).toUpperCase();
  const goodCase = exampleCase({ ...own, caseNo: `330100-GH-${stamp}-1` });
  const badCase = exampleCase({ ...own, caseNo: `330100-GH-${stamp}-2`, caseType: '7', applicant: { ...(goodCase['applicant'] as object), idType: '111', idNo: '330106199001011230' } });
  const item = examplePowerItem({ ...own, itemCode: `11330100002490146A-${stamp}`, itemName: '建设工程规划许可证核发' });
  const batch = { ...exampleBatch([goodCase, badCase, item]), senderDept: DEMO_DEPT_2.code, batchId: `DEMO-${stamp}` };

  const steps: Array<[string, () => Promise<Receipt>]> = [
    ['规划局推送 JSON 批次（1 条有错） / planning bureau pushes a JSON batch (one bad record)', () => clientFor(opts.url, planning).submitBatch(batch)],
    ['同一批次以 GBK 编码的 XML 重发：内容未变 / the same batch again as GBK XML: unchanged', () => clientFor(opts.url, planning).submitBatch(documentToXml({ ...batch, batchId: `DEMO-${stamp}-XML` }, 'GBK'))],
    ['办件重报（数据版本 +1，状态变更） / the case re-reported with a higher data version', () => clientFor(opts.url, planning).submitRecord({ ...goodCase, dataVer: 4, remark: '补充结果说明' })],
    ['市场监管局按 EA_JC 前置库字段推送（经字段映射） / market regulation pushes EA_JC columns, mapped by its department file', () => {
      const source = JSON.parse(readFileSync(new URL('../../config/examples/ea-jc-case.json', import.meta.url), 'utf8')) as Record<string, unknown>;
      return clientFor(opts.url, market).submitRecord({ ...source, PROJID: `330100-SJ-${stamp}` });
    }],
  ];
  let failed = 0;
  for (const [title, run] of steps) {
    try {
      process.stdout.write(`${describe(title, await run())}\n\n`);
    } catch (err) {
      failed++;
      if (err instanceof GovgateClientError) process.stdout.write(`■ ${title}\n  ${err.status} ${err.code}: ${err.messages.zh}\n  ${err.messages.en}\n\n`);
      else process.stdout.write(`■ ${title}\n  ${err instanceof Error ? err.message : String(err)}\n\n`);
    }
  }
  process.stdout.write(`跨部门提交会被拒绝 / a department cannot submit another's records:\n`);
  try {
    await clientFor(opts.url, market).submitRecord(goodCase);
  } catch (err) {
    if (err instanceof GovgateClientError) process.stdout.write(`  ${err.status} ${err.code}: ${err.messages.zh}\n  ${err.messages.en}\n`);
  }
  if (opts.hallUrl !== undefined) await showHall(opts.hallUrl, [String(goodCase['caseNo']), String(item['itemCode']), `330100-SJ-${stamp}`]);
  return failed === 0 ? 0 : 1;
}
