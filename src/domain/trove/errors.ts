/**
 * Trove's errors that have no Cinder twin (the common DomainError covers 400/401/403/404/
 * 409/413/503): 422 unprocessableEntity (instance busy, backup running) and 501
 * notImplemented (replication, unsupported operations). Messages are Trove's wording.
 */
export type TroveErrorKind = 'unprocessable' | 'not_implemented';

export class TroveError extends Error {
  constructor(
    readonly kind: TroveErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'TroveError';
  }
}

/** 422 "Instance <id> is not ready. (Status is BUILD)." and friends. */
export function unprocessable(message: string): TroveError {
  return new TroveError('unprocessable', message);
}

/** 501 notImplemented. */
export function notImplemented(message: string): TroveError {
  return new TroveError('not_implemented', message);
}
