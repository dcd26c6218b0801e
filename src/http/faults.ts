import type { DomainErrorKind } from '../domain/common/errors.js';

/** An HTTP-level error that is not a domain rule (bad version header, unknown route...). */
export class HttpFault extends Error {
  constructor(
    readonly statusCode: number,
    readonly faultName: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'HttpFault';
  }
}

/** Cinder's fault key per status (cinder/api/openstack/wsgi.py:Fault); others are computeFault. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? 'computeFault';
}

export const STATUS_OF_KIND: Record<DomainErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  not_supported: 405,
  conflict: 409,
  over_limit: 413,
  unavailable: 503,
};

/** The one shape of every error body: {"<name>": {"code": N, "message": "..."}}. */
export function faultBody(status: number, message: string, retryAfter?: number): Record<string, unknown> {
  const inner: Record<string, unknown> = { code: status, message };
  if (retryAfter !== undefined) inner.retryAfter = String(retryAfter);
  return { [faultName(status)]: inner };
}

/** The one 415 text: it names what is accepted (curl sends form-urlencoded unless told otherwise). */
export const UNSUPPORTED_MEDIA_TYPE =
  'Unsupported Content-Type: requests take application/json; the volume data extension (PUT .../data) takes application/octet-stream';
