import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError } from '../../domain/common/errors.js';
import { clientErrorHandlerWith } from '../client-errors.js';
import { isDatabaseDown } from '../error-handler.js';
import { HttpFault, STATUS_OF_KIND } from '../faults.js';

/**
 * Every error of the CBR listener leaves as CBR's body, {"error_code": "BackupService.NNNN",
 * "error_msg": "..."}: 404 for an unknown id in the path, 400 for the rest of the service's
 * rules and for bad input (9900, naming the field); the gateway's 401/403
 * {"error_code": "APIGW.03xx", "error_msg", "request_id"} for authentication; 503 when the
 * database or Keystone is down; a masked 500 for anything unexpected. Every response carries
 * X-Request-Id (the SDKs read it).
 */

export const PARAM_INVALID = 'BackupService.9900';
const SYSTEM_ERROR = 'BackupService.9999';

/** The CBR listener's `clientErrorHandler`: parser errors (431, 408, 400) in CBR's body shape. */
export const cbrClientErrorHandler = clientErrorHandlerWith(
  (_status, message) => ({ error_code: PARAM_INVALID, error_msg: `Invalid parameter: ${message}` }),
  'X-Request-Id',
);

export function sendCbrError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  const body: Record<string, string> = { error_code: code, error_msg: message };
  if (code.startsWith('APIGW.')) body.request_id = reply.request.id;
  return reply.code(status).type('application/json').send(body);
}

/** "vault.billing.size" from "/vault/billing/size" (the body, query or path parameter named by the issue). */
function fieldOf(instancePath: string, params: unknown): string {
  const path = instancePath.split('/').filter((p) => p !== '');
  const keys = (params as { keys?: unknown } | undefined)?.keys;
  if (Array.isArray(keys) && keys.length) path.push(String(keys[0]));
  return path.length ? path.join('.') : 'body';
}

function validationMessage(err: FastifyError): string | null {
  if (!hasZodFastifySchemaValidationErrors(err)) return null;
  const first = err.validation[0];
  if (!first) return 'Invalid parameter: parameter check failed';
  return `Invalid parameter ${fieldOf(first.instancePath, first.params)}: ${first.message}`;
}

function frameworkMessage(err: FastifyError): string | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Invalid parameter Content-Type: only application/json is accepted';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Invalid parameter body: the request body is too large';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'Invalid parameter body: malformed JSON';
    default:
      break;
  }
  if (err instanceof SyntaxError) return 'Invalid parameter body: malformed JSON';
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return `Invalid parameter: ${err.message}`;
  return null;
}

export function cbrErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpFault) {
    if (/^(APIGW|BackupService)\./.test(error.faultName)) return sendCbrError(reply, error.statusCode, error.faultName, error.message);
    return sendCbrError(reply, error.statusCode === 404 ? 404 : 400, PARAM_INVALID, error.message);
  }
  if (error instanceof DomainError) {
    const status = STATUS_OF_KIND[error.kind];
    if (error.kind === 'unauthorized') return sendCbrError(reply, 401, 'APIGW.0301', error.message);
    if (error.kind === 'forbidden') return sendCbrError(reply, 403, 'APIGW.0302', error.message);
    if (error.kind === 'unavailable') {
      if (error.retryAfter !== undefined) reply.header('Retry-After', String(error.retryAfter));
      return sendCbrError(reply, 503, SYSTEM_ERROR, error.message);
    }
    // CBR answers its rule violations with 400 (never 409 or 413); only an unknown id is 404.
    return sendCbrError(reply, status === 404 ? 404 : 400, error.code ?? PARAM_INVALID, error.message);
  }
  const message = validationMessage(error) ?? frameworkMessage(error);
  if (message) return sendCbrError(reply, 400, PARAM_INVALID, message);
  const down = isDatabaseDown(error);
  req.log.error({ err: error }, down ? 'database unavailable' : 'unexpected error');
  if (down) return sendCbrError(reply, 503, SYSTEM_ERROR, 'The service is temporarily unavailable: the database cannot be reached.');
  return sendCbrError(reply, 500, SYSTEM_ERROR, `Internal error; request id ${req.id}.`);
}

/**
 * Fastify's `frameworkErrors` for the CBR listener: routing errors raised before any hook
 * (a malformed %-escape, an over-long parameter), with the X-Request-Id the hooks would set.
 */
export function cbrFrameworkErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id);
  req.log.info({ code: error.code }, error.message);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    sendCbrError(reply, 404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.');
  else sendCbrError(reply, 400, PARAM_INVALID, 'Invalid parameter: malformed request url');
}

/** Installs X-Request-Id, the error handler and the unknown-route answer (the gateway's APIGW.0101). */
export function registerCbrErrors(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.setErrorHandler(cbrErrorHandler);
  app.setNotFoundHandler((_req, reply) =>
    sendCbrError(reply, 404, 'APIGW.0101', 'The API does not exist or has not been published in the environment.'),
  );
}
