/**
 * Verifying signed requests from departments (the contract is in docs/signing.md).
 *
 * The primitives — string to sign, body digest, HMAC, header format — come from the department
 * client (`src/client/sign.ts`) rather than being written twice: whatever the client signs is, by
 * construction, what the gateway checks.
 *
 * Checks run cheapest first (header syntax, key lookup, algorithm, clock) so a flood of stale or
 * garbage requests costs no hashing; a request that gets past them costs one body digest and one
 * HMAC. Nonce *replay* is not checked here: the store records nonces in the ingest transaction, so
 * every gateway instance agrees. `NonceCache` (./nonce-cache.ts) is an optional fast first filter.
 *
 * Error details end up in the HTTP response body, so nothing here puts a secret or the expected
 * signature into them.
 */
import { createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { GovgateError } from '../errors.js';
import type { DepartmentKey } from '../config/departments.js';
import type { HmacAlgorithm } from '../config/schema.js';
import {
  HASH_OF, KEY_ID_PATTERN, NONCE_MAX_LENGTH, NONCE_MIN_LENGTH, NONCE_PATTERN, SCHEME_OF,
  bodyDigest, sign, stringToSign, type SigningAlgorithm,
} from '../client/sign.js';

export { bodyDigest, sign, stringToSign, SCHEME_OF, NONCE_PATTERN, KEY_ID_PATTERN } from '../client/sign.js';

// The client spells the algorithms out to stay standalone; fail the build if the two lists diverge.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const algorithmsAgree: Same<SigningAlgorithm, HmacAlgorithm> = true;
void algorithmsAgree;

/** The header format, quoted in errors so a department sees what to send. */
export const HEADER_FORMAT = 'Authorization: GOVGATE-HMAC-SHA256 keyId=…, timestamp=…, nonce=…, signature=…';

/**
 * A well-formed header is under 300 characters (scheme 19, key id ≤ 64, timestamp ≤ 12, nonce ≤ 64,
 * signature 44, names and separators). The cap bounds the parsing work an anonymous caller can cause.
 */
export const MAX_HEADER_LENGTH = 512;

const ALGORITHM_OF_SCHEME: ReadonlyMap<string, HmacAlgorithm> = new Map(
  (Object.entries(SCHEME_OF) as [HmacAlgorithm, string][]).map(([alg, scheme]) => [scheme, alg]),
);

const TIMESTAMP_PATTERN = /^[0-9]{1,12}$/;
/** Standard Base64. The value is compared as the exact string the gateway computes (padded, 44 characters). */
const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{1,128}={0,2}$/;

export interface ParsedAuth {
  readonly algorithm: HmacAlgorithm;
  /** Canonical spelling, e.g. `GOVGATE-HMAC-SHA256`. */
  readonly scheme: string;
  readonly keyId: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly nonce: string;
  /** Base64, exactly as sent. */
  readonly signature: string;
}

type Problem = 'absent' | 'too-long' | 'scheme' | 'syntax' | 'unknown-parameter' | 'duplicate-parameter' | 'missing-parameter' | 'invalid-value';

/**
 * GOVGATE_AUTH_MISSING's message is "…请提供 {expected} / …provide {expected}", so `expected` says
 * precisely what to fix; `problem` and `parameter` are for programs, `format` for people.
 */
function malformed(problem: Problem, zh: string, en: string, parameter?: string): GovgateError {
  return new GovgateError('GOVGATE_AUTH_MISSING', {
    expected: zh, expectedEn: en, problem, ...(parameter === undefined ? {} : { parameter }), format: HEADER_FORMAT,
  });
}

/** A caller-supplied value quoted in a message: short, and JSON-quoted so odd characters stay visible. */
function quote(value: string, max = 32): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

/**
 * Parses `GOVGATE-HMAC-<ALG> keyId=…, timestamp=…, nonce=…, signature=…`. Parameters in any order,
 * separated by commas with optional spaces; unknown or repeated parameters are refused so that two
 * parsers (a proxy's and ours) can never read one header differently. The scheme is matched
 * case-insensitively, as RFC 9110 says auth schemes are; parameter names are exact.
 *
 * Throws GOVGATE_AUTH_MISSING, whose message says what is wrong.
 */
export function parseAuthorization(header: string | undefined): ParsedAuth {
  if (header === undefined || header.trim() === '') {
    throw new GovgateError('GOVGATE_AUTH_MISSING', { expected: HEADER_FORMAT, problem: 'absent', format: HEADER_FORMAT });
  }
  if (header.length > MAX_HEADER_LENGTH) {
    throw malformed('too-long',
      `不超过 ${MAX_HEADER_LENGTH} 个字符的 Authorization 请求头（实际 ${header.length} 个字符）`,
      `an Authorization header of at most ${MAX_HEADER_LENGTH} characters (found ${header.length})`);
  }
  const text = header.trim();
  const space = text.indexOf(' ');
  const schemeText = space < 0 ? text : text.slice(0, space);
  const algorithm = ALGORITHM_OF_SCHEME.get(schemeText.toUpperCase());
  if (algorithm === undefined) {
    // A lone value (no space) is more likely a bare credential than a scheme name: don't echo it
    // into a message that may be logged.
    const foundZh = space < 0 ? '一个没有认证方案的值' : quote(schemeText, 24);
    const foundEn = space < 0 ? 'a value without a scheme' : quote(schemeText, 24);
    throw malformed('scheme',
      `认证方案 GOVGATE-HMAC-SHA256 或 GOVGATE-HMAC-SM3（实际为${foundZh}）`,
      `the scheme GOVGATE-HMAC-SHA256 or GOVGATE-HMAC-SM3 (found ${foundEn})`);
  }
  const rest = space < 0 ? '' : text.slice(space + 1).trim();
  if (rest === '') {
    throw malformed('missing-parameter', 'keyId、timestamp、nonce、signature 四个参数', 'the parameters keyId, timestamp, nonce and signature');
  }

  let keyId: string | undefined;
  let timestamp: string | undefined;
  let nonce: string | undefined;
  let signature: string | undefined;
  const parts = rest.split(',');
  for (let i = 0; i < parts.length; i++) {
    const part = (parts[i] as string).trim();
    if (part === '') {
      throw malformed('syntax', `以逗号分隔的“名称=值”参数（第 ${i + 1} 个参数为空）`, `name=value parameters separated by commas (parameter ${i + 1} is empty)`);
    }
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw malformed('syntax', `以逗号分隔的“名称=值”参数（${quote(part)} 缺少“=”）`, `name=value parameters separated by commas (${quote(part)} has no "=")`);
    }
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    let previous: string | undefined;
    switch (name) {
      case 'keyId': previous = keyId; keyId = value; break;
      case 'timestamp': previous = timestamp; timestamp = value; break;
      case 'nonce': previous = nonce; nonce = value; break;
      case 'signature': previous = signature; signature = value; break;
      default:
        throw malformed('unknown-parameter',
          `仅 keyId、timestamp、nonce、signature 四个参数（不认识 ${quote(name)}）`,
          `only the parameters keyId, timestamp, nonce and signature (unknown: ${quote(name)})`, name);
    }
    if (previous !== undefined) {
      throw malformed('duplicate-parameter', `每个参数只出现一次（${name} 重复）`, `each parameter once (${name} appears twice)`, name);
    }
  }

  if (keyId === undefined) throw missingParameter('keyId');
  if (timestamp === undefined) throw missingParameter('timestamp');
  if (nonce === undefined) throw missingParameter('nonce');
  if (signature === undefined) throw missingParameter('signature');

  if (!KEY_ID_PATTERN.test(keyId)) {
    throw malformed('invalid-value', `合法的 keyId：1–64 个字母、数字或 _ . : -（实际为 ${quote(keyId)}）`, `a valid keyId: 1–64 letters, digits or _ . : - (found ${quote(keyId)})`, 'keyId');
  }
  if (!TIMESTAMP_PATTERN.test(timestamp)) {
    throw malformed('invalid-value', `timestamp 为 Unix 时间秒数（整数，实际为 ${quote(timestamp)}）`, `timestamp as whole Unix seconds (found ${quote(timestamp)})`, 'timestamp');
  }
  if (!NONCE_PATTERN.test(nonce)) {
    const lengthOk = nonce.length >= NONCE_MIN_LENGTH && nonce.length <= NONCE_MAX_LENGTH;
    throw malformed('invalid-value',
      `nonce 为 ${NONCE_MIN_LENGTH}–${NONCE_MAX_LENGTH} 个字符，仅含 A–Z a–z 0–9 _ -（${lengthOk ? '含有其他字符' : `实际 ${nonce.length} 个字符`}）`,
      `a nonce of ${NONCE_MIN_LENGTH}–${NONCE_MAX_LENGTH} characters from A–Z a–z 0–9 _ - (${lengthOk ? 'it has other characters' : `found ${nonce.length}`})`, 'nonce');
  }
  if (!SIGNATURE_PATTERN.test(signature)) {
    throw malformed('invalid-value', 'signature 为 HMAC 结果的 Base64 编码', 'signature as the Base64 of the HMAC', 'signature');
  }
  return { algorithm, scheme: SCHEME_OF[algorithm], keyId, timestamp: Number(timestamp), nonce, signature };
}

function missingParameter(name: string): GovgateError {
  return malformed('missing-parameter', `参数 ${name}`, `the parameter ${name}`, name);
}

// ── verification ─────────────────────────────────────────────────────────────────────────────────

export interface KeyLookupResult {
  readonly key: DepartmentKey;
  readonly deptCode: string;
}

export interface VerifyRequestInput {
  readonly method: string;
  /** The request target exactly as received (path and query), e.g. fastify's `request.url`. */
  readonly url: string;
  /** Node-style headers (lower-case names); only `authorization` is read. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The raw body bytes as received; absent for GET. */
  readonly body?: Uint8Array | undefined;
  readonly now: Date;
  readonly keys: (keyId: string) => KeyLookupResult | undefined;
  readonly clockSkewSeconds: number;
}

export interface VerifiedRequest {
  readonly keyId: string;
  readonly deptCode: string;
  readonly nonce: string;
  /** Unix seconds, as signed. */
  readonly timestamp: number;
  readonly algorithm: HmacAlgorithm;
  /**
   * The body's digest, hex, as the signature covered it (sha256 for hmac-sha256, SM3 for
   * hmac-sm3): the store keeps both digests of every raw body, and need not hash it again.
   */
  readonly bodyDigest: { readonly algorithm: 'sha256' | 'sm3'; readonly hex: string };
}

interface PreparedKey {
  readonly hmacKey: KeyObject;
  /** `notAfter` in ms; +∞ when absent, NaN-safe (an unparseable date counts as already expired). */
  readonly notAfterMs: number;
}

/**
 * Per-key work done once, not per request. Department keys are frozen objects loaded at start, so
 * a WeakMap keyed by the object is exact and is released when the configuration is replaced.
 */
const prepared = new WeakMap<DepartmentKey, PreparedKey>();

function prepare(key: DepartmentKey): PreparedKey {
  let p = prepared.get(key);
  if (p === undefined) {
    const parsed = key.notAfter === undefined ? Number.POSITIVE_INFINITY : Date.parse(key.notAfter);
    p = {
      hmacKey: createSecretKey(Buffer.from(key.secret, 'utf8')),
      notAfterMs: Number.isNaN(parsed) ? Number.NEGATIVE_INFINITY : parsed,
    };
    prepared.set(key, p);
  }
  return p;
}

function authorizationHeader(headers: VerifyRequestInput['headers']): string | undefined {
  const value = headers.authorization ?? headers.Authorization;
  if (value === undefined || typeof value === 'string') return value;
  // Node folds duplicates of `authorization` into one; an array only comes from other callers.
  if (value.length === 1) return value[0];
  throw malformed('syntax', '恰好一个 Authorization 请求头', 'exactly one Authorization header');
}

/**
 * Checks one request. Returns who signed it; throws GOVGATE_AUTH_MISSING, GOVGATE_AUTH_KEY_UNKNOWN,
 * GOVGATE_AUTH_SIGNATURE_INVALID or GOVGATE_AUTH_CLOCK_SKEW. The caller still has to refuse a
 * reused nonce (GOVGATE_AUTH_REPLAY).
 */
export function verifyRequest(input: VerifyRequestInput): VerifiedRequest {
  const auth = parseAuthorization(authorizationHeader(input.headers));

  const found = input.keys(auth.keyId);
  const nowMs = input.now.getTime();
  if (found === undefined) throw new GovgateError('GOVGATE_AUTH_KEY_UNKNOWN', { found: auth.keyId, problem: 'unknown' });
  const { key, deptCode } = found;
  if (!key.active) throw new GovgateError('GOVGATE_AUTH_KEY_UNKNOWN', { found: auth.keyId, problem: 'inactive' });
  const p = prepare(key);
  // Judged by server time, not the signed timestamp: a caller must not extend a key's life by back-dating.
  if (nowMs > p.notAfterMs) throw new GovgateError('GOVGATE_AUTH_KEY_UNKNOWN', { found: auth.keyId, problem: 'expired' });

  // A key has one algorithm. Accepting the other scheme would give every key two valid signatures
  // and defeat a deployment that allows only hmac-sm3.
  if (auth.algorithm !== key.algorithm) {
    throw new GovgateError('GOVGATE_AUTH_SIGNATURE_INVALID', {
      problem: 'algorithm-mismatch',
      expected: SCHEME_OF[key.algorithm],
      found: auth.scheme,
      detail: `密钥 ${auth.keyId} 的算法为 ${key.algorithm}，应使用认证方案 ${SCHEME_OF[key.algorithm]}，实际为 ${auth.scheme}`,
      detailEn: `the key ${auth.keyId} uses ${key.algorithm}, so the scheme must be ${SCHEME_OF[key.algorithm]}, found ${auth.scheme}`,
    });
  }

  const skewMs = input.clockSkewSeconds * 1000;
  const signedMs = auth.timestamp * 1000;
  if (signedMs < nowMs - skewMs || signedMs > nowMs + skewMs) {
    throw new GovgateError('GOVGATE_AUTH_CLOCK_SKEW', {
      found: new Date(signedMs).toISOString(), limit: input.clockSkewSeconds, expected: input.now.toISOString(),
    });
  }

  const digestHex = bodyDigest(auth.algorithm, input.body);
  const toSign = stringToSign(input.method, input.url, auth.timestamp, auth.nonce, digestHex);
  const expected = sign(auth.algorithm, p.hmacKey, toSign);
  if (!constantTimeEqual(auth.signature, expected)) {
    // The string to sign holds nothing secret (the caller sent every part of it) and is what a
    // department engineer needs to find the difference, as other HMAC APIs also return it.
    throw new GovgateError('GOVGATE_AUTH_SIGNATURE_INVALID', { problem: 'mismatch', stringToSign: toSign });
  }
  return {
    keyId: auth.keyId, deptCode, nonce: auth.nonce, timestamp: auth.timestamp, algorithm: auth.algorithm,
    bodyDigest: { algorithm: HASH_OF[auth.algorithm], hex: digestHex },
  };
}

/**
 * Compares two ASCII strings without a data-dependent early exit. `timingSafeEqual` throws on
 * different lengths, and the length of a valid signature is public (44 characters), so a length
 * mismatch may return at once — after a dummy comparison, so both paths do similar work.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'latin1');
  const bb = Buffer.from(b, 'latin1');
  if (ab.length !== bb.length) {
    timingSafeEqual(bb, bb);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
