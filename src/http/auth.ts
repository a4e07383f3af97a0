/**
 * Who is calling: the department whose key signed the request. Signatures are checked over the
 * raw body bytes; a nonce already seen by this instance is refused at once, and the store refuses
 * one seen by any instance when it commits.
 */
import type { FastifyRequest } from 'fastify';
import { GovgateError } from '../errors.js';
import type { Department, DepartmentKey } from '../config/departments.js';
import { verifyRequest, type KeyLookupResult, type VerifiedRequest } from '../auth/signing.js';
import { NonceCache } from '../auth/nonce-cache.js';

export interface Authenticated {
  readonly deptCode: string;
  readonly keyId: string;
  readonly nonce: string;
  readonly department: Department;
  /** The body digest the signature was checked over; the store reuses it (raw.digests). */
  readonly bodyDigest: VerifiedRequest['bodyDigest'];
}

export type Authenticate = ((req: FastifyRequest, body: Uint8Array) => Authenticated) & {
  /** Un-sees a nonce whose request was not committed (database down), so an identical retry is not a replay. */
  forget(keyId: string, nonce: string): void;
};

export function authenticator(opts: {
  departments: readonly Department[];
  clockSkewSeconds: number;
  nonceTtlSeconds: number;
  now?: () => Date;
}): Authenticate {
  const byKey = new Map<string, { key: DepartmentKey; department: Department }>();
  for (const d of opts.departments) for (const key of d.keys) byKey.set(key.id, { key, department: d });
  const lookup = (keyId: string): KeyLookupResult | undefined => {
    const hit = byKey.get(keyId);
    return hit === undefined ? undefined : { key: hit.key, deptCode: hit.department.code };
  };
  const now = opts.now ?? (() => new Date());
  const nonces = new NonceCache({ now: () => now().getTime() });
  const ttlMs = opts.nonceTtlSeconds * 1000;

  const authenticate = (req: FastifyRequest, body: Uint8Array): Authenticated => {
    const v = verifyRequest({
      method: req.method, url: req.url, headers: req.headers, body, now: now(), keys: lookup, clockSkewSeconds: opts.clockSkewSeconds,
    });
    if (nonces.seen(v.keyId, v.nonce, ttlMs)) throw new GovgateError('GOVGATE_AUTH_REPLAY', { found: v.nonce });
    return { deptCode: v.deptCode, keyId: v.keyId, nonce: v.nonce, department: byKey.get(v.keyId)!.department, bodyDigest: v.bodyDigest };
  };
  return Object.assign(authenticate, { forget: (keyId: string, nonce: string) => nonces.forget(keyId, nonce) });
}
