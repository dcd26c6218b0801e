import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError } from '../../domain/common/errors.js';
import { TroveError } from '../../domain/trove/errors.js';
import { HttpFault, STATUS_OF_KIND } from '../../http/faults.js';
import { sendTroveFault } from '../../http/trove/faults.js';
import { troveValidationMessage } from '../../http/trove/validation.js';

/**
 * Every error under /v1.0 leaves in Trove's envelope ({"<faultName>": {"code", "message"}}),
 * here in routes/ because it maps domain/trove's TroveError (http/ sees only domain/common): domain errors by
 * kind, validation failures as "Validation error: ...", unknown routes and methods as
 * 404 itemNotFound, anything unexpected as a masked 500 instanceFault.
 */

const TROVE_STATUS: Record<TroveError['kind'], number> = { unprocessable: 422, not_implemented: 501 };

function validation(err: FastifyError, req: FastifyRequest): string | null {
  if (!hasZodFastifySchemaValidationErrors(err)) return null;
  const where = err.validationContext;
  const root = where === 'querystring' ? req.query : where === 'params' ? req.params : req.body;
  const issues = err.validation.map(
    (v) =>
      ({
        ...v.params,
        code: v.keyword,
        message: v.message,
        path: v.instancePath
          .split('/')
          .slice(1)
          .filter((p) => p !== '')
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      }) as unknown as Parameters<typeof troveValidationMessage>[0][number],
  );
  return troveValidationMessage(issues, root);
}

function framework(err: FastifyError): [number, string] | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, 'Unsupported Content-Type'];
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, 'Request is too large.'];
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [400, 'Malformed request body'];
    default:
      break;
  }
  if (err instanceof SyntaxError) return [400, 'Malformed request body'];
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return [err.statusCode, err.message];
  return null;
}

export function troveErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof TroveError) return sendTroveFault(reply, TROVE_STATUS[error.kind], error.message);
  if (error instanceof DomainError) return sendTroveFault(reply, STATUS_OF_KIND[error.kind], error.message, error.retryAfter);
  if (error instanceof HttpFault) return sendTroveFault(reply, error.statusCode, error.message, error.retryAfter);
  const message = validation(error, req);
  if (message) return sendTroveFault(reply, 400, message);
  const fw = framework(error);
  if (fw) return sendTroveFault(reply, fw[0], fw[1]);
  req.log.error({ err: error }, 'unexpected error');
  return sendTroveFault(reply, 500, `Internal Server Error. Please keep this ID to help us figure out what went wrong: (${req.id}).`);
}

/** Installs the Trove error handler and 404 handler on the /v1.0 scope. */
export function registerTroveErrors(app: FastifyInstance): void {
  app.setErrorHandler(troveErrorHandler);
  app.setNotFoundHandler((req, reply) => sendTroveFault(reply, 404, `The resource could not be found.`));
}
