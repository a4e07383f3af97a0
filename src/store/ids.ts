/**
 * Receipt ids: `rcpt_` + 10 Crockford base32 characters of the receipt time in milliseconds + 16
 * of randomness (80 bits), lower case, e.g. `rcpt_01jd4z6k2m8q3w5e7r9t1y3v5x`.
 *
 * The time is in the id on purpose: receipts and raw payloads are partitioned by month of that
 * time, and a unique key of a partitioned table has to include the partition key. Because the time
 * can be read back out of the id, (receipt_id, received_at) is unique exactly when receipt_id is,
 * and a lookup by id alone still goes straight to one partition.
 */
import { randomFillSync } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const PREFIX = 'rcpt_';
const TIME_CHARS = 10;
const RANDOM_CHARS = 16;
const RECEIPT_ID = /^rcpt_[0-9a-hjkmnp-tv-z]{26}$/;

// The randomness is drawn 4 KiB at a time (256 ids), as crypto.randomUUID caches its entropy: one
// randomBytes call per id was ≈ 9 µs, 2–3 % of a single-record request.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

export function newReceiptId(at: Date): string {
  let ms = at.getTime();
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError('receipt time must be a valid date after 1970');
  let time = '';
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[ms % 32] + time;
    ms = Math.floor(ms / 32);
  }
  if (poolAt + RANDOM_CHARS > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  let rand = '';
  for (let i = poolAt; i < poolAt + RANDOM_CHARS; i++) rand += ALPHABET[pool[i]! & 31];
  poolAt += RANDOM_CHARS;
  return PREFIX + time + rand;
}

/** The time a receipt id was issued for, or undefined when the text is not a receipt id. */
export function receiptTime(receiptId: string): Date | undefined {
  if (!RECEIPT_ID.test(receiptId)) return undefined;
  let ms = 0;
  for (const ch of receiptId.slice(PREFIX.length, PREFIX.length + TIME_CHARS)) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms > 8_640_000_000_000_000 ? undefined : new Date(ms);
}
