import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError } from '../domain/common/errors.js';
import { HttpFault, STATUS_OF_KIND, UNSUPPORTED_MEDIA_TYPE, faultBody } from './faults.js';
import { MIN_VERSION } from './microversion.js';
import { cinderValidationMessage } from './validation.js';

/** Every error leaves as a Cinder fault body; 5xx details are logged, never sent. */

function fromFastify(err: FastifyError): HttpFault | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpFault(415, 'badMediaType', UNSUPPORTED_MEDIA_TYPE);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpFault(413, 'overLimit', 'Request is too large.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpFault(400, 'badRequest', 'Malformed request body');
    default:
      break;
  }
  if (err instanceof SyntaxError) return new HttpFault(400, 'badRequest', 'Malformed request body');
  if (err.statusCode === 429) return new HttpFault(429, 'overLimit', 'Rate limit exceeded: too many requests.', 60);
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new HttpFault(err.statusCode, '', err.message);
  }
  return null;
}

function validationFault(err: FastifyError, req: FastifyRequest): HttpFault | null {
  if (!hasZodFastifySchemaValidationErrors(err)) return null;
  const where = err.validationContext;
  const root = where === 'querystring' ? req.query : where === 'params' ? req.params : where === 'headers' ? req.headers : req.body;
  // fastify-type-provider-zod splits each zod issue into keyword/instancePath/message/params: put it back together.
  const issues = err.validation.map(
    (v) =>
      ({
        ...v.params,
        code: v.keyword,
        message: v.message,
        path: v.instancePath
          .split('/')
          .slice(1)
          .filter((p) => p !== ''),
      }) as unknown as Parameters<typeof cinderValidationMessage>[0][number],
  );
  return new HttpFault(400, 'badRequest', cinderValidationMessage(issues, root));
}

export function sendFault(reply: FastifyReply, status: number, message: string, retryAfter?: number): FastifyReply {
  if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
  return reply
    .code(status)
    .type('application/json')
    .send(faultBody(status, message, retryAfter));
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    if (error instanceof DomainError) return sendFault(reply, STATUS_OF_KIND[error.kind], error.message, error.retryAfter);
    if (error instanceof HttpFault) return sendFault(reply, error.statusCode, error.message, error.retryAfter);
    const fault = validationFault(error, req) ?? fromFastify(error);
    if (fault) return sendFault(reply, fault.statusCode, fault.message, fault.retryAfter);
    const unavailable = isDatabaseDown(error);
    req.log.error({ err: error }, unavailable ? 'database unavailable' : 'unexpected error');
    if (unavailable) return sendFault(reply, 503, 'The service is temporarily unavailable: the database cannot be reached.');
    return sendFault(reply, 500, 'The server has either erred or is incapable of performing the requested operation.');
  });
  app.setNotFoundHandler((_req, reply) => sendFault(reply, 404, 'The resource could not be found.'));
}

/**
 * Fastify's `frameworkErrors` option: errors raised while routing, before any hook runs
 * (a malformed %-escape, an over-long path parameter). Answered as Cinder faults with the
 * headers the hooks would have set.
 */
export function frameworkErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-openstack-request-id', req.id);
  reply.header('x-compute-request-id', req.id);
  reply.header('Vary', 'OpenStack-API-Version');
  reply.header('OpenStack-API-Version', `volume ${MIN_VERSION}`);
  req.log.info({ code: error.code }, error.message);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') sendFault(reply, 404, 'The resource could not be found.');
  else sendFault(reply, 400, 'Malformed request url');
}

/** Connection-level database failures (Postgres restarting, backend killed) become 503, not 500. */
export function isDatabaseDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08006', '08001', '08003'].includes(e.code))
      return true;
  }
  const msg = String(e?.message ?? '');
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(msg);
}
