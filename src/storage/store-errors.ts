import { ObjectStoreError } from './object-store.js';

/** fail_reason is a 255-character column; leave room for the engine's own prefix. */
const MAX_MESSAGE = 200;

/** The HTTP status of an SDK service error, if it has one. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** The error's code name (S3 error code, or a Node system error code), without its message. */
export function errorCodeOf(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; Code?: unknown } | null;
  for (const v of [e?.Code, e?.code, e?.name]) {
    if (typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) && v !== 'Error') return v;
  }
  return 'UnknownError';
}

/**
 * Wraps a failure as an ObjectStoreError whose message names only the operation, the
 * object and the error code: SDK messages may echo request details, so they stay in `cause`.
 */
export function storeError(store: string, op: string, target: string, err: unknown): ObjectStoreError {
  if (err instanceof ObjectStoreError) return err;
  const status = httpStatusOf(err);
  const detail = status === undefined ? errorCodeOf(err) : `${errorCodeOf(err)} (HTTP ${status})`;
  let message = `${store} ${op} ${target} failed: ${detail}`;
  if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 3)}...`;
  return new ObjectStoreError(message, { cause: err });
}
