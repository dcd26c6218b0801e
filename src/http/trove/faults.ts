import type { FastifyReply } from 'fastify';

/** Trove's fault names per status (trove/common/wsgi.py); anything else 5xx is instanceFault. */
const TROVE_FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflict',
  413: 'overLimit',
  415: 'badMediaType',
  422: 'unprocessableEntity',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function troveFaultName(status: number): string {
  return TROVE_FAULT_NAMES[status] ?? (status >= 500 ? 'instanceFault' : 'badRequest');
}

/** Sends {"<name>": {"code": N, "message": "..."}} (section 1.7). */
export function sendTroveFault(reply: FastifyReply, status: number, message: string, retryAfter?: number): FastifyReply {
  const inner: Record<string, unknown> = { code: status, message };
  if (retryAfter !== undefined) {
    inner.retryAfter = String(retryAfter);
    reply.header('Retry-After', String(retryAfter));
  }
  return reply
    .code(status)
    .type('application/json')
    .send({ [troveFaultName(status)]: inner });
}
