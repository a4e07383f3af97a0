/** The one shape of an error answer: a stable code, the message in both languages, the details. */
import type { FastifyReply } from 'fastify';
import type { ErrorCode, GovgateError } from '../errors.js';

export interface ErrorBody {
  code: ErrorCode;
  message: { zh: string; en: string };
  details?: Record<string, unknown>;
  /** Set when the payload was kept anyway (it was authenticated): fetch the receipt to see it. */
  receiptId?: string;
}

export function sendError(reply: FastifyReply, err: GovgateError, extra: { receiptId?: string; retryAfter?: number } = {}): FastifyReply {
  if (extra.retryAfter !== undefined) void reply.header('retry-after', String(extra.retryAfter));
  const body: ErrorBody = { code: err.code, message: err.messages, details: { ...err.details } };
  if (extra.receiptId !== undefined) body.receiptId = extra.receiptId;
  return reply.code(err.statusCode).send(body);
}
