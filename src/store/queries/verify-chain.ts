/**
 * Re-derives every department's raw-payload hash chain from raw_inbox alone: body digests, sizes,
 * sequence numbers, links and chain hashes. Used by `govgate audit verify` and a daily job.
 *
 * It detects an edited, inserted or removed entry anywhere before the department's head, and a
 * removed tail when the head row survived. It cannot by itself detect a rewrite of the whole
 * chain by someone who can also rewrite the head (a superuser): that is what the off-database
 * anchors of the head hash are for (docs/storage.md).
 *
 * Reads in pages in key order, so memory stays flat however long the chain is, and stops at the
 * first break of a department (everything after it depends on it).
 */
import { GovgateError } from '../../errors.js';
import { GENESIS_HASH, HASH_BYTES, bytesEqual, chainHash, sha256, sm3, toHex } from '../chain.js';
import type { Queryable } from '../db.js';

export type ChainBreak =
  | 'sequence' // a gap or a duplicate sequence number
  | 'genesis' // the first entry does not start from the zero hash
  | 'link' // prev_hash is not the previous entry's chain_hash
  | 'body' // the body's size, sha256 or SM3 differs from what was recorded
  | 'hash' // chain_hash is not SM3(prev ‖ SM3(body) ‖ meta)
  | 'head'; // the chain does not end where dept_chain_head says it does

export interface ChainReport {
  readonly dept: string;
  /** Entries checked (up to the head seen at the start, or to the break). */
  readonly entries: number;
  readonly ok: boolean;
  /** Sequence number of the first bad entry (for 'head': the first entry missing or extra). */
  readonly brokenAt?: number;
  readonly reason?: ChainBreak;
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  /** Hex SM3 chain hash of the last entry checked: the value off-database anchors record. */
  readonly headHash?: string;
  /**
   * When older months were archived and dropped, the chain here starts after 1; this is the
   * stored prev_hash of its first entry, to be matched against the archive's manifest.
   */
  readonly startsFromHash?: string;
}

const PAGE = 200;

const LIST_DEPTS = `
WITH RECURSIVE d AS (
  (SELECT dept_code FROM raw_inbox ORDER BY dept_code LIMIT 1)
  UNION ALL
  SELECT (SELECT r.dept_code FROM raw_inbox r WHERE r.dept_code > d.dept_code ORDER BY r.dept_code LIMIT 1)
  FROM d WHERE d.dept_code IS NOT NULL
)
SELECT dept_code FROM d WHERE dept_code IS NOT NULL
UNION
SELECT dept_code FROM dept_chain_head
ORDER BY 1`;

const READ_HEAD = 'SELECT seq, hash FROM dept_chain_head WHERE dept_code = $1';

const READ_PAGE = `
SELECT id, receipt_id, source, received_at, content_type, declared_encoding, size_bytes,
       sha256, sm3, body, chain_seq, prev_hash, chain_hash
FROM raw_inbox
WHERE dept_code = $1 AND chain_seq <= $2 AND (chain_seq, id) > ($3, $4)
ORDER BY chain_seq, id
LIMIT ${PAGE}`;

interface RawRow {
  id: number;
  receipt_id: string;
  source: string;
  received_at: Date;
  content_type: string;
  declared_encoding: string | null;
  size_bytes: number;
  sha256: Uint8Array;
  sm3: Uint8Array;
  body: Uint8Array;
  chain_seq: number;
  prev_hash: Uint8Array;
  chain_hash: Uint8Array;
}

export async function verifyChain(db: Queryable, deptCode?: string): Promise<ChainReport[]> {
  const depts = deptCode === undefined ? (await db.query<{ dept_code: string }>(LIST_DEPTS)).rows.map((r) => r.dept_code) : [deptCode];
  const reports: ChainReport[] = [];
  for (const dept of depts) reports.push(await verifyDept(db, dept));
  return reports;
}

async function verifyDept(db: Queryable, dept: string): Promise<ChainReport> {
  // The head first: an ingest writes its raw row and the head in one transaction, so every entry
  // up to this head is committed and visible, and entries appended while we read are left for
  // the next run instead of looking like a mismatch.
  const headRow = (await db.query<{ seq: number; hash: Uint8Array }>(READ_HEAD, [dept])).rows[0];
  const limit = headRow?.seq ?? Number.MAX_SAFE_INTEGER;

  let entries = 0;
  let firstSeq: number | undefined;
  let startsFromHash: string | undefined;
  let prevSeq = 0;
  let prevHash: Uint8Array = GENESIS_HASH;
  let after = { seq: 0, id: 0 };
  const done = (extra: Partial<ChainReport>): ChainReport => ({
    dept, entries, ok: extra.reason === undefined,
    ...(firstSeq === undefined ? {} : { firstSeq, lastSeq: prevSeq, headHash: toHex(prevHash) }),
    ...(startsFromHash === undefined ? {} : { startsFromHash }),
    ...extra,
  });

  for (;;) {
    const { rows } = await db.query<RawRow>(READ_PAGE, [dept, limit, after.seq, after.id]);
    for (const r of rows) {
      if (firstSeq === undefined) {
        firstSeq = r.chain_seq;
        if (r.chain_seq === 1) {
          if (!bytesEqual(r.prev_hash, GENESIS_HASH)) return done({ brokenAt: 1, reason: 'genesis' });
        } else {
          // Earlier entries were archived: start from the recorded link, reported for matching.
          prevHash = r.prev_hash;
          prevSeq = r.chain_seq - 1;
          startsFromHash = toHex(r.prev_hash);
        }
      }
      if (r.chain_seq !== prevSeq + 1) return done({ brokenAt: Math.min(r.chain_seq, prevSeq + 1), reason: 'sequence' });
      if (!bytesEqual(r.prev_hash, prevHash)) return done({ brokenAt: r.chain_seq, reason: 'link' });
      const bodySm3 = sm3(r.body);
      if (
        r.body.length !== r.size_bytes || !bytesEqual(bodySm3, r.sm3) || !bytesEqual(sha256(r.body), r.sha256) ||
        r.sm3.length !== HASH_BYTES
      ) {
        return done({ brokenAt: r.chain_seq, reason: 'body' });
      }
      const expected = chainHash(prevHash, bodySm3, {
        deptCode: dept, seq: r.chain_seq, receivedAt: r.received_at, receiptId: r.receipt_id, source: r.source,
        contentType: r.content_type, declaredEncoding: r.declared_encoding, sizeBytes: r.size_bytes,
      });
      if (!bytesEqual(expected, r.chain_hash)) return done({ brokenAt: r.chain_seq, reason: 'hash' });
      entries++;
      prevSeq = r.chain_seq;
      prevHash = r.chain_hash;
      after = { seq: r.chain_seq, id: r.id };
    }
    if (rows.length < PAGE) break;
  }

  // Entries but no head row: the head was deleted, so a removed tail could not be noticed.
  if (headRow === undefined) return entries === 0 ? done({}) : done({ brokenAt: prevSeq, reason: 'head' });
  {
    // Entries removed from the end, or a head that was moved.
    if (prevSeq !== headRow.seq) return done({ brokenAt: Math.min(prevSeq, headRow.seq) + 1, reason: 'head' });
    if (!bytesEqual(prevHash, headRow.hash)) return done({ brokenAt: headRow.seq, reason: 'head' });
  }
  return done({});
}

/** Throws GOVGATE_AUDIT_CHAIN_BROKEN for the first broken department in `reports`. */
export function assertChainsIntact(reports: readonly ChainReport[]): void {
  const broken = reports.find((r) => !r.ok);
  if (broken) {
    throw new GovgateError('GOVGATE_AUDIT_CHAIN_BROKEN', { dept: broken.dept, found: broken.brokenAt, reason: broken.reason });
  }
}
