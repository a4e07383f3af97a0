/**
 * The per-department hash chain over raw payloads, as pure functions so the writer (ingest) and
 * the verifier (`govgate audit verify`) cannot drift apart, and so an auditor can re-implement it
 * from docs/storage.md without reading SQL:
 *
 *   chain_hash(n) = SM3( chain_hash(n-1) ‖ SM3(body) ‖ UTF-8(canonical JSON of meta(n)) )
 *   chain_hash(0) = 32 zero bytes
 *
 * meta carries everything about the entry that is not the body (department, sequence number, time,
 * receipt, source, declared type and encoding, size), so none of it can be edited without breaking
 * the chain either. SM3 (GB/T 32905) because Chinese e-government audits expect the national
 * algorithms; sha256 is kept alongside for tools that lack SM3.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../schemas/canonical.js';

export const HASH_BYTES = 32;
export const GENESIS_HASH: Readonly<Uint8Array> = new Uint8Array(HASH_BYTES);

/** Version of the meta layout, hashed with it, so a future layout cannot be mistaken for this one. */
export const CHAIN_META_VERSION = 1;

export interface ChainMeta {
  readonly deptCode: string;
  readonly seq: number;
  readonly receivedAt: Date;
  readonly receiptId: string;
  readonly source: string;
  readonly contentType: string;
  readonly declaredEncoding: string | null;
  readonly sizeBytes: number;
}

export function sm3(data: Uint8Array | string): Buffer {
  return createHash('sm3').update(data).digest();
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** The canonical (RFC 8785) JSON of an entry's meta, the bytes that go into its chain hash. */
export function chainMetaJson(meta: ChainMeta): string {
  return canonicalJson({
    v: CHAIN_META_VERSION,
    dept: meta.deptCode,
    seq: meta.seq,
    // Millisecond precision is all a JS Date holds, and all the column is ever written with.
    receivedAt: meta.receivedAt.toISOString(),
    receiptId: meta.receiptId,
    source: meta.source,
    contentType: meta.contentType,
    declaredEncoding: meta.declaredEncoding,
    sizeBytes: meta.sizeBytes,
  });
}

export function chainHash(prevHash: Uint8Array, bodySm3: Uint8Array, meta: ChainMeta): Buffer {
  if (prevHash.length !== HASH_BYTES || bodySm3.length !== HASH_BYTES) {
    throw new RangeError('chain hashes and body digests are 32 bytes');
  }
  return createHash('sm3').update(prevHash).update(bodySm3).update(chainMetaJson(meta), 'utf8').digest();
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}
