import { randomBytes } from 'node:crypto';
import { open, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeVolumeImage } from '../../bench/volume-image.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { EngineMemoryStore } from '../helpers/engine-memory-store.js';
import { changeRandomBlocks, engineFixture, sameBytes } from '../helpers/engine-fixtures.js';

let fx: Awaited<ReturnType<typeof engineFixture>>;
beforeEach(async () => (fx = await engineFixture()));
afterEach(async () => fx.cleanup());

const KiB = 1024;
const MiB = 1024 * KiB;

async function newTarget(name: string, size: number): Promise<string> {
  const path = join(fx.dir, name);
  await writeFile(path, '');
  await truncate(path, size);
  return path;
}

describe('engine backup and restore round trip', () => {
  const cases = [
    { objectSize: 64 * KiB, size: 3 * MiB + 4097, compression: 'zstd' as const },
    { objectSize: 1 * MiB, size: 5 * MiB + 12345, compression: 'zlib' as const },
    { objectSize: 4 * MiB, size: 9 * MiB - 1, compression: 'none' as const },
    { objectSize: 4 * MiB, size: 4 * MiB, compression: 'zstd' as const },
  ];
  for (const c of cases) {
    it(`restores every byte: ${c.compression}, object ${c.objectSize / KiB} KiB, volume ${c.size} bytes`, async () => {
      const engine = fx.engine({ objectSize: c.objectSize, compression: c.compression });
      const store = new EngineMemoryStore();
      const src = join(fx.dir, 'src');
      await writeVolumeImage(src, c.size, undefined, 7);
      const loc = fx.location();
      const res = await engine.backup(store, fx.request(src, c.size, loc));
      expect(res.objectCount).toBe(Math.ceil(c.size / c.objectSize));
      const keys = await store.list(loc.container, loc.prefix);
      expect(keys).toContain(`${loc.prefix}-00001`);
      expect(keys.slice(-2)).toEqual([`${loc.prefix}_metadata`, `${loc.prefix}_sha256file`]);
      const meta = JSON.parse((await store.get(loc.container, `${loc.prefix}_metadata`)).toString());
      expect(meta.version).toBe('1.0.0');
      const sha = JSON.parse((await store.get(loc.container, `${loc.prefix}_sha256file`)).toString());
      expect(sha.sha256s).toHaveLength(Math.ceil(c.size / 4096));
      const dst = await newTarget('dst', c.size);
      const r = await engine.restore(store, { chain: [loc], target: { path: dst, sizeBytes: c.size }, targetIsNew: true });
      expect(await sameBytes(src, dst, c.size)).toBe(true);
      expect(r.bytesWritten).toBeLessThan(c.size); // zero pages were skipped on the new target
      const v = await engine.verify(store, [loc]);
      expect(v.objectsChecked).toBe(res.objectCount);
      expect(v.bytesChecked).toBe(c.size);
    });
  }

  it('keeps zero regions unallocated in a new sparse target and overwrites junk in an existing one', async () => {
    const size = 8 * MiB;
    const src = join(fx.dir, 'src');
    const fh = await open(src, 'w');
    await fh.write(randomBytes(MiB), 0, MiB, 0); // 1 MiB of data, then 7 MiB of zeros
    await fh.truncate(size);
    await fh.close();
    const engine = fx.engine({ objectSize: MiB });
    const store = new EngineMemoryStore();
    const loc = fx.location();
    await engine.backup(store, fx.request(src, size, loc));
    expect((await store.head(loc.container, `${loc.prefix}-00008`))!.size).toBeLessThan(100);

    const sparse = await newTarget('sparse', size);
    await engine.restore(store, { chain: [loc], target: { path: sparse, sizeBytes: size }, targetIsNew: true });
    expect(await sameBytes(src, sparse, size)).toBe(true);
    expect((await stat(sparse)).blocks * 512).toBeLessThanOrEqual(MiB + 64 * KiB);

    const junk = join(fx.dir, 'junk');
    await writeFile(junk, randomBytes(size));
    const r = await engine.restore(store, { chain: [loc], target: { path: junk, sizeBytes: size }, targetIsNew: false });
    expect(r.bytesWritten).toBe(size);
    expect(await sameBytes(src, junk, size)).toBe(true);
  });

  it('an incremental after ~1% changed blocks uploads little and restores identically', async () => {
    const size = 16 * MiB + 1000;
    const src = join(fx.dir, 'src');
    await writeVolumeImage(src, size, undefined, 3);
    const engine = fx.engine({ objectSize: MiB });
    const store = new EngineMemoryStore();
    const full = fx.location();
    const fullRes = await engine.backup(store, fx.request(src, size, full));
    const changed = await changeRandomBlocks(src, size, 4096, Math.ceil(size / 4096 / 100));
    const inc = fx.location();
    const incRes = await engine.backup(store, fx.request(src, size, inc, { backupId: full.prefix.slice(-36), location: full }));
    expect(incRes.objectCount).toBeGreaterThan(0);
    expect(incRes.objectCount).toBeLessThanOrEqual(changed.length);
    expect(incRes.storedBytes).toBeLessThan(fullRes.storedBytes / 5);
    const meta = JSON.parse((await store.get(inc.container, `${inc.prefix}_metadata`)).toString());
    expect(meta.parent_id).toBe(full.prefix.slice(-36));
    for (const o of meta.objects) {
      const { offset, length } = Object.values(o)[0] as { offset: number; length: number };
      expect(Math.floor(offset / MiB)).toBe(Math.floor((offset + length - 1) / MiB)); // never crosses a chunk
    }
    const dst = await newTarget('dst', size);
    await engine.restore(store, { chain: [full, inc], target: { path: dst, sizeBytes: size }, targetIsNew: true });
    expect(await sameBytes(src, dst, size)).toBe(true);
  });

  it('a chain of 3 incrementals restores identically, fetching each needed object once', async () => {
    const size = 6 * MiB + 333;
    const src = join(fx.dir, 'src');
    await writeVolumeImage(src, size, undefined, 11);
    const engine = fx.engine({ objectSize: 256 * KiB, compression: 'zlib' });
    const store = new EngineMemoryStore();
    const chain = [fx.location()];
    await engine.backup(store, fx.request(src, size, chain[0]!));
    for (let i = 0; i < 3; i++) {
      await changeRandomBlocks(src, size, 4096, 20);
      // Also turn a region into zeros: a new target must not keep older non-zero bytes there.
      const fh = await open(src, 'r+');
      await fh.write(Buffer.alloc(8192), 0, 8192, (i + 1) * 65536);
      await fh.close();
      const parent = chain[chain.length - 1]!;
      const loc = fx.location();
      await engine.backup(store, fx.request(src, size, loc, { backupId: parent.prefix.slice(-36), location: parent }));
      chain.push(loc);
    }
    for (const isNew of [true, false]) {
      store.gets.clear();
      const dst = isNew ? await newTarget('new', size) : join(fx.dir, 'old');
      if (!isNew) await writeFile(dst, randomBytes(size));
      await engine.restore(store, { chain, target: { path: dst, sizeBytes: size }, targetIsNew: isNew });
      expect(await sameBytes(src, dst, size)).toBe(true);
      const dataGets = [...store.gets].filter(([k]) => /-\d{5}$/.test(k));
      expect(Math.max(...dataGets.map(([, n]) => n))).toBe(1);
    }
  });

  it('an unchanged volume gives an incremental with 0 data objects and a full hash list', async () => {
    const size = 2 * MiB;
    const src = join(fx.dir, 'src');
    await writeVolumeImage(src, size);
    const engine = fx.engine();
    const store = new EngineMemoryStore();
    const full = fx.location();
    await engine.backup(store, fx.request(src, size, full));
    const inc = fx.location();
    const res = await engine.backup(store, fx.request(src, size, inc, { backupId: 'p', location: full }));
    expect(res.objectCount).toBe(0);
    expect(await store.list(inc.container, inc.prefix)).toEqual([`${inc.prefix}_metadata`, `${inc.prefix}_sha256file`]);
    const sha = JSON.parse((await store.get(inc.container, `${inc.prefix}_sha256file`)).toString());
    expect(sha.sha256s).toHaveLength(size / 4096);
  });

  it('works the same against the real posix store: full + incremental restore identically, delete empties the prefix', async () => {
    const size = 3 * MiB + 999;
    const src = join(fx.dir, 'src');
    await writeVolumeImage(src, size, undefined, 13);
    const engine = fx.engine({ objectSize: MiB, compression: 'zlib' });
    const store = new PosixObjectStore(join(fx.dir, 'store'));
    const full = fx.location();
    await engine.backup(store, fx.request(src, size, full));
    await changeRandomBlocks(src, size, 4096, 8);
    const inc = fx.location();
    const res = await engine.backup(store, fx.request(src, size, inc, { backupId: 'p', location: full }));
    expect(res.objectCount).toBeGreaterThan(0);
    const dst = await newTarget('dst', size);
    await engine.restore(store, { chain: [full, inc], target: { path: dst, sizeBytes: size }, targetIsNew: true });
    expect(await sameBytes(src, dst, size)).toBe(true);
    await engine.deleteBackup(store, inc);
    expect(await store.list(inc.container, inc.prefix)).toEqual([]);
    expect((await store.list(full.container, full.prefix)).length).toBe(4 + 2);
  });
});
