/**
 * A bounded in-memory record of recently used nonces: a fast first filter against replays.
 *
 * It is not the authority. The store records every nonce inside the ingest transaction, which is
 * what makes two gateway instances agree; this cache only lets one instance refuse an obvious
 * replay without touching the database. Because it is bounded, a flood of distinct nonces pushes
 * old entries out early — acceptable exactly because the store still catches those.
 *
 * Consult it only after `verifyRequest` succeeds: otherwise anyone could fill it with junk, and
 * every entry would be a nonce no real department ever signed.
 */

export interface NonceCacheOptions {
  /** Most entries kept; the oldest is evicted beyond it. Size it near peak requests/s × TTL in seconds. Default 100 000. */
  readonly maxEntries?: number;
  /** Clock in ms, for tests. Default `Date.now`. */
  readonly now?: () => number;
}

/** Expired records removed per call: more than the one a call can add, so the sweep keeps up. */
const SWEEP_PER_CALL = 16;

export class NonceCache {
  // Insertion order is kept in our own FIFO (two parallel arrays and a head index) rather than read
  // from the Map: V8 leaves deleted Map entries as holes until it rehashes, so "first entry of the
  // Map" costs O(holes) when entries are always deleted from the front — O(n) per call in a flood.
  // The Map holds each live nonce's absolute position in the FIFO; a FIFO record whose position no
  // longer matches (forgotten, or expired and recorded again) is stale and is just dropped.
  readonly #index = new Map<string, number>();
  #ids: string[] = [];
  #expires: number[] = [];
  /** Absolute position of `#ids[0]`; positions keep growing across compactions. */
  #base = 0;
  /** Offset in `#ids` of the oldest record still queued. */
  #head = 0;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: NonceCacheOptions = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${max}`);
    this.#max = max;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Records the nonce and says whether it was already recorded and unexpired (true → the caller
   * refuses the request with GOVGATE_AUTH_REPLAY). `ttlMs` should be `auth.nonceTtlSeconds` × 1000,
   * which the config check keeps ≥ 2 × clock skew: the whole span in which a timestamp is accepted.
   */
  seen(keyId: string, nonce: string, ttlMs: number): boolean {
    const now = this.#now();
    this.#sweep(now);
    // Nonces are unique per key, not globally; " " can appear in neither a key id nor a nonce.
    const id = `${keyId} ${nonce}`;
    const pos = this.#index.get(id);
    if (pos !== undefined) {
      if ((this.#expires[pos - this.#base] as number) > now) return true;
      this.#index.delete(id);
    }
    // Queued records, stale ones included, never exceed maxEntries: that bounds the arrays too.
    while (this.#ids.length - this.#head >= this.#max) this.#shift();
    this.#index.set(id, this.#base + this.#ids.length);
    this.#ids.push(id);
    this.#expires.push(now + ttlMs);
    return false;
  }

  /**
   * Drops a nonce again, for a request that was refused after `seen` (e.g. the database was down):
   * the store never recorded it, so an identical retry is not a replay.
   */
  forget(keyId: string, nonce: string): void {
    this.#index.delete(`${keyId} ${nonce}`);
  }

  get size(): number {
    return this.#index.size;
  }

  clear(): void {
    this.#index.clear();
    this.#ids = [];
    this.#expires = [];
    this.#base = 0;
    this.#head = 0;
  }

  /** Removes the oldest queued record (and its nonce, unless that was re-recorded since). */
  #shift(): void {
    const id = this.#ids[this.#head] as string;
    if (this.#index.get(id) === this.#base + this.#head) this.#index.delete(id);
    this.#ids[this.#head] = '';
    this.#head++;
    // Compact once the consumed front is at least half the arrays: amortised O(1) per record.
    if (this.#head >= 1024 && this.#head * 2 >= this.#ids.length) {
      this.#ids = this.#ids.slice(this.#head);
      this.#expires = this.#expires.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
  }

  /**
   * Removes expired records from the old end, a few per call. With one TTL for everything, queue
   * order is expiry order; with mixed TTLs the sweep may stop early, and `maxEntries` still bounds memory.
   */
  #sweep(now: number): void {
    for (let n = 0; n < SWEEP_PER_CALL && this.#head < this.#ids.length && (this.#expires[this.#head] as number) <= now; n++) {
      this.#shift();
    }
  }
}
