/**
 * The HTTP surface: push API, receipts, health, OpenAPI docs. `buildApp` returns a fastify
 * instance that tests drive over real sockets or `inject()`; `src/server.ts` runs it.
 *
 * Bodies are never parsed by fastify: every body arrives as raw bytes (one catch-all parser), the
 * signature is checked over exactly those bytes, and the wire layer decides format and charset.
 * So none of fastify's content-type parsing pitfalls apply, and the raw payload can be kept as sent.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { randomUUID } from 'node:crypto';
import { GovgateError, isGovgateError } from '../errors.js';
import { sendError } from './errors.js';
import type { Config } from '../config/schema.js';
import type { Department } from '../config/departments.js';
import type { Validator } from '../schemas/validate.js';
import { ERROR_SCHEMA, FINDING_SCHEMA, RECEIPT_SCHEMA } from './receipt.js';
import { pushRoutes, type PushStore } from './push.js';
import { authenticator } from './auth.js';
import { adminAuthenticator, type AdminAuthenticate } from './admin-auth.js';
import type { GatewayMetrics } from '../metrics.js';
import { inlineReader, type PayloadReader } from '../pipeline/intake-pool.js';
import { intakeLimits } from '../pipeline/intake.js';

export interface AppOptions {
  readonly config: Config;
  readonly departments: readonly Department[];
  readonly validator: Validator;
  /** Reads pushed payloads; default: inline, with `validator` and the departments' mappings. */
  readonly reader?: PayloadReader;
  readonly store: PushStore & { ready(): Promise<{ ok: boolean; detail: Record<string, unknown> }> };
  /** A pino logger (with secret redaction); none: silent. */
  readonly logger?: FastifyBaseLogger;
  readonly now?: () => Date;
  /** Served at /metrics (behind the admin token when admin.tokens is set). */
  readonly metrics?: GatewayMetrics;
  /** Extra routes (the admin API), registered after the push routes. */
  readonly plugins?: readonly ((app: FastifyInstance, admin: AdminAuthenticate) => Promise<void>)[];
}

/** fastify's own errors, translated into stable codes. */
function fromFastifyError(err: { code?: string; statusCode?: number; message: string }, req: FastifyRequest, limit: number): GovgateError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GovgateError('GOVGATE_PAYLOAD_TOO_LARGE', { limit, found: req.headers['content-length'] ?? `> ${limit}` });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GovgateError('GOVGATE_PAYLOAD_EMPTY');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GovgateError('GOVGATE_REQUEST_INVALID', { detail: `${err.code}: ${err.message}` });
    default:
      if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
        return new GovgateError('GOVGATE_REQUEST_INVALID', { detail: err.message });
      }
      return new GovgateError('GOVGATE_INTERNAL', { requestId: req.id });
  }
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const app = Fastify({
    ...(opts.logger === undefined ? { logger: false } : { loggerInstance: opts.logger }),
    bodyLimit: config.server.bodyLimitBytes,
    requestTimeout: config.server.requestTimeoutMs,
    // While draining on SIGTERM, new requests get 503 and go to another instance or retry.
    return503OnClosing: true,
    trustProxy: config.server.trustProxy,
    genReqId: () => randomUUID(),
    ajv: { customOptions: { strict: false } },
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.server.bodyLimitBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    const gov = isGovgateError(err) ? err : fromFastifyError(err, req, config.server.bodyLimitBytes);
    if (gov.statusCode >= 500) req.log.error({ err }, 'request failed');
    const retryAfter = gov.statusCode === 503 ? 1 : undefined;
    return sendError(reply, gov, retryAfter === undefined ? {} : { retryAfter });
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, new GovgateError('GOVGATE_ROUTE_NOT_FOUND', { method: req.method, url: req.url.split('?')[0] })));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'govgate 政务数据交换网关 push API',
        description: '部门推送权力事项、办件和督办记录的接口；请求须签名（见 docs/signing.md）。 / The API departments push power items, cases and supervision notices to; requests are signed (docs/signing.md).',
        version: '1',
      },
      components: {
        securitySchemes: {
          govgateHmac: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'GOVGATE-HMAC-SHA256 keyId=…, timestamp=…, nonce=…, signature=…' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'admin.tokens' },
        },
      },
    },
    transform: ({ schema, url }) => {
      // Bodies are raw bytes for fastify; the documented body lives in `x-body` so that fastify
      // never validates (or coerces) it, and the OpenAPI document still shows it.
      const s = schema as Record<string, unknown> | undefined;
      if (s === undefined || s['x-body'] === undefined) return { schema: s as never, url };
      const { 'x-body': body, ...rest } = s;
      return { schema: { ...rest, body } as never, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addSchema(FINDING_SCHEMA);

  app.get('/healthz', { schema: { summary: '进程存活 / process is up', tags: ['ops'] } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { summary: '数据库可达且结构已迁移 / database reachable and migrated', tags: ['ops'] } }, async (_req, reply) => {
    const r = await opts.store.ready().catch((err: unknown) => ({ ok: false, detail: { error: err instanceof Error ? err.message : String(err) } }));
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', ...r.detail });
  });

  const auth = authenticator({
    departments: opts.departments,
    clockSkewSeconds: config.auth.clockSkewSeconds,
    nonceTtlSeconds: config.auth.nonceTtlSeconds,
    ...(opts.now === undefined ? {} : { now: opts.now }),
  });
  await app.register(pushRoutes, {
    prefix: '/api/v1',
    // At thousands of requests a second an info line per request costs ~5 % of the CPU and says less
    // than the stored receipt does; warnings and failures are still logged.
    logLevel: 'warn',
    auth,
    store: opts.store,
    reader: opts.reader ?? inlineReader({ validator: opts.validator, limits: intakeLimits(config), departments: opts.departments }),
    maxInFlight: config.server.maxInFlight,
    schemas: { receipt: RECEIPT_SCHEMA, error: ERROR_SCHEMA },
  });
  const admin = adminAuthenticator(config.admin.tokens);
  const metrics = opts.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', { logLevel: 'warn', schema: { summary: 'Prometheus 指标 / Prometheus metrics', tags: ['ops'], security: [{ adminToken: [] }] } }, async (req, reply) => {
      // Without admin tokens (demo, or a deployment that relies on network isolation) the figures
      // are open like /healthz; with them, a scraper needs one (Prometheus: authorization.credentials).
      if (config.admin.tokens.length > 0) admin(req);
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    });
  }
  for (const plugin of opts.plugins ?? []) await plugin(app, admin);
  return app;
}

