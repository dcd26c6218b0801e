import { MemoryObjectStore } from '../../src/storage/memory-store.js';

/** The shared memory store, counting PUTs and GETs per key (to check each object is fetched once). */
export class EngineMemoryStore extends MemoryObjectStore {
  puts = 0;
  readonly gets = new Map<string, number>();

  override async put(container: string, key: string, body: Buffer): Promise<void> {
    this.puts++;
    return super.put(container, key, body);
  }

  override async get(container: string, key: string, range?: { start: number; end: number }, into?: ArrayBuffer): Promise<Buffer> {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    return super.get(container, key, range, into);
  }

  /** Replaces a stored object's bytes through the store API (tests corrupt backups with it). */
  async mutate(container: string, key: string, change: (body: Buffer) => Buffer): Promise<void> {
    await super.put(container, key, change(await super.get(container, key)));
  }
}
