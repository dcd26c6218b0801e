import { Readable } from 'node:stream';
import { ObjectNotFoundError, ObjectStoreError, type ObjectStore } from './object-store.js';

/**
 * An in-memory ObjectStore for engine unit tests (STYLE rule 8): same semantics as the
 * real stores, and buffers are copied on put and get so callers cannot alias stored bytes.
 * A missing container is an error on put, like S3's NoSuchBucket.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly serviceName: string;
  readonly defaultContainer: string;
  readonly wantsContentMd5: boolean = false;
  private readonly containers = new Map<string, Map<string, Buffer>>();

  constructor(options: { serviceName?: string; defaultContainer?: string } = {}) {
    this.serviceName = options.serviceName ?? 'cinder.backup.drivers.s3.S3BackupDriver';
    this.defaultContainer = options.defaultContainer ?? 'volumebackups';
  }

  async ensureContainer(container: string): Promise<void> {
    if (!this.containers.has(container)) this.containers.set(container, new Map());
  }

  async put(container: string, key: string, body: Buffer): Promise<void> {
    this.bucket(container, 'put').set(key, Buffer.from(body));
  }

  async get(container: string, key: string, range?: { start: number; end: number }, into?: ArrayBuffer): Promise<Buffer> {
    const body = this.object(container, key);
    if (range && (range.start < 0 || range.start > range.end || range.start >= body.length)) {
      throw new ObjectStoreError(`memory get ${container}/${key} failed: range outside ${body.length} bytes`);
    }
    const part = range ? body.subarray(range.start, Math.min(range.end + 1, body.length)) : body;
    if (!into || into.byteLength < part.length) return Buffer.from(part);
    const out = Buffer.from(into, 0, part.length);
    out.set(part);
    return out;
  }

  async getStream(container: string, key: string): Promise<Readable> {
    return Readable.from([Buffer.from(this.object(container, key))]);
  }

  async head(container: string, key: string): Promise<{ size: number } | null> {
    const body = this.containers.get(container)?.get(key);
    return body ? { size: body.length } : null;
  }

  async list(container: string, prefix: string): Promise<string[]> {
    return [...this.bucket(container, 'list').keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async deleteMany(container: string, keys: string[]): Promise<void> {
    const bucket = this.bucket(container, 'delete');
    for (const key of keys) bucket.delete(key);
  }

  async close(): Promise<void> {}

  /** Every stored key and its size, for assertions in tests. */
  snapshot(container: string): Map<string, number> {
    return new Map([...(this.containers.get(container) ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.length]));
  }

  private bucket(container: string, op: string): Map<string, Buffer> {
    const bucket = this.containers.get(container);
    if (!bucket) throw new ObjectStoreError(`memory ${op} ${container} failed: NoSuchBucket`);
    return bucket;
  }

  private object(container: string, key: string): Buffer {
    const body = this.containers.get(container)?.get(key);
    if (!body) throw new ObjectNotFoundError(container, key);
    return body;
  }
}
