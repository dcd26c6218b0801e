import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileVolumeBackend, sparseCopy } from '../../src/volumes/file-backend.js';
import { GiB } from '../../src/volumes/volume-backend.js';

const MiB = 1024 * 1024;

async function writeAt(path: string, data: Buffer, position: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, position);
  } finally {
    await fh.close();
  }
}

describe('FileVolumeBackend', () => {
  let dir: string;
  let backend: FileVolumeBackend;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vol-backend-'));
    backend = new FileVolumeBackend(dir);
    await backend.init();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a 10 GiB volume instantly as a sparse file that uses no blocks', async () => {
    const id = randomUUID();
    await backend.createVolume(id, 10 * GiB);
    const st = await stat(backend.volumePath(id));
    expect(st.size).toBe(10 * GiB);
    expect(st.blocks * 512).toBeLessThan(64 * 1024);
  });

  it('refuses to create a volume file that already exists', async () => {
    const id = randomUUID();
    await backend.createVolume(id, MiB);
    await expect(backend.createVolume(id, MiB)).rejects.toThrow(/EEXIST/);
  });

  it('snapshots a volume into a point-in-time copy that later writes do not change', async () => {
    const id = randomUUID();
    const snap = randomUUID();
    await backend.createVolume(id, 8 * MiB);
    const before = randomBytes(MiB);
    await writeAt(backend.volumePath(id), before, 3 * MiB);
    const progress: number[] = [];
    await backend.createSnapshot(snap, id, (f) => progress.push(f));
    await writeAt(backend.volumePath(id), randomBytes(MiB), 3 * MiB);
    const copy = await readFile(backend.snapshotPath(snap));
    expect(copy.length).toBe(8 * MiB);
    expect(copy.subarray(3 * MiB, 4 * MiB).equals(before)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    // ext4 cannot clone: the copy must have been the sparse one, keeping holes.
    if (backend.lastCopyMethod === 'sparse') {
      expect((await stat(backend.snapshotPath(snap))).blocks * 512).toBeLessThanOrEqual(2 * MiB);
      expect(progress.length).toBeGreaterThan(2);
    }
  });

  it('sparse copy leaves all-zero chunks as holes and keeps the exact size and bytes', async () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    const fh = await open(src, 'w');
    await fh.truncate(64 * MiB + 123);
    await fh.close();
    const data = randomBytes(4096);
    await writeAt(src, data, 40 * MiB + 7);
    await writeAt(src, Buffer.from('tail'), 64 * MiB + 119);
    await sparseCopy(src, dst);
    const st = await stat(dst);
    expect(st.size).toBe(64 * MiB + 123);
    expect(st.blocks * 512).toBeLessThanOrEqual(3 * MiB);
    const out = await readFile(dst);
    expect(out.equals(await readFile(src))).toBe(true);
  });

  it('creates a larger volume from a snapshot, the extra bytes reading as zeros', async () => {
    const id = randomUUID();
    const snap = randomUUID();
    const clone = randomUUID();
    await backend.createVolume(id, 2 * MiB);
    await writeAt(backend.volumePath(id), Buffer.from('hello'), 0);
    await backend.createSnapshot(snap, id);
    await backend.createVolumeFromSnapshot(clone, snap, 4 * MiB);
    const out = await readFile(backend.volumePath(clone));
    expect(out.length).toBe(4 * MiB);
    expect(out.subarray(0, 5).toString()).toBe('hello');
    expect(out.subarray(2 * MiB).equals(Buffer.alloc(2 * MiB))).toBe(true);
  });

  it('refuses a clone smaller than its source and leaves no partial file behind', async () => {
    const id = randomUUID();
    const clone = randomUUID();
    await backend.createVolume(id, 4 * MiB);
    await expect(backend.createVolumeFromVolume(clone, id, 2 * MiB)).rejects.toThrow(/smaller/);
    await expect(stat(backend.volumePath(clone))).rejects.toThrow(/ENOENT/);
    await expect(stat(`${backend.volumePath(clone)}.part`)).rejects.toThrow(/ENOENT/);
  });

  it('extends a volume without touching its data and refuses to shrink', async () => {
    const id = randomUUID();
    await backend.createVolume(id, MiB);
    await writeAt(backend.volumePath(id), Buffer.from('keep'), 10);
    await backend.extendVolume(id, 3 * MiB);
    const out = await readFile(backend.volumePath(id));
    expect(out.length).toBe(3 * MiB);
    expect(out.subarray(10, 14).toString()).toBe('keep');
    await expect(backend.extendVolume(id, MiB)).rejects.toThrow(/shrink/);
  });

  it('deletes volumes and snapshots, an absent one being no error', async () => {
    const id = randomUUID();
    await backend.createVolume(id, MiB);
    await backend.deleteVolume(id);
    await backend.deleteVolume(id);
    await backend.deleteSnapshot(randomUUID());
    await expect(stat(backend.volumePath(id))).rejects.toThrow(/ENOENT/);
  });

  it('never builds a path from an id that could escape the data directory', () => {
    expect(() => backend.volumePath('../../etc/passwd')).toThrow(/invalid/);
  });
});
