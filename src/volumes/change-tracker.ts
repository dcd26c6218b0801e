import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import {
  CBT_FORMAT,
  type FileStamp,
  HEADER_BYTES,
  encodeHeader,
  fileStamp,
  freshHeader,
  readHeader,
  sameStamp,
} from './change-map-format.js';

export { type FileStamp, fileStamp } from './change-map-format.js';

/**
 * Changed-block tracking (CBT): a sidecar file beside each volume file (`volume-<id>.cbt`) that
 * says which blocks the service wrote since the volume's last backup, so an incremental reads and
 * hashes only those. Layout (change-map-format.ts): a 512-byte header, then ONE BYTE per block
 * (1 = dirty). A byte, not a bit: marking is a plain positional write of 1s, never a
 * read-modify-write, so two processes marking the same volume cannot lose each other's marks.
 *
 * Crash safety: a writer marks its blocks dirty and sets `state: writing` and fsyncs the sidecar
 * BEFORE it touches the data, and only after the data is fsynced records the file's new
 * size/mtime/inode with `state: clean`. A crash in between leaves `writing` (or a stat that no
 * longer matches): the next incremental falls back to a full read. Marks can only over-report.
 * A torn header fails its checksum: also a fallback.
 */

/** Why an incremental cannot use the map (each is a full read and hash instead). */
export type CbtFallback =
  | 'missing'
  | 'unreadable'
  | 'other generation'
  | 'interrupted write'
  | 'never reset'
  | 'parent is not the reset backup'
  | 'file changed outside the service';

export type ChangedBlocks = { changed: Uint8Array; fallback: null } | { changed: null; fallback: CbtFallback };

const blocksOf = (sizeBytes: number, blockSize: number) => Math.ceil(sizeBytes / blockSize);

/**
 * The change tracker of one volume backend: `blockSize` is its granularity (32 KiB, the
 * backup's hash block; a backup with another block size falls back to a full read).
 */
export class ChangeTracker {
  // In-process: one sidecar update at a time per volume (header writes would otherwise interleave).
  private readonly queues = new Map<string, Promise<unknown>>();
  // In-process writes running per volume: only the last one to finish may record state clean.
  private readonly writing = new Map<string, number>();

  constructor(readonly blockSize: number) {}

  sidecarPath(volumePath: string): string {
    return `${volumePath}.cbt`;
  }

  private serial<T>(volumePath: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(volumePath) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.queues.set(volumePath, next);
    void next
      .finally(() => {
        if (this.queues.get(volumePath) === next) this.queues.delete(volumePath);
      })
      .catch(() => {});
    return next;
  }

  /**
   * Starts tracking a volume file about to be (re)created: every block dirty, never reset.
   * Call BEFORE the file is written, so no window exists where the file is newer than its map.
   */
  async startNew(volumePath: string, volumeId: string, sizeBytes: number): Promise<void> {
    const blocks = blocksOf(sizeBytes, this.blockSize);
    await this.serial(volumePath, async () => {
      const fh = await open(this.sidecarPath(volumePath), 'w');
      try {
        await fh.truncate(HEADER_BYTES + blocks);
        await fh.write(Buffer.alloc(blocks, 1), 0, blocks, HEADER_BYTES);
        const h = freshHeader(volumeId, this.blockSize, blocks, randomUUID(), null);
        await fh.write(encodeHeader(h), 0, HEADER_BYTES, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  /** Records the file as it now is (after `startNew`'s caller has written it): state clean. */
  async settleNew(volumePath: string): Promise<void> {
    await this.serial(volumePath, () => this.settle(volumePath));
  }

  /**
   * Runs `write`, which changes bytes [offset, offset+length) of the volume file (and may grow it
   * to `newSize`), with those blocks marked dirty and fsynced first and the file's stamp recorded
   * after. A missing or unreadable map is left as is (backups of it fall back anyway).
   */
  async trackWrite<T>(volumePath: string, offset: number, length: number, write: () => Promise<T>, newSize?: number): Promise<T> {
    this.writing.set(volumePath, (this.writing.get(volumePath) ?? 0) + 1);
    let failed = true;
    try {
      const alone = this.writing.get(volumePath) === 1;
      await this.serial(volumePath, () => this.markDirty(volumePath, offset, length, alone, newSize));
      const result = await write();
      failed = false;
      return result;
    } finally {
      const left = (this.writing.get(volumePath) ?? 1) - 1;
      if (left > 0) this.writing.set(volumePath, left);
      else this.writing.delete(volumePath);
      // Also after a failed write: whatever it changed lies inside the marked range. Only a crash
      // (nothing runs here) leaves state `writing`.
      if (!this.writing.has(volumePath)) {
        const settling = this.serial(volumePath, () => this.settle(volumePath));
        await (failed ? settling.catch(() => {}) : settling);
      }
    }
  }

  /**
   * Marks the range dirty and the map `writing`, durably. NOTE: when no other write of this
   * process is running, a map found `writing` (a crashed writer, or one in another process) or
   * not matching the file (changed outside the service) is first made "never reset": this write's
   * own stamp must not make an earlier doubt look settled.
   */
  private async markDirty(volumePath: string, offset: number, length: number, alone: boolean, newSize?: number): Promise<void> {
    const fh = await open(this.sidecarPath(volumePath), 'r+').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (!fh) return;
    try {
      const h = await readHeader(fh);
      if (!h) return;
      if (alone && h.reset && (h.state !== 'clean' || !sameStamp(h.known, await fileStamp(volumePath)))) h.reset = null;
      if (newSize !== undefined) h.blocks = Math.max(h.blocks, blocksOf(newSize, this.blockSize));
      const first = Math.floor(offset / h.blockSize);
      const end = Math.min(h.blocks, Math.ceil((offset + length) / h.blockSize));
      if (newSize !== undefined) await fh.truncate(HEADER_BYTES + h.blocks);
      if (end > first) await fh.write(Buffer.alloc(end - first, 1), 0, end - first, HEADER_BYTES + first);
      h.state = 'writing';
      await fh.write(encodeHeader(h), 0, HEADER_BYTES, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Makes the volume's bytes durable, then records its stamp and state clean. */
  private async settle(volumePath: string): Promise<void> {
    const fh = await open(this.sidecarPath(volumePath), 'r+').catch(() => null);
    if (!fh) return;
    try {
      const h = await readHeader(fh);
      if (!h) return;
      const vol = await open(volumePath, 'r');
      try {
        await vol.sync();
      } finally {
        await vol.close();
      }
      h.known = await fileStamp(volumePath);
      h.state = 'clean';
      await fh.write(encodeHeader(h), 0, HEADER_BYTES, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * The blocks changed since `parentBackupId` reset the map (1 = read it), or why that cannot be
   * trusted. `sizeBytes` is what the backup reads; `blockSize` the backup's hash block.
   */
  async changedSince(volumePath: string, parentBackupId: string, sizeBytes: number, blockSize: number): Promise<ChangedBlocks> {
    const no = (fallback: CbtFallback): ChangedBlocks => ({ changed: null, fallback });
    return this.serial(volumePath, async () => {
      const fh = await open(this.sidecarPath(volumePath), 'r').catch(() => null);
      if (!fh) return no('missing');
      try {
        const h = await readHeader(fh);
        if (!h) return no('unreadable');
        const blocks = blocksOf(sizeBytes, blockSize);
        if (h.format !== CBT_FORMAT || h.blockSize !== blockSize || h.blocks !== blocks) return no('other generation');
        if (h.state !== 'clean') return no('interrupted write');
        if (!h.reset) return no('never reset');
        if (h.reset.backupId !== parentBackupId) return no('parent is not the reset backup');
        if (!sameStamp(h.known, await fileStamp(volumePath))) return no('file changed outside the service');
        const changed = Buffer.alloc(blocks);
        const { bytesRead } = await fh.read(changed, 0, blocks, HEADER_BYTES);
        if (bytesRead !== blocks) return no('unreadable');
        return { changed, fallback: null };
      } finally {
        await fh.close();
      }
    });
  }

  /**
   * After a successful backup of the volume file itself, read while no writer could touch it:
   * every block clean, reset by `backupId`. `before` is the file's stamp when the backup started;
   * if it differs now, the map is reset to "never reset" (all dirty) instead. Call while the
   * volume is still fenced against writers (before it goes back to available).
   */
  async resetAfterBackup(volumePath: string, volumeId: string, backupId: string, before: FileStamp): Promise<void> {
    await this.serial(volumePath, async () => {
      const vol = await open(volumePath, 'r');
      try {
        await vol.sync(); // what the backup read is on disk before the map forgets it was dirty
      } finally {
        await vol.close();
      }
      const now = await fileStamp(volumePath);
      const blocks = blocksOf(now.size, this.blockSize);
      const fh = await open(this.sidecarPath(volumePath), 'r+').catch(() => open(this.sidecarPath(volumePath), 'w+'));
      try {
        const old = await readHeader(fh);
        const ok = sameStamp(before, now);
        const h = freshHeader(volumeId, this.blockSize, blocks, old?.generation ?? randomUUID(), now);
        // Invalidate first: a crash while the bytes are cleared leaves a map nobody trusts.
        await fh.write(encodeHeader(h), 0, HEADER_BYTES, 0);
        await fh.sync();
        // Cleared by truncating and regrowing (a hole reads as zeros); all dirty when the file moved.
        await fh.truncate(HEADER_BYTES);
        await fh.truncate(HEADER_BYTES + blocks);
        if (!ok) await fh.write(Buffer.alloc(blocks, 1), 0, blocks, HEADER_BYTES);
        h.state = 'clean';
        if (ok) h.reset = { backupId, at: new Date().toISOString(), file: now };
        await fh.write(encodeHeader(h), 0, HEADER_BYTES, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }

  /** Removes the map (with its volume). */
  async remove(volumePath: string): Promise<void> {
    await this.serial(volumePath, () => rm(this.sidecarPath(volumePath), { force: true }));
  }
}
