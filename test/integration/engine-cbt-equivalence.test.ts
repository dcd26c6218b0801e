import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataName, sha256FileName } from '../../src/engine/backup-format.js';
import type { BackupEngine, BackupLocation, BackupRequest } from '../../src/engine/engine-api.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { FileVolumeBackend } from '../../src/volumes/file-backend.js';
import { engineFixture } from '../helpers/engine-fixtures.js';
import { open } from 'node:fs/promises';

/**
 * Changed-block tracking must never change what an incremental stores: for random volumes and
 * random writes made through the tracked path, an incremental that reads only the changed blocks
 * and one that reads and hashes everything (today's path) write the same `_sha256file`, the same
 * `_metadata` (up to the prefix) and the same objects, byte for byte. Both ways a CBT chunk
 * travels to the worker are covered: in the chunk's own layout, and packed (only the blocks read,
 * back to back) when they are fewer than 1/32 of a chunk.
 */

const BLOCK = 4096;
const OBJECT = 4 * BLOCK; // several chunks, some untouched by any write
const WIDE_OBJECT = 128 * BLOCK; // a chunk with at most 3 blocks read travels packed

describe('CBT incremental = full-hash incremental', { timeout: 240_000 }, () => {
  let fx: Awaited<ReturnType<typeof engineFixture>>;
  let engine: BackupEngine;
  let wideEngine: BackupEngine;
  let volumes: FileVolumeBackend;
  beforeAll(async () => {
    fx = await engineFixture();
    engine = fx.engine({ blockSize: BLOCK, objectSize: OBJECT });
    wideEngine = fx.engine({ blockSize: BLOCK, objectSize: WIDE_OBJECT });
    volumes = new FileVolumeBackend(fx.dir, BLOCK);
    await volumes.init();
  });
  afterAll(async () => fx.cleanup());

  // A write: where, how long, and what (random bytes, zeros, or the bytes already there).
  const write = fc.record({
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 3 * BLOCK }),
    kind: fc.constantFrom('random', 'zeros', 'same', 'noise'),
    seed: fc.integer({ min: 1, max: 255 }),
  });
  type Write = { at: number; length: number; kind: string; seed: number };

  async function apply(vol: string, size: number, w: Write): Promise<void> {
    const at = w.at % size;
    const length = Math.min(w.length, size - at);
    const path = volumes.volumePath(vol);
    await volumes.trackWrite(vol, at, length, async () => {
      const fh = await open(path, 'r+');
      try {
        const body = Buffer.alloc(length);
        if (w.kind === 'same') await fh.read(body, 0, length, at);
        else if (w.kind === 'random') for (let i = 0; i < length; i++) body[i] = (w.seed * 131 + i * 7 + ((i * i) >> 3)) & 0xff;
        // Incompressible: the object is stored raw, from the chunk's buffer or the packed one.
        else if (w.kind === 'noise')
          for (let i = 0, x = w.seed; i < length; i++) (x = (Math.imul(x, 1103515245) + 12345) >>> 0), (body[i] = x >>> 24);
        await fh.write(body, 0, length, at);
      } finally {
        await fh.close();
      }
    });
  }

  async function objects(store: MemoryObjectStore, loc: BackupLocation): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    for (const key of await store.list(loc.container, loc.prefix)) {
      const body = (await store.get(loc.container, key)).toString('latin1').split(loc.prefix).join('<prefix>');
      out.set(key.slice(loc.prefix.length), Buffer.from(body, 'latin1'));
    }
    return out;
  }

  /** The property, for one engine: volumes of 1 to `maxBlocks` blocks plus a tail. */
  async function sameStoredBytes(eng: BackupEngine, maxBlocks: number, runs: number): Promise<void> {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: maxBlocks }),
        fc.integer({ min: 0, max: BLOCK - 1 }),
        fc.array(write, { maxLength: 6 }),
        fc.array(write, { minLength: 0, maxLength: 8 }),
        async (blocks, tail, before, after) => {
          const size = blocks * BLOCK + tail;
          const vol = randomUUID();
          const store = new MemoryObjectStore();
          await volumes.createVolume(vol, size);
          for (const w of before) await apply(vol, size, w);
          const path = volumes.volumePath(vol);
          const req = (location: BackupLocation, parent: BackupRequest['parent'], backupId: string): BackupRequest => ({
            ...fx.request(path, size, location, parent),
            backupId,
            createdAt: new Date(Date.UTC(2026, 11, 6)),
          });
          const full = fx.location();
          const fullId = randomUUID();
          const stamp = await volumes.volumeStamp(vol);
          await eng.backup(store, req(full, null, fullId));
          await volumes.resetChangedBlocks(vol, fullId, stamp);

          for (const w of after) await apply(vol, size, w);
          const cbt = await volumes.changedBlocks(vol, fullId, size, BLOCK);
          expect(cbt.fallback).toBeNull();
          const parent = { backupId: fullId, location: full };
          const incId = randomUUID();
          const [withCbt, withoutCbt] = [fx.location(), fx.location()];
          const a = await eng.backup(store, { ...req(withCbt, parent, incId), changedBlocks: cbt.changed });
          const b = await eng.backup(store, req(withoutCbt, parent, incId));
          expect(a.bytesRead).toBeLessThanOrEqual(b.bytesRead);
          expect(b.bytesRead).toBe(size);
          const [x, y] = [await objects(store, withCbt), await objects(store, withoutCbt)];
          expect([...x.keys()].sort()).toEqual([...y.keys()].sort());
          for (const [k, v] of x) expect(v.equals(y.get(k)!), k).toBe(true);
          // The hash lists themselves, not only their normalized copies.
          const sha = async (l: BackupLocation) => (await store.get(l.container, sha256FileName(l.prefix))).toString('utf8');
          expect(await sha(withCbt)).toBe(await sha(withoutCbt));
          expect(x.has(metadataName(''))).toBe(true);
          await volumes.deleteVolume(vol);
        },
      ),
      { seed: 20261206, numRuns: runs },
    );
  }

  /** A new volume of `size` random bytes, its full backup, and its change map reset by that backup. */
  async function fullyBackedUp(eng: BackupEngine, size: number, seed: number) {
    const vol = randomUUID();
    const store = new MemoryObjectStore();
    await volumes.createVolume(vol, size);
    await apply(vol, size, { at: 0, length: size, kind: 'random', seed });
    const path = volumes.volumePath(vol);
    const full = fx.location();
    const fullId = full.prefix.slice(-36);
    const stamp = await volumes.volumeStamp(vol);
    await eng.backup(store, fx.request(path, size, full));
    await volumes.resetChangedBlocks(vol, fullId, stamp);
    return { vol, store, path, full, fullId };
  }

  it('writes identical _sha256file, _metadata and objects (fast-check, seeded)', async () => {
    await sameStoredBytes(engine, 40, 60);
  });

  it('the same with chunks of 128 blocks, where chunks with few blocks read travel packed (fast-check, seeded)', async () => {
    await sameStoredBytes(wideEngine, 300, 40);
  });

  it('a packed chunk whose changed block does not compress stores it raw, as the full-hash incremental does', async () => {
    const size = 2 * 128 * BLOCK;
    const { vol, store, path, full, fullId } = await fullyBackedUp(wideEngine, size, 5);
    // Chunk 0: one block of noise (packed, stored raw); chunk 1: 40 blocks (read in place).
    await apply(vol, size, { at: 5 * BLOCK, length: BLOCK, kind: 'noise', seed: 77 });
    await apply(vol, size, { at: 140 * BLOCK, length: 40 * BLOCK, kind: 'random', seed: 8 });
    const cbt = await volumes.changedBlocks(vol, fullId, size, BLOCK);
    const parent = { backupId: fullId, location: full };
    const [withCbt, withoutCbt] = [fx.location(), fx.location()];
    const req = (location: BackupLocation): BackupRequest => ({
      ...fx.request(path, size, location, parent),
      backupId: fullId.replace(/^./, 'f'),
      createdAt: new Date(Date.UTC(2026, 11, 7)),
    });
    const a = await wideEngine.backup(store, { ...req(withCbt), changedBlocks: cbt.changed });
    await wideEngine.backup(store, req(withoutCbt));
    expect(a.bytesRead).toBe(41 * BLOCK);
    const meta = (l: BackupLocation) => store.get(l.container, metadataName(l.prefix)).then((b) => JSON.parse(b.toString('utf8')));
    const entries = (m: { objects: Array<Record<string, { offset: number; compression: string | null }>> }) =>
      m.objects.map((o) => Object.values(o)[0]!);
    const cbtEntries = entries(await meta(withCbt));
    expect(cbtEntries).toEqual(entries(await meta(withoutCbt)));
    expect(cbtEntries.find((e) => e.offset === 5 * BLOCK)?.compression).toBe('none');
    const [x, y] = [await objects(store, withCbt), await objects(store, withoutCbt)];
    for (const [k, v] of x) expect(v.equals(y.get(k)!), k).toBe(true);
  });

  it('reads only the changed blocks: an untouched volume reads nothing, one changed block reads one block', async () => {
    const size = 64 * BLOCK;
    const { vol, store, path, full, fullId } = await fullyBackedUp(engine, size, 3);
    const parent = { backupId: fullId, location: full };
    let cbt = await volumes.changedBlocks(vol, fullId, size, BLOCK);
    const none = await engine.backup(store, { ...fx.request(path, size, fx.location(), parent), changedBlocks: cbt.changed });
    expect(none).toMatchObject({ bytesRead: 0, objectCount: 0 });
    await apply(vol, size, { at: 10 * BLOCK + 5, length: 10, kind: 'random', seed: 9 });
    cbt = await volumes.changedBlocks(vol, fullId, size, BLOCK);
    const one = await engine.backup(store, { ...fx.request(path, size, fx.location(), parent), changedBlocks: cbt.changed });
    expect(one).toMatchObject({ bytesRead: BLOCK, objectCount: 1 });
  });
});
