/** Receipts fetched again by id, scoped to the department that asks. */
import type { Queryable } from '../db.js';
import { receiptTime } from '../ids.js';
import type { Receipt } from './ingest.js';

// created_at comes from the id itself, so the lookup touches one partition's primary key.
const GET_RECEIPT = `
SELECT body FROM receipts
WHERE receipt_id = $1 AND created_at = $2::timestamptz AND dept_code = $3`;

/**
 * The stored receipt, or undefined when there is none — including when it belongs to another
 * department, so that callers cannot tell "not yours" from "does not exist".
 */
export async function getReceipt(db: Queryable, receiptId: string, deptCode: string): Promise<Receipt | undefined> {
  const at = receiptTime(receiptId);
  if (at === undefined) return undefined;
  const { rows } = await db.query<{ body: Receipt }>(GET_RECEIPT, [receiptId, at.toISOString(), deptCode]);
  return rows[0]?.body;
}
