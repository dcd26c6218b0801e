/**
 * A byte-capped LRU of rendered list pages, each tagged with the list version it was rendered
 * at (list-cache.ts decides what may be cached and checks the version). One per app instance;
 * capacity 0 disables it.
 */
export interface CachedPage {
  version: string;
  body: Buffer;
}

interface Entry extends CachedPage {
  cost: number;
}

// NOTE: what an entry costs beside its body (the key is UTF-16 in V8, the Map and objects ~100 bytes).
const overhead = (key: string) => key.length * 2 + 100;

export class PageCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly capacityBytes: number) {}

  get enabled(): boolean {
    return this.capacityBytes > 0;
  }

  /** Bytes held now (bodies, keys and overhead), never above the capacity. */
  get size(): number {
    return this.bytes;
  }

  /** The page cached under `key` if it was rendered at `version` (then it becomes the most recent). */
  get(key: string, version: string): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e || e.version !== version) {
      this.misses++;
      return undefined;
    }
    // Map keeps insertion order: re-inserting makes it the most recently used.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.hits++;
    return e.body;
  }

  /** Caches `body` as the page at `version`, evicting the least recently used; a page above capacity is not kept. */
  set(key: string, version: string, body: Buffer): void {
    this.delete(key);
    const cost = body.length + overhead(key);
    if (cost > this.capacityBytes) return;
    while (this.bytes + cost > this.capacityBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
    this.entries.set(key, { version, body, cost });
    this.bytes += cost;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.cost;
  }
}
