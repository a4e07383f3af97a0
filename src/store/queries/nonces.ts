/**
 * Nonces of signed requests, remembered for replay detection. ingest() records the nonce of a push
 * in its own transaction; these are for everything else (and for pruning).
 */
import type { Queryable } from '../db.js';

/** Records the nonce; false when the key already used it (a replay). */
export async function rememberNonce(db: Queryable, keyId: string, nonce: string, seenAt: Date = new Date()): Promise<boolean> {
  const { rows } = await db.query(
    `INSERT INTO nonces (key_id, nonce, seen_at) VALUES ($1, $2, $3::timestamptz)
     ON CONFLICT (key_id, nonce) DO NOTHING RETURNING 1 AS fresh`,
    [keyId, nonce, seenAt.toISOString()],
  );
  return rows.length === 1;
}

/**
 * Forgets nonces seen more than `maxAgeSeconds` ago (use auth.nonceTtlSeconds); returns how many.
 * Safe because requests older than the clock-skew window are refused on their timestamp anyway.
 */
export async function pruneNonces(db: Queryable, maxAgeSeconds: number): Promise<number> {
  if (!Number.isFinite(maxAgeSeconds) || maxAgeSeconds < 0) throw new RangeError('maxAgeSeconds must be ≥ 0');
  const { rowCount } = await db.query(
    "DELETE FROM nonces WHERE seen_at < now() - make_interval(secs => $1::double precision)",
    [maxAgeSeconds],
  );
  return rowCount;
}
