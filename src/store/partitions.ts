/**
 * Monthly partitions of raw_inbox, records, rejections and receipts (by received_at/created_at in
 * China Standard Time months). They are created ahead of time — at migrate() and by a daily call to
 * ensurePartitions() — and, as a safety net, on demand for the month of an ingest that finds none
 * in this process's cache (a clock jump, a long-running process, a back-dated import).
 */
import type { Db } from './db.js';

/** UTC+8; China has had no daylight saving time since 1991. */
const CST_OFFSET_MS = 8 * 3_600_000;

/** @defaultValue 3 — this month and the next two, so a missed daily run is harmless for weeks. */
export const DEFAULT_MONTHS_AHEAD = 3;

/** First day of the China Standard Time month containing `at`, as `YYYY-MM-01`. */
export function partitionMonth(at: Date): string {
  const local = new Date(at.getTime() + CST_OFFSET_MS);
  return `${local.getUTCFullYear().toString().padStart(4, '0')}-${String(local.getUTCMonth() + 1).padStart(2, '0')}-01`;
}

function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const total = y * 12 + (m - 1) + n;
  return `${String(Math.floor(total / 12)).padStart(4, '0')}-${String((total % 12) + 1).padStart(2, '0')}-01`;
}

// Months known to have partitions, per open database; a partition is never dropped while the
// process runs (retention only removes months years old), so the cache never goes wrong.
const known = new WeakMap<Db, Set<string>>();

function knownMonths(db: Db): Set<string> {
  let set = known.get(db);
  if (!set) known.set(db, (set = new Set()));
  return set;
}

/** Creates missing partitions for `months` months from the month of `from`; returns how many it created. */
export async function ensurePartitions(
  db: Db,
  options: { from?: Date; months?: number } = {},
): Promise<number> {
  const first = partitionMonth(options.from ?? new Date());
  const months = options.months ?? DEFAULT_MONTHS_AHEAD;
  const created = await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ created: number }>(
      'SELECT govgate_ensure_partitions($1::date, $2::integer) AS created',
      [first, months],
    );
    return rows[0]?.created ?? 0;
  });
  const cache = knownMonths(db);
  for (let i = 0; i < months; i++) cache.add(addMonths(first, i));
  return created;
}

/** Makes sure the month of `at` has its partitions; one round trip the first time per month and process. */
export async function ensurePartitionFor(db: Db, at: Date): Promise<void> {
  if (knownMonths(db).has(partitionMonth(at))) return;
  await ensurePartitions(db, { from: at, months: 1 });
}
