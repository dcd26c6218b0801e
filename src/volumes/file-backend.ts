import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { ChangeTracker, type ChangedBlocks, type FileStamp, fileStamp } from './change-tracker.js';
import type { VolumeBackend } from './volume-backend.js';

/** Bytes read per step of the sparse copy; an all-zero step is left as a hole. */
export const COPY_CHUNK_BYTES = 1024 * 1024;
const ZERO_CHUNK = Buffer.alloc(COPY_CHUNK_BYTES);

/** How a copy was made: a copy-on-write clone, or a chunked sparse copy. */
export type CopyMethod = 'reflink' | 'sparse';

/** Errors meaning "this filesystem cannot clone": fall back to copying. */
const NO_REFLINK = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'EINVAL', 'ENOTTY', 'EPERM']);

/**
 * Volumes and snapshots as sparse raw files: `<DATA_DIR>/volumes/volume-<id>` and
 * `<DATA_DIR>/snapshots/snapshot-<id>` (Cinder's own naming). Copies are written
 * to a `.part` file and renamed into place, so a crash never leaves a half copy
 * under the final name.
 */
export class FileVolumeBackend implements VolumeBackend {
  readonly volumesDir: string;
  readonly snapshotsDir: string;
  /** What the last copy used (observability and tests). */
  lastCopyMethod: CopyMethod | null = null;
  /** Every write below goes through it: the changed-block map beside each volume file. */
  readonly changes: ChangeTracker;

  constructor(dataDir: string, cbtBlockSize = 32 * 1024) {
    this.volumesDir = join(dataDir, 'volumes');
    this.snapshotsDir = join(dataDir, 'snapshots');
    this.changes = new ChangeTracker(cbtBlockSize);
  }

  /** Creates both directories; call once at start (idempotent). */
  async init(): Promise<void> {
    await mkdir(this.volumesDir, { recursive: true });
    await mkdir(this.snapshotsDir, { recursive: true });
  }

  volumePath(volumeId: string): string {
    return join(this.volumesDir, `volume-${safeId(volumeId)}`);
  }

  snapshotPath(snapshotId: string): string {
    return join(this.snapshotsDir, `snapshot-${safeId(snapshotId)}`);
  }

  async createVolume(volumeId: string, sizeBytes: number): Promise<void> {
    await this.init();
    const path = this.volumePath(volumeId);
    // 'wx': never truncate an existing volume's data by accident.
    const fh = await open(path, 'wx');
    try {
      await this.changes.startNew(path, volumeId, sizeBytes);
      await fh.truncate(sizeBytes);
    } finally {
      await fh.close();
    }
    await this.changes.settleNew(path);
  }

  async deleteVolume(volumeId: string): Promise<void> {
    await rm(this.volumePath(volumeId), { force: true });
    await this.changes.remove(this.volumePath(volumeId));
  }

  async extendVolume(volumeId: string, sizeBytes: number): Promise<void> {
    const path = this.volumePath(volumeId);
    const st = await stat(path);
    if (sizeBytes < st.size) throw new Error(`refusing to shrink volume ${volumeId}`);
    await this.changes.trackWrite(path, st.size, sizeBytes - st.size, () => truncate(path, sizeBytes), sizeBytes);
  }

  trackWrite<T>(volumeId: string, offset: number, length: number, write: () => Promise<T>): Promise<T> {
    return this.changes.trackWrite(this.volumePath(volumeId), offset, length, write);
  }

  volumeStamp(volumeId: string): Promise<FileStamp> {
    return fileStamp(this.volumePath(volumeId));
  }

  changedBlocks(volumeId: string, parentBackupId: string, sizeBytes: number, blockSize: number): Promise<ChangedBlocks> {
    return this.changes.changedSince(this.volumePath(volumeId), parentBackupId, sizeBytes, blockSize);
  }

  resetChangedBlocks(volumeId: string, backupId: string, before: FileStamp): Promise<void> {
    return this.changes.resetAfterBackup(this.volumePath(volumeId), volumeId, backupId, before);
  }

  async createSnapshot(snapshotId: string, volumeId: string, onProgress?: (fraction: number) => void): Promise<void> {
    await this.init();
    const size = (await stat(this.volumePath(volumeId))).size;
    await this.copyInto(this.volumePath(volumeId), this.snapshotPath(snapshotId), size, onProgress);
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await rm(this.snapshotPath(snapshotId), { force: true });
  }

  async createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeBytes: number): Promise<void> {
    await this.copyIntoVolume(this.snapshotPath(snapshotId), volumeId, sizeBytes);
  }

  async createVolumeFromVolume(volumeId: string, sourceVolumeId: string, sizeBytes: number): Promise<void> {
    await this.copyIntoVolume(this.volumePath(sourceVolumeId), volumeId, sizeBytes);
  }

  /** A copy into a volume: its map starts all dirty before the first byte lands. */
  private async copyIntoVolume(src: string, volumeId: string, sizeBytes: number): Promise<void> {
    await this.init();
    const dst = this.volumePath(volumeId);
    await this.changes.startNew(dst, volumeId, sizeBytes);
    await this.copyInto(src, dst, sizeBytes);
    await this.changes.settleNew(dst);
  }

  /** Bytes the file really occupies on disk (st_blocks x 512): how sparse it stayed. */
  async allocatedBytes(path: string): Promise<number> {
    return (await stat(path)).blocks * 512;
  }

  /** Clone or sparse-copy `src` to `dst` (via a .part file), then size it to `sizeBytes`. */
  private async copyInto(src: string, dst: string, sizeBytes: number, onProgress?: (fraction: number) => void): Promise<void> {
    const part = `${dst}.part`;
    await rm(part, { force: true });
    try {
      this.lastCopyMethod = (await tryReflink(src, part)) ? 'reflink' : 'sparse';
      if (this.lastCopyMethod === 'sparse') await sparseCopy(src, part, onProgress);
      const copied = (await stat(part)).size;
      if (sizeBytes < copied) throw new Error(`target size ${sizeBytes} is smaller than the source (${copied})`);
      await truncate(part, sizeBytes);
      onProgress?.(1);
      await rename(part, dst);
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
  }
}

/** A copy-on-write clone when the filesystem can (btrfs, XFS with reflink); false when it cannot. */
async function tryReflink(src: string, dst: string): Promise<boolean> {
  try {
    await copyFile(src, dst, constants.COPYFILE_FICLONE_FORCE | constants.COPYFILE_EXCL);
    return true;
  } catch (err) {
    if (NO_REFLINK.has((err as NodeJS.ErrnoException).code ?? '')) {
      await rm(dst, { force: true });
      return false;
    }
    throw err;
  }
}

/**
 * Copies `src` to a new file chunk by chunk, leaving every all-zero chunk as a hole.
 * NOTE: Node exposes no SEEK_DATA/SEEK_HOLE, so holes are found by reading; reading a
 * hole costs no disk I/O, only the memcmp against a zero buffer.
 */
export async function sparseCopy(src: string, dst: string, onProgress?: (fraction: number) => void): Promise<void> {
  const input = await open(src, 'r');
  const output = await open(dst, 'wx');
  try {
    const size = (await input.stat()).size;
    const buf = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    let lastReported = -1;
    for (let pos = 0; pos < size; ) {
      const want = Math.min(COPY_CHUNK_BYTES, size - pos);
      const { bytesRead } = await input.read(buf, 0, want, pos);
      if (bytesRead === 0) break; // the source shrank underneath us; the truncate below keeps the size
      const chunk = buf.subarray(0, bytesRead);
      if (!chunk.equals(ZERO_CHUNK.subarray(0, bytesRead))) await writeFully(output, chunk, pos);
      pos += bytesRead;
      const pct = Math.floor((pos / size) * 100);
      if (pct !== lastReported) {
        lastReported = pct;
        onProgress?.(pos / size);
      }
    }
    await output.truncate(size);
    await output.sync();
  } finally {
    await input.close();
    await output.close();
  }
}

async function writeFully(fh: Awaited<ReturnType<typeof open>>, data: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
}

// Ids come from our own UUID columns, but a path must never escape its directory.
function safeId(id: string): string {
  if (!/^[0-9a-fA-F-]{1,64}$/.test(id)) throw new Error(`invalid resource id for a file name: ${id}`);
  return id.toLowerCase();
}
