import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupEngine } from '../../src/engine/backup-engine.js';
import type { BackupLocation, BackupRequest, EngineOptions } from '../../src/engine/engine-api.js';

/** A temp directory, engine factory and request builders shared by the engine integration tests. */
export async function engineFixture() {
  const dir = await mkdtemp(join(tmpdir(), 'engine-'));
  const engines: Array<{ close(): Promise<void> }> = [];
  return {
    dir,
    engine(options: Partial<EngineOptions> = {}) {
      const e = createBackupEngine({
        compression: 'zstd',
        objectSize: 64 * 1024,
        blockSize: 4096,
        chunksInFlight: 4,
        uploadConcurrency: 3,
        workerThreads: 2,
        ...options,
      });
      engines.push(e);
      return e;
    },
    location(): BackupLocation {
      return { container: 'volumebackups', prefix: `volume_v/20261123/az_nova_backup_${randomUUID()}` };
    },
    request(path: string, sizeBytes: number, location: BackupLocation, parent: BackupRequest['parent'] = null): BackupRequest {
      const backupId = location.prefix.slice(-36);
      return {
        backupId,
        volumeId: 'v',
        name: 'n',
        description: null,
        createdAt: new Date(),
        location,
        source: { path, sizeBytes },
        parent,
        volumeMeta: null,
      };
    },
    async cleanup() {
      await Promise.all(engines.map((e) => e.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Overwrites `count` random blocks of `blockSize` in the file with random bytes; returns their indexes. */
export async function changeRandomBlocks(path: string, size: number, blockSize: number, count: number): Promise<number[]> {
  const blocks = Math.ceil(size / blockSize);
  const picked = new Set<number>();
  while (picked.size < Math.min(count, blocks)) picked.add(Math.floor(Math.random() * blocks));
  const fh = await open(path, 'r+');
  try {
    for (const b of picked) {
      const len = Math.min(blockSize, size - b * blockSize);
      await fh.write(randomBytes(len), 0, len, b * blockSize);
    }
  } finally {
    await fh.close();
  }
  return [...picked];
}

/** True when both files hold the same first `size` bytes. */
export async function sameBytes(a: string, b: string, size: number): Promise<boolean> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  return x.length >= size && y.length >= size && x.subarray(0, size).equals(y.subarray(0, size));
}
