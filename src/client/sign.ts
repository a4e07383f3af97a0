/**
 * Request signing for the govgate push API — the wire contract in one file (docs/signing.md).
 *
 *   Authorization: GOVGATE-HMAC-SHA256 keyId=<id>, timestamp=<unix s>, nonce=<16–64 [A-Za-z0-9_-]>, signature=<base64>
 *
 * String to sign, five lines joined by "\n":
 *   METHOD \n path?query (exactly as sent) \n timestamp \n nonce \n hex digest of the raw body
 *
 * This file imports nothing but `node:crypto`, so department engineers can copy `src/client/`
 * into their own project. The gateway's verifier (`src/auth/signing.ts`) re-exports the primitives
 * below instead of re-implementing them: one implementation of the contract means the client and
 * the server cannot drift apart.
 */
import { createHash, createHmac, randomBytes, type KeyObject } from 'node:crypto';

/** Same values as `HmacAlgorithm` in the gateway config; spelled out here to keep this file standalone. */
export type SigningAlgorithm = 'hmac-sha256' | 'hmac-sm3';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['hmac-sha256', 'hmac-sm3'];

/** The `Authorization` scheme that names each algorithm. */
export const SCHEME_OF: Readonly<Record<SigningAlgorithm, string>> = {
  'hmac-sha256': 'GOVGATE-HMAC-SHA256',
  'hmac-sm3': 'GOVGATE-HMAC-SM3',
};

/** The hash an algorithm uses, both for the body digest and inside the HMAC. */
export const HASH_OF: Readonly<Record<SigningAlgorithm, 'sha256' | 'sm3'>> = {
  'hmac-sha256': 'sha256',
  'hmac-sm3': 'sm3',
};

export const NONCE_MIN_LENGTH = 16;
export const NONCE_MAX_LENGTH = 64;
/** Compiled once: the verifier runs these on every request. */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
/** Same shape as a key id in the department files; it excludes ",", "=" and spaces, which would break the header. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

const EMPTY = new Uint8Array(0);

/** Hex digest of the raw body bytes: SHA-256 for hmac-sha256, SM3 for hmac-sm3. An absent body is the empty string. */
export function bodyDigest(algorithm: SigningAlgorithm, body: Uint8Array | string | undefined): string {
  return createHash(HASH_OF[algorithm]).update(body ?? EMPTY).digest('hex');
}

/** The five lines that are signed. The method is upper-cased here so both sides agree whatever the caller passes. */
export function stringToSign(method: string, pathWithQuery: string, timestamp: number | string, nonce: string, bodyDigestHex: string): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${bodyDigestHex}`;
}

/**
 * Base64 HMAC of the string to sign. The key is the secret's UTF-8 bytes (a `KeyObject` is accepted
 * so the gateway can build it once per key instead of once per request).
 */
export function sign(algorithm: SigningAlgorithm, secret: string | KeyObject, toSign: string): string {
  return createHmac(HASH_OF[algorithm], secret).update(toSign, 'utf8').digest('base64');
}

/** A fresh nonce: 24 random bytes → 32 base64url characters, inside the allowed alphabet and length. */
export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The request target as the HTTP request line will carry it: path plus query, no fragment.
 *
 * Both absolute URLs and bare paths go through WHATWG URL parsing, which is exactly what `fetch`
 * does before sending, so non-ASCII characters and spaces are percent-encoded the same way here as
 * on the wire. (A client that sends with another tool must sign the bytes that tool sends.)
 */
export function requestTarget(url: string | URL): string {
  const u = new URL(url, 'http://govgate.invalid');
  u.hash = '';
  // `search` is '' both for "/p" and "/p?"; fetch sends the "?" of the latter, so the signature must include it.
  const bareQuestionMark = u.search === '' && u.href.endsWith('?');
  return u.pathname + u.search + (bareQuestionMark ? '?' : '');
}

export interface SignRequestOptions {
  readonly method: string;
  /** Absolute URL or path with query, e.g. `/api/v1/batches?dryRun=1`. */
  readonly url: string | URL;
  /** Exactly the bytes that will be sent; strings are UTF-8. Omit for GET. */
  readonly body?: Uint8Array | string | undefined;
  readonly keyId: string;
  readonly secret: string;
  /** Default `hmac-sha256`; must match the algorithm the key is configured with at the gateway. */
  readonly algorithm?: SigningAlgorithm;
  /** Default: the current time. */
  readonly now?: Date;
  /** Default: a fresh random nonce. Pass one only for reproducible examples — never reuse one. */
  readonly nonce?: string;
}

/**
 * The headers to add to a request: just `Authorization`. `Content-Type` is left to the caller,
 * because it is not signed and its charset must describe the body the caller actually sends.
 */
export function signRequest(opts: SignRequestOptions): Record<string, string> {
  const algorithm = opts.algorithm ?? 'hmac-sha256';
  if (!SIGNING_ALGORITHMS.includes(algorithm)) throw new TypeError(`unknown signing algorithm ${String(algorithm)}`);
  const timestamp = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('now must be a valid date after 1970');
  const nonce = opts.nonce ?? newNonce();
  // Checked here so a mistake fails loudly on the department's side instead of as a 401 from the gateway.
  if (!NONCE_PATTERN.test(nonce)) throw new RangeError(`the nonce must be ${NONCE_MIN_LENGTH}–${NONCE_MAX_LENGTH} characters from A–Z a–z 0–9 _ -`);
  if (!KEY_ID_PATTERN.test(opts.keyId)) throw new RangeError(`the key id ${JSON.stringify(opts.keyId)} is not valid (1–64 letters, digits, _ . : -, starting with a letter or digit)`);
  const toSign = stringToSign(opts.method, requestTarget(opts.url), timestamp, nonce, bodyDigest(algorithm, opts.body));
  const signature = sign(algorithm, opts.secret, toSign);
  return {
    Authorization: `${SCHEME_OF[algorithm]} keyId=${opts.keyId}, timestamp=${timestamp}, nonce=${nonce}, signature=${signature}`,
  };
}
