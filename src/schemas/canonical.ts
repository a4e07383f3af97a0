/**
 * Canonical JSON (RFC 8785 JCS: keys sorted by UTF-16 code units, numbers in their shortest
 * ECMAScript form, no whitespace) — the form a record is digested in, so the same content gives
 * the same digest whatever key order or number spelling the sender used.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('value has no JSON form');
  return out;
}

export type DigestAlgorithm = 'sha256' | 'sm3';

/** Hex digest of the canonical form. */
export function contentDigest(value: unknown, algorithm: DigestAlgorithm = 'sha256'): string {
  return createHash(algorithm).update(canonicalJson(value), 'utf8').digest('hex');
}
