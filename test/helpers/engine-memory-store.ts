import { Readable } from 'node:stream';
import { ObjectNotFoundError, type ObjectStore } from '../../src/storage/object-store.js';

/** An in-memory ObjectStore for engine tests (copies bodies in and out, like a real store would). */
export class EngineMemoryStore implements ObjectStore {
  readonly serviceName = 'test.memory';
  readonly defaultContainer = 'volumebackups';
  readonly containers = new Map<string, Map<string, Buffer>>();
  puts = 0;
  /** GETs per key, to check each object is fetched once. */
  readonly gets = new Map<string, number>();

  private bucket(container: string): Map<string, Buffer> {
    let b = this.containers.get(container);
    if (!b) this.containers.set(container, (b = new Map()));
    return b;
  }

  async ensureContainer(container: string): Promise<void> {
    this.bucket(container);
  }

  async put(container: string, key: string, body: Buffer): Promise<void> {
    this.puts++;
    this.bucket(container).set(key, Buffer.from(body));
  }

  async get(container: string, key: string, range?: { start: number; end: number }): Promise<Buffer> {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    const b = this.bucket(container).get(key);
    if (!b) throw new ObjectNotFoundError(container, key);
    return Buffer.from(range ? b.subarray(range.start, range.end + 1) : b);
  }

  async getStream(container: string, key: string): Promise<Readable> {
    return Readable.from([await this.get(container, key)]);
  }

  async head(container: string, key: string): Promise<{ size: number } | null> {
    const b = this.bucket(container).get(key);
    return b ? { size: b.length } : null;
  }

  async list(container: string, prefix: string): Promise<string[]> {
    return [...this.bucket(container).keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async deleteMany(container: string, keys: string[]): Promise<void> {
    for (const k of keys) this.bucket(container).delete(k);
  }

  async close(): Promise<void> {}
}
