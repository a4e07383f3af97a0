/**
 * A record's stored form and digest. The digest is sha256 over the canonical JSON (RFC 8785) in
 * UTF-8, so the same content gives the same digest whatever key order or number spelling the sender
 * used; the stored text is that same canonical JSON, encoded once: the bytes hashed are the bytes
 * stored (migration 0004 lets `sha256(content::text) = digest` be checked in SQL). Only when the
 * canonical form escapes a character PostgreSQL's JSON functions refuse (\u0000, a lone surrogate)
 * is a cleaned copy stored instead (pgJson), so reading a stored record never fails.
 *
 * Pure and thread-agnostic: intake workers (src/pipeline/intake-pool.ts) run it as well as the store.
 */
import { canonicalJson } from '../schemas/canonical.js';
import { sha256 } from './chain.js';
import { pgJson } from './queries/json.js';

// The escapes PostgreSQL's JSON functions refuse (\u0000, lone surrogates), as queries/json.ts tests for them.
const JSON_SUSPECT = /\\u0000|\\ud[89a-f]/;

export interface EncodedContent {
  /** Lower-case hex sha256 of the canonical JSON. */
  readonly digest: string;
  /** The JSON text to store, UTF-8. */
  readonly stored: Buffer;
}

export function encodeContent(content: unknown): EncodedContent {
  const canonical = canonicalJson(content);
  const bytes = Buffer.from(canonical, 'utf8');
  const digest = sha256(bytes).toString('hex');
  return { digest, stored: JSON_SUSPECT.test(canonical) ? Buffer.from(pgJson(content), 'utf8') : bytes };
}
