/**
 * Who may use the admin interface (dead letters, destinations, metrics): a bearer token from
 * `admin.tokens`. Tokens are compared in constant time, and the caller is recorded by a short
 * fingerprint of the token (never the token) — the "who" of every re-drive and pause.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { GovgateError } from '../errors.js';

export interface AdminIdentity {
  /** `admin:<first 8 hex of sha256(token)>` */
  readonly actor: string;
}

export type AdminAuthenticate = (req: FastifyRequest) => AdminIdentity;

const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export function adminAuthenticator(tokens: readonly string[]): AdminAuthenticate {
  const known = tokens.map((t) => ({ digest: digest(t), actor: `admin:${digest(t).toString('hex').slice(0, 8)}` }));
  return (req) => {
    if (known.length === 0) {
      throw new GovgateError('GOVGATE_ADMIN_AUTH_REQUIRED', { detail: '未配置 admin.tokens，管理接口已停用 / admin.tokens is not configured, so the admin interface is off' });
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]{1,512})$/.exec(header.trim()) : null;
    if (match === null) throw new GovgateError('GOVGATE_ADMIN_AUTH_REQUIRED', { detail: '缺少 Bearer 令牌 / no bearer token' });
    // Comparing digests keeps the comparison constant-time whatever the token lengths.
    const given = digest(match[1]!);
    const hit = known.find((k) => timingSafeEqual(k.digest, given));
    if (hit === undefined) throw new GovgateError('GOVGATE_ADMIN_AUTH_REQUIRED', { detail: '令牌无效 / the token is not valid' });
    return { actor: hit.actor };
  };
}
