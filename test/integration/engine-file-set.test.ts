import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BackupIntegrityError, type BackupLocation } from '../../src/engine/engine-api.js';
import { backupFileSet, type FileSetSource } from '../../src/engine/file-set-backup.js';
import type { FileSetManifest } from '../../src/engine/file-set-manifest.js';
import { restoreFileSet } from '../../src/engine/file-set-restore.js';
import { MemoryObjectStore } from '../../src/storage/memory-store.js';
import { engineFixture } from '../helpers/engine-fixtures.js';

// A file-set (a directory tree through the chunked engine) with many small files, as a
// PostgreSQL data directory is: round trip, incremental, one listing per backup, corruption.
const BLOCK = 4096;
const C = 'trove';
let fx: Awaited<ReturnType<typeof engineFixture>>;
let src: string;

const SMALL = 120;
async function writeTree(): Promise<void> {
  await mkdir(join(src, 'base', '1'), { recursive: true });
  for (let i = 0; i < SMALL; i++) await writeFile(join(src, 'base', '1', `f${i}`), randomBytes(1 + ((i * 977) % (3 * BLOCK))));
  await writeFile(join(src, 'big'), randomBytes(200_000)); // several 64 KiB objects
  await writeFile(join(src, 'empty'), '');
}

function sources(): FileSetSource[] {
  const files = ['big', 'empty', ...Array.from({ length: SMALL }, (_, i) => `base/1/f${i}`)];
  return [
    { type: 'dir', path: 'base', mode: 0o700 },
    { type: 'dir', path: 'base/1', mode: 0o700 },
    ...files.map((path): FileSetSource => ({ type: 'file', path, absPath: join(src, path), mode: 0o600 })),
  ];
}

async function backup(store: MemoryObjectStore, parent: { backupId: string; manifest: FileSetManifest } | null) {
  const backupId = randomUUID();
  const location: BackupLocation = { container: C, prefix: `trove_i/${backupId}` };
  const r = await backupFileSet(fx.engine(), store, {
    backupId,
    ownerId: 'i',
    createdAt: new Date(),
    location,
    sources: sources(),
    parent,
    blockSize: BLOCK,
  });
  const manifest: FileSetManifest = {
    format: 'file-set/1',
    backupId,
    parentId: parent?.backupId ?? null,
    blockSize: BLOCK,
    entries: r.entries,
    extra: {},
  };
  return { backupId, location, manifest, storedBytes: r.storedBytes };
}

async function sameTree(dir: string): Promise<void> {
  for (const s of sources()) {
    if (s.type !== 'file') continue;
    expect((await readFile(join(dir, s.path))).equals(await readFile(s.absPath)), s.path).toBe(true);
  }
}

beforeAll(async () => {
  fx = await engineFixture();
  src = join(fx.dir, 'src');
  await writeTree();
});
afterAll(async () => fx.cleanup());

describe('file-set backup and restore', () => {
  it('restores a full and an incremental of many small files byte for byte, listing each backup of the chain once', async () => {
    const store = new MemoryObjectStore({ defaultContainer: C });
    await store.ensureContainer(C);
    const full = await backup(store, null);
    const atFull = join(fx.dir, 'at-full');
    await mkdir(atFull);
    for (const s of sources()) if (s.type === 'file') await mkdir(join(atFull, s.path, '..'), { recursive: true });
    for (const s of sources()) if (s.type === 'file') await writeFile(join(atFull, s.path), await readFile(s.absPath));

    await writeFile(join(src, 'base', '1', 'f3'), randomBytes(1 + ((3 * 977) % (3 * BLOCK)))); // same size, changed
    await appendFile(join(src, 'base', '1', 'f5'), randomBytes(10)); // grown
    const inc = await backup(store, { backupId: full.backupId, manifest: full.manifest });
    expect(inc.storedBytes).toBeLessThan(full.storedBytes / 5);

    const list = vi.spyOn(store, 'list');
    const out1 = join(fx.dir, 'out-inc');
    const r = await restoreFileSet(fx.engine(), store, C, inc.manifest, out1);
    expect(r.files).toBe(SMALL + 2);
    await sameTree(out1);
    // One listing per backup the pieces come from (the full and the incremental), not one per piece.
    expect(list.mock.calls.length).toBe(2);
    expect(new Set(list.mock.calls.map((c) => c[1]))).toEqual(new Set([`${full.location.prefix}_`, `${inc.location.prefix}_`]));

    const out2 = join(fx.dir, 'out-full');
    await restoreFileSet(fx.engine(), store, C, full.manifest, out2);
    for (const s of sources())
      if (s.type === 'file') expect((await readFile(join(out2, s.path))).equals(await readFile(join(atFull, s.path)))).toBe(true);
    list.mockRestore();
  });

  it('fails a restore when a piece has an extra object, a missing object or altered data', async () => {
    const store = new MemoryObjectStore({ defaultContainer: C });
    await store.ensureContainer(C);
    const full = await backup(store, null);
    const piece = full.manifest.entries.find((e) => e.type === 'file' && e.path === 'base/1/f7');
    if (piece?.type !== 'file') throw new Error('no piece');
    const sub = piece.pieces[0]!.chain[0]!;
    const restore = (name: string) => restoreFileSet(fx.engine(), store, C, full.manifest, join(fx.dir, name));

    await store.put(C, `${sub}-00009`, Buffer.from('stray'));
    await expect(restore('extra')).rejects.toThrow(/stored but not listed/);
    await store.deleteMany(C, [`${sub}-00009`]);

    const data = `${sub}-00001`;
    const body = await store.get(C, data);
    await store.put(C, data, Buffer.concat([body.subarray(0, body.length - 1), Buffer.from([body.at(-1)! ^ 0xff])]));
    await expect(restore('altered')).rejects.toBeInstanceOf(BackupIntegrityError);

    await store.deleteMany(C, [data]);
    await expect(restore('missing')).rejects.toThrow(/is missing/);
  });
});
