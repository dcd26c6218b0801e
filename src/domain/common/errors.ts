/**
 * The one error model. Domain code throws these; the HTTP layer
 * renders each kind once into Cinder's fault body ({"badRequest": {...}} etc.).
 * Messages are user-facing and follow Cinder's wording where clients show them.
 */
export type DomainErrorKind =
  | 'invalid' // 400 badRequest
  | 'unauthorized' // 401 unauthorized
  | 'forbidden' // 403 forbidden
  | 'not_found' // 404 itemNotFound
  | 'not_supported' // 405 badMethod
  | 'conflict' // 409 conflictingRequest
  | 'over_limit' // 413 overLimit
  | 'unavailable'; // 503 serviceUnavailable

export class DomainError extends Error {
  /** A service-specific code (CBR's BackupService.NNNN), for the listeners whose error body carries one. */
  declare readonly code?: string;

  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** Seconds for Retry-After / retryAfter (quota errors use 0). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/** 400 with Cinder's "Invalid <what>: <reason>" wording, e.g. invalid('backup', 'Backup status must be available'). */
export function invalid(what: 'backup' | 'volume' | 'snapshot' | 'input received' | null, reason: string): DomainError {
  return new DomainError('invalid', what ? `Invalid ${what}: ${reason}` : reason);
}

/** 404 "<Resource> <id> could not be found." */
export function notFound(resource: 'Backup' | 'Volume' | 'Snapshot' | string, id: string): DomainError {
  return new DomainError('not_found', `${resource} ${id} could not be found.`);
}

/** 403 "Policy doesn't allow <rule> to be performed." */
export function forbidden(rule: string): DomainError {
  return new DomainError('forbidden', `Policy doesn't allow ${rule} to be performed.`);
}

/** 413 overLimit for quota errors, with Retry-After 0 as Cinder sends. */
export function overLimit(message: string): DomainError {
  return new DomainError('over_limit', message, 0);
}
