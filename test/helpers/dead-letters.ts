/**
 * Dead letters made the way the gateway makes them: records stored by the real ingest (with a
 * router, so the outbox entries are written in the same transaction), claimed from the outbox and
 * settled as dead — the same two calls the delivery engine makes.
 */
import iconv from 'iconv-lite';
import { contentDigest } from '../../src/schemas/canonical.js';
import type { Db } from '../../src/store/db.js';
import { ingest, type IngestInput, type IngestRecordInput } from '../../src/store/queries/ingest.js';
import { claimDue, settle, type ClaimedEntry } from '../../src/store/queries/outbox.js';

export const DEPT_A = '330100-SJ';
export const DEPT_B = '330100-GA';

export interface Letter {
  readonly key: string;
  readonly dept?: string;
  readonly type?: 'case' | 'powerItem' | 'supervision';
  readonly destinations?: readonly string[];
  readonly dataVer?: number;
  readonly cause?: 'rejected' | 'exhausted';
  readonly code?: string;
  /** Send the raw payload as GBK XML (declared so) instead of UTF-8 JSON. */
  readonly gbk?: boolean;
}

export function record(index: number, l: Letter): IngestRecordInput {
  const content = { caseNo: l.key, dataVer: l.dataVer ?? 1, applicant: '张三', remark: `第 ${l.dataVer ?? 1} 版` };
  return { index, recordType: l.type ?? 'case', businessKey: l.key, dataVer: l.dataVer ?? 1, status: 'accepted', content, digest: contentDigest(content) };
}

/** Stores one payload per letter (so each has its own raw payload). */
export async function store(db: Db, letters: readonly Letter[]): Promise<void> {
  for (const l of letters) {
    const rec = record(0, l);
    const input: IngestInput = l.gbk === true
      ? {
          deptCode: l.dept ?? DEPT_A, source: 'test',
          raw: {
            body: iconv.encode(`<?xml version="1.0" encoding="GBK"?><record><caseNo>${l.key}</caseNo><applicant>张三</applicant></record>`, 'gbk'),
            contentType: 'application/xml; charset=GBK', declaredEncoding: 'gbk',
          },
          records: [rec],
        }
      : { deptCode: l.dept ?? DEPT_A, source: 'test', raw: { body: Buffer.from(JSON.stringify(rec.content)), contentType: 'application/json' }, records: [rec] };
    const dests = l.destinations ?? ['hall'];
    await ingest(db, input, { route: () => dests });
  }
}

/**
 * Stores the letters, then claims everything due for each destination and settles each claimed
 * letter as dead (reason code `code`, default HALL_REJECTED). Entries of other keys that happen
 * to be due are released (put back uncounted, as the engine does), so nothing is left leased.
 */
export async function makeDeadLetters(db: Db, letters: readonly Letter[]): Promise<void> {
  await store(db, letters);
  const dests = [...new Set(letters.flatMap((l) => l.destinations ?? ['hall']))];
  for (const d of dests) {
    const claimed = await claimDue(db, d, 1000, 60, 'test-worker');
    await settle(db, 'test-worker', claimed.map((e) => {
      const l = letters.find((x) => x.key === e.businessKey && (x.dept ?? DEPT_A) === e.deptCode);
      // Not one of ours (e.g. a newer version queued by an earlier step): put back, uncounted.
      if (l === undefined) return { entry: e, kind: 'release' as const, nextAttemptAt: new Date() };
      return {
        entry: e, kind: 'dead' as const, cause: l.cause ?? 'rejected',
        reason: { class: l.cause === 'exhausted' ? 'transient' : 'rejected', code: l.code ?? 'HALL_REJECTED', message: { zh: '大厅拒收：事项编码不存在', en: 'the hall refused it: unknown item code' } },
        answer: { status: l.cause === 'exhausted' ? 503 : 200, body: '{"status":"partial"}' },
      };
    }));
  }
}

export const delivered = (e: ClaimedEntry) => ({ entry: e, kind: 'delivered' as const, outcome: 'new' as const, idempotencyKey: `${e.deptCode}:${e.recordType}:${e.version}:${e.businessKey}` });

export async function one<T extends object>(db: Db, sql: string, params: unknown[] = []): Promise<T> {
  return (await db.query<T>(sql, params)).rows[0]!;
}
