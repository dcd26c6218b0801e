import { createHash } from 'node:crypto';
import { open, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVolumeImage } from '../../bench/volume-image.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { changeRandomBlocks, engineFixture } from '../helpers/engine-fixtures.js';

let fx: Awaited<ReturnType<typeof engineFixture>>;
beforeEach(async () => (fx = await engineFixture()));
afterEach(async () => fx.cleanup());

const KiB = 1024;

/**
 * A memory store that records each PUT's Content-MD5 and the size of the buffer each data GET was
 * offered to read into, and can hold data PUTs and GETs until released or failed.
 */
class GatedStore extends MemoryObjectStore {
  override readonly wantsContentMd5: boolean;
  readonly md5s = new Map<string, string | undefined>();
  readonly intoSizes: number[] = [];
  /** The same for each read of a `_metadata` or `_sha256file`. */
  readonly documentIntoSizes: number[] = [];
  /** Per PUT of a `_sha256file`: the size of the memory its body views. */
  readonly hashListBufferSizes: number[] = [];
  waiting = 0;
  private gate: { open: boolean; failWith: Error | null; wake: Array<() => void> } = { open: true, failWith: null, wake: [] };

  constructor(wantsContentMd5: boolean) {
    super();
    this.wantsContentMd5 = wantsContentMd5;
  }

  hold(): void {
    this.gate = { open: false, failWith: null, wake: [] };
  }

  release(failWith: Error | null = null): void {
    this.gate.open = true;
    this.gate.failWith = failWith;
    for (const w of this.gate.wake.splice(0)) w();
  }

  override async put(container: string, key: string, body: Buffer, options?: { md5?: string }): Promise<void> {
    if (/-\d{5}$/.test(key) && !this.gate.open) {
      this.waiting++;
      await new Promise<void>((resolve) => this.gate.wake.push(resolve));
      this.waiting--;
    }
    if (this.gate.failWith && /-\d{5}$/.test(key)) throw this.gate.failWith;
    this.md5s.set(key, options?.md5);
    if (key.endsWith('_sha256file')) this.hashListBufferSizes.push(body.buffer.byteLength);
    return super.put(container, key, body);
  }

  override async get(container: string, key: string, range?: { start: number; end: number }, into?: ArrayBuffer): Promise<Buffer> {
    if (/_(metadata|sha256file)$/.test(key)) this.documentIntoSizes.push(into?.byteLength ?? 0);
    if (/-\d{5}$/.test(key)) {
      this.intoSizes.push(into?.byteLength ?? 0);
      if (!this.gate.open) {
        this.waiting++;
        await new Promise<void>((resolve) => this.gate.wake.push(resolve));
        this.waiting--;
      }
    }
    return super.get(container, key, range, into);
  }
}

/** One chunk per 64 KiB object of the fixture engine: 40 chunks, seeded. */
const size = 40 * 64 * KiB;
async function fortyChunkImage(seed: number): Promise<string> {
  const src = join(fx.dir, 'src');
  await writeVolumeImage(src, size, undefined, seed);
  return src;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `n` PUTs are held, then a little longer so that a leak past `n` would show. */
async function heldReaches(store: GatedStore, n: number): Promise<number> {
  for (let i = 0; i < 200 && store.waiting < n; i++) await sleep(50);
  await sleep(300);
  return store.waiting;
}

describe('backup pipeline', () => {
  it('passes the Content-MD5 of every stored body when the store sends it; otherwise skips hashing compressed bodies', async () => {
    const size = 1024 * KiB + 4096;
    const src = join(fx.dir, 'src');
    await writeVolumeImage(src, size, undefined, 3);
    for (const wants of [true, false]) {
      const store = new GatedStore(wants);
      const loc = fx.location();
      await fx.engine().backup(store, fx.request(src, size, loc));
      const data = [...store.md5s.keys()].filter((k) => /-\d{5}$/.test(k));
      expect(data.length).toBe(Math.ceil(size / (64 * KiB)));
      let skipped = 0;
      for (const key of data) {
        const body = await store.get(loc.container, key);
        const sent = store.md5s.get(key);
        // Raw and all-zero objects have their md5 for free (computed for _metadata, or cached) and pass it.
        if (sent === undefined) skipped++;
        else expect(sent).toBe(createHash('md5').update(body).digest('base64'));
      }
      if (wants) expect(skipped).toBe(0);
      else expect(skipped).toBeGreaterThan(data.length / 4);
    }
  });

  it('holds at most chunksInFlight chunks while uploads stall, then finishes when they resume', async () => {
    const src = await fortyChunkImage(5);
    const store = new GatedStore(true);
    store.hold();
    const loc = fx.location();
    const backup = fx.engine({ chunksInFlight: 3, uploadConcurrency: 8 }).backup(store, fx.request(src, size, loc));
    // One object per chunk (a full backup): a PUT waiting = a chunk held in memory.
    expect(await heldReaches(store, 3)).toBe(3);
    await sleep(300);
    expect(store.waiting).toBe(3);
    store.release();
    const res = await backup;
    expect(res.objectCount).toBe(40);
  });

  it('shares one memory budget between operations: two stalled backups hold chunksInFlight chunks in all', async () => {
    const src = await fortyChunkImage(8);
    const store = new GatedStore(false);
    store.hold();
    const engine = fx.engine({ chunksInFlight: 3, uploadConcurrency: 8 });
    const both = [fx.location(), fx.location()].map((loc) => engine.backup(store, fx.request(src, size, loc)));
    expect(await heldReaches(store, 3)).toBe(3);
    store.release();
    for (const res of await Promise.all(both)) expect(res.objectCount).toBe(40);
  });

  it('a failed operation gives its share back: the next one on the same engine completes', async () => {
    const src = await fortyChunkImage(9);
    const store = new GatedStore(false);
    store.hold();
    const engine = fx.engine({ chunksInFlight: 2 });
    const failing = engine.backup(store, fx.request(src, size, fx.location()));
    expect(await heldReaches(store, 2)).toBe(2);
    store.release(new Error('store went away'));
    await expect(failing).rejects.toThrow('store went away');
    const ok = new GatedStore(false);
    const res = await engine.backup(ok, fx.request(src, size, fx.location()));
    expect(res.objectCount).toBe(40);
  });

  it('a restore fetches ahead into at most one recycled body per worker while GETs stall, then restores every byte', async () => {
    const src = await fortyChunkImage(11);
    const store = new GatedStore(false);
    const loc = fx.location();
    // Room for 8 objects and 8 GETs in flight: only the pool of bodies (one per worker: 2) bounds the GETs.
    const engine = fx.engine({ chunksInFlight: 8, uploadConcurrency: 8 });
    await engine.backup(store, fx.request(src, size, loc));
    store.hold();
    const target = join(fx.dir, 'restored');
    await writeFile(target, '');
    await truncate(target, size);
    const restore = engine.restore(store, { chain: [loc], target: { path: target, sizeBytes: size }, targetIsNew: true });
    expect(await heldReaches(store, 2)).toBe(2);
    store.release();
    await restore;
    expect((await readFile(target)).equals(await readFile(src))).toBe(true);
    // Every 64 KiB object was read into a pooled body (object size + 1 bytes), none into one of its own.
    expect(store.intoSizes).toEqual(Array.from({ length: 40 }, () => 64 * KiB + 1));
  });

  it("hash lists go through pooled buffers: a backup's own and its parent's, each layer's _metadata and _sha256file in a restore", async () => {
    const src = await fortyChunkImage(12);
    const store = new GatedStore(false);
    const engine = fx.engine();
    const full = fx.location();
    await engine.backup(store, fx.request(src, size, full));
    await changeRandomBlocks(src, size, 4096, 30);
    const incr = fx.location();
    await engine.backup(store, fx.request(src, size, incr, { backupId: full.prefix.slice(-36), location: full }));
    // The incremental read its parent's hash list into a pooled chunk buffer; both backups
    // rendered theirs into one (a 46 KiB list in 64 KiB + 1 buffers).
    expect(store.documentIntoSizes).toEqual([64 * KiB + 1]);
    expect(store.hashListBufferSizes).toEqual([64 * KiB + 1, 64 * KiB + 1]);
    store.documentIntoSizes.length = 0;
    const target = join(fx.dir, 'restored');
    await writeFile(target, '');
    await truncate(target, size);
    await engine.restore(store, { chain: [full, incr], target: { path: target, sizeBytes: size }, targetIsNew: true });
    expect((await readFile(target)).equals(await readFile(src))).toBe(true);
    // Both documents of both layers went through a pooled body (the 46 KiB hash list fits), which
    // object bodies reused afterwards: nothing read from the documents views it.
    expect(store.documentIntoSizes).toEqual([64 * KiB + 1, 64 * KiB + 1, 64 * KiB + 1, 64 * KiB + 1]);
  });

  it('compresses full chunks into recycled buffers; an incremental packs the bodies of one chunk into one, each intact', async () => {
    const src = await fortyChunkImage(12);
    /** Per data PUT: the size of the buffer its body views, and where in it. */
    class BodyBuffers extends GatedStore {
      seen: Array<{ bufferBytes: number; at: number }> = [];
      override async put(container: string, key: string, body: Buffer, options?: { md5?: string }): Promise<void> {
        if (/-\d{5}$/.test(key)) this.seen.push({ bufferBytes: body.buffer.byteLength, at: body.byteOffset });
        return super.put(container, key, body, options);
      }
    }
    const store = new BodyBuffers(true);
    const engine = fx.engine();
    const full = fx.location();
    await engine.backup(store, fx.request(src, size, full));
    // Compressed bodies (smaller than their 64 KiB chunk) view a pooled buffer (object size + 1
    // bytes), never one of their own (chunk size - 1 bytes, the frame's capacity).
    const compressed = store.seen.filter((b) => b.bufferBytes !== 64 * KiB);
    expect(compressed.length).toBeGreaterThan(20);
    for (const b of compressed) expect(b).toEqual({ bufferBytes: 64 * KiB + 1, at: 0 });

    // Two changed runs in one chunk (blocks 1 and 5 of chunk 3): their bodies share that buffer, back to back.
    const fh = await open(src, 'r+');
    for (const block of [3 * 16 + 1, 3 * 16 + 5]) await fh.write(Buffer.alloc(4096, `text ${block} `), 0, 4096, block * 4096);
    await fh.close();
    store.seen = [];
    const inc = fx.location();
    await engine.backup(store, fx.request(src, size, inc, { backupId: full.prefix.slice(-36), location: full }));
    expect(store.seen.length).toBe(2);
    expect(store.seen[0]).toEqual({ bufferBytes: 64 * KiB + 1, at: 0 });
    expect(store.seen[1]!.bufferBytes).toBe(64 * KiB + 1);
    expect(store.seen[1]!.at).toBeGreaterThan(0);
    const target = join(fx.dir, 'restored-inc');
    await writeFile(target, '');
    await truncate(target, size);
    await engine.restore(store, { chain: [full, inc], target: { path: target, sizeBytes: size }, targetIsNew: true });
    expect((await readFile(target)).equals(await readFile(src))).toBe(true);
  });

  it('queues hundreds of small PUTs of an incremental without piling listeners on the abort signal', async () => {
    const src = await fortyChunkImage(10);
    const engine = fx.engine({ uploadConcurrency: 1 });
    const store = new GatedStore(false);
    const full = fx.location();
    await engine.backup(store, fx.request(src, size, full));
    const changed = await changeRandomBlocks(src, size, 4096, 200);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const inc = await engine.backup(store, fx.request(src, size, fx.location(), { backupId: full.prefix.slice(-36), location: full }));
      expect(inc.objectCount).toBeGreaterThan(50);
      expect(inc.objectCount).toBeLessThanOrEqual(changed.length);
      await sleep(50); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('gives small bodies 4 upload slots per BACKUP_UPLOAD_CONCURRENCY slot, chunk-sized ones 1', async () => {
    const chunk = 256 * KiB; // a changed 4 KiB block's body is under 1/32 of a chunk
    /** Counts the data PUTs in flight (held included) by the slots they take: under 1/32 of a pooled buffer or not. */
    class CountingStore extends GatedStore {
      readonly inFlight = { small: 0, large: 0 };
      override async put(container: string, key: string, body: Buffer, options?: { md5?: string }): Promise<void> {
        const kind = body.length * 32 < chunk + 1 ? 'small' : 'large';
        const data = /-\d{5}$/.test(key);
        if (data) this.inFlight[kind]++;
        try {
          return await super.put(container, key, body, options);
        } finally {
          if (data) this.inFlight[kind]--;
        }
      }
    }
    const src = await fortyChunkImage(11);
    const engine = fx.engine({ uploadConcurrency: 1, chunksInFlight: 4, objectSize: chunk });
    const store = new CountingStore(false);
    // A full backup: every body is most of a chunk, so one PUT at a time.
    store.hold();
    const full = fx.location();
    const fullBackup = engine.backup(store, fx.request(src, size, full));
    expect(await heldReaches(store, 1)).toBe(1);
    expect(store.inFlight).toEqual({ small: 0, large: 1 });
    store.release();
    await fullBackup;
    // An incremental after scattered 4 KiB changes: one body per changed extent, most of them small.
    await changeRandomBlocks(src, size, 4096, 200);
    store.hold();
    const inc = engine.backup(store, fx.request(src, size, fx.location(), { backupId: full.prefix.slice(-36), location: full }));
    await heldReaches(store, 4);
    expect(store.inFlight.small).toBe(4);
    expect(store.inFlight.large).toBeLessThanOrEqual(1);
    store.release();
    expect((await inc).objectCount).toBeGreaterThan(50);
  });

  it('fails promptly, without hanging, when a stalled upload fails while the reader waits for room', async () => {
    const src = await fortyChunkImage(6);
    const store = new GatedStore(false);
    store.hold();
    const backup = fx.engine({ chunksInFlight: 2 }).backup(store, fx.request(src, size, fx.location()));
    expect(await heldReaches(store, 2)).toBe(2);
    store.release(new Error('store went away'));
    await expect(backup).rejects.toThrow('store went away');
  });
});
