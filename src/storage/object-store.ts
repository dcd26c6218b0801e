import type { Readable } from 'node:stream';

/**
 * What the backup engine needs from an object store, and nothing more.
 * "container" is Cinder's word: an S3 bucket, or a directory for the posix store.
 * Implementations: s3 (production) and posix (a directory tree; the embedded default).
 */
export interface ObjectStore {
  /** The driver class path recorded as backups.service and exported as backup_service. */
  readonly serviceName: string;
  /** The container used when a backup names none. */
  readonly defaultContainer: string;
  /**
   * True when `put` sends Content-MD5: callers should then pass `md5` computed off the main thread.
   * False lets them skip that md5 (a whole pass over every stored byte) where nothing checks it.
   */
  readonly wantsContentMd5: boolean;

  /** Creates the container if it does not exist. Idempotent. */
  ensureContainer(container: string): Promise<void>;

  /**
   * Stores one whole object, replacing any object of that name (re-puts are idempotent).
   * `md5` (base64 of the body's MD5) is sent as Content-MD5 where the store supports it.
   */
  put(container: string, key: string, body: Buffer, options?: { md5?: string }): Promise<void>;

  /**
   * Reads a whole object (or `range` of it, inclusive end). Throws ObjectNotFoundError when absent.
   * With `into`, a body that fits is read into it and the result views it from offset 0 (the
   * caller recycles it); a longer body gets a buffer of its own.
   */
  get(container: string, key: string, range?: { start: number; end: number }, into?: ArrayBuffer): Promise<Buffer>;

  /** Streams an object. Throws ObjectNotFoundError when absent. */
  getStream(container: string, key: string): Promise<Readable>;

  /** Size of an object, or null when absent. */
  head(container: string, key: string): Promise<{ size: number } | null>;

  /** Every key that starts with `prefix`, in lexical order (paginates internally). */
  list(container: string, prefix: string): Promise<string[]>;

  /** Deletes the keys in batches; keys already gone are not errors. */
  deleteMany(container: string, keys: string[]): Promise<void>;

  /** Releases sockets and timers. */
  close(): Promise<void>;
}

/** The object does not exist. */
export class ObjectNotFoundError extends Error {
  constructor(
    readonly container: string,
    readonly key: string,
  ) {
    super(`object ${container}/${key} not found`);
    this.name = 'ObjectNotFoundError';
  }
}

/** A store operation failed for good (after retries); the message is safe to show as fail_reason. */
export class ObjectStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ObjectStoreError';
  }
}
