import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeVolumeImage } from '../../bench/volume-image.js';
import { PosixObjectStore } from '../../src/storage/posix-store.js';
import { changeRandomBlocks, engineFixture, sameBytes } from '../helpers/engine-fixtures.js';

const run = promisify(execFile);
const driver = resolve(import.meta.dirname, '../../scripts/cinder/cinder_driver.py');
const hasCinder = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import cinder.backup.drivers.posix, zstd'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let fx: Awaited<ReturnType<typeof engineFixture>>;
beforeAll(async () => (fx = await engineFixture()));
afterAll(async () => fx?.cleanup());

/** Runs Cinder's real PosixBackupDriver through scripts/cinder/cinder_driver.py. */
async function cinder(args: string[]): Promise<{ container: string; prefix: string; object_count: number }> {
  const common = ['--driver', 'posix', '--posix-path', join(fx.dir, 'store'), '--state', join(fx.dir, 'state')];
  const { stdout } = await run('/usr/bin/python3', [driver, ...args, ...common], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

const size = 3 * 1024 * 1024 + 777;
const volumeId = randomUUID();

// Interoperability (reference §9.11) with OpenStack Cinder 21.3.1's own chunked driver, both directions.
describe.skipIf(!hasCinder)('Cinder chunked-driver interoperability', () => {
  it('restores a full + incremental chain written by Cinder (zlib), byte for byte', async () => {
    const src = join(fx.dir, 'cinder-src');
    await writeVolumeImage(src, size, undefined, 21);
    const [full, inc] = [randomUUID(), randomUUID()];
    const base = ['--file', src, '--volume-id', volumeId, '--compression', 'zlib', '--object-size', String(1 << 20)];
    const a = await cinder(['backup', ...base, '--backup-id', full]);
    await changeRandomBlocks(src, size, 32768, 5);
    const b = await cinder(['backup', ...base, '--backup-id', inc, '--parent-id', full]);
    expect(b.object_count).toBeGreaterThan(0);
    const engine = fx.engine({ blockSize: 32768, objectSize: 1 << 20 });
    const dst = join(fx.dir, 'from-cinder');
    await writeFile(dst, '');
    await truncate(dst, size);
    const store = new PosixObjectStore(join(fx.dir, 'store'));
    const chain = [a, b].map((r) => ({ container: r.container, prefix: r.prefix }));
    await engine.restore(store, { chain, target: { path: dst, sizeBytes: size }, targetIsNew: true });
    expect(await sameBytes(src, dst, size)).toBe(true);
    expect((await engine.verify(store, chain)).bytesChecked).toBe(size);
  }, 240_000);

  it('lets Cinder restore a zstd full + zlib incremental written here into an existing volume', async () => {
    const src = join(fx.dir, 'our-src');
    await writeVolumeImage(src, size, undefined, 22);
    const store = new PosixObjectStore(join(fx.dir, 'store'));
    const rows: Array<{ id: string; container: string; prefix: string; parent: string | null; count: number }> = [];
    for (const compression of ['zstd', 'zlib'] as const) {
      if (rows.length > 0) await changeRandomBlocks(src, size, 32768, 5);
      const id = randomUUID();
      const location = { container: `${id.slice(0, 2)}/${id.slice(2, 4)}/${id}`, prefix: `volume_${volumeId}_20261123120000_backup_${id}` };
      const parent = rows.at(-1);
      const engine = fx.engine({ blockSize: 32768, objectSize: 1 << 20, compression });
      const req = {
        ...fx.request(
          src,
          size,
          location,
          parent ? { backupId: parent.id, location: { container: parent.container, prefix: parent.prefix } } : null,
        ),
        backupId: id,
        volumeId,
      };
      const res = await engine.backup(store, req);
      rows.push({ id, ...location, parent: parent?.id ?? null, count: res.objectCount });
    }
    await mkdir(join(fx.dir, 'state'), { recursive: true });
    for (const r of rows) {
      const now = new Date().toISOString();
      const row = {
        id: r.id,
        volume_id: volumeId,
        parent_id: r.parent,
        size: 1,
        container: r.container,
        service_metadata: r.prefix,
        object_count: r.count,
        status: 'available',
        display_name: null,
        display_description: null,
        service: 'cinder.backup.drivers.posix.PosixBackupDriver',
        availability_zone: 'nova',
        created_at: now,
        data_timestamp: now,
        snapshot_id: null,
        num_dependent_backups: 0,
      };
      await writeFile(join(fx.dir, 'state', `${r.id}.json`), JSON.stringify(row));
    }
    const dst = join(fx.dir, 'by-cinder');
    await writeFile(dst, Buffer.alloc(size, 0x5a)); // junk: an existing volume
    await cinder(['restore', '--file', dst, '--backup-id', rows.at(-1)!.id]);
    expect(await sameBytes(src, dst, size)).toBe(true);
  }, 240_000);
});
