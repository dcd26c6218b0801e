import type { ChangedBlocks, FileStamp } from './change-tracker.js';

/**
 * Where volume and snapshot bytes live. The file backend keeps each as a sparse raw
 * file under DATA_DIR; a block-device or RBD backend can implement the same methods.
 * Sizes are in bytes here (the API speaks GiB).
 */
export interface VolumeBackend {
  /** Creates an all-zero volume of `sizeBytes` (sparse: instant, no space used). */
  createVolume(volumeId: string, sizeBytes: number): Promise<void>;
  /** Removes the volume; absent is not an error. */
  deleteVolume(volumeId: string): Promise<void>;
  /** Grows the volume to `sizeBytes` (new bytes read as zeros). */
  extendVolume(volumeId: string, sizeBytes: number): Promise<void>;
  /** Path of a file holding the volume's bytes (for the engine's positional reads and writes). */
  volumePath(volumeId: string): string;

  /**
   * Every write into volumePath() by anyone but this backend goes through here: the blocks of
   * [offset, offset+length) are marked changed (durably) before `write` runs.
   */
  trackWrite<T>(volumeId: string, offset: number, length: number, write: () => Promise<T>): Promise<T>;
  /** The volume file's size, mtime and inode now (taken before a backup reads it). */
  volumeStamp(volumeId: string): Promise<FileStamp>;
  /** Blocks written since `parentBackupId` reset the change map, or why a full read is needed. */
  changedBlocks(volumeId: string, parentBackupId: string, sizeBytes: number, blockSize: number): Promise<ChangedBlocks>;
  /** After a backup of the volume file itself (still fenced): the map restarts from `backupId`. */
  resetChangedBlocks(volumeId: string, backupId: string, before: FileStamp): Promise<void>;

  /**
   * Copies the volume's current bytes into a new snapshot: a reflink clone when the
   * filesystem supports it, else a sparse-aware copy reporting progress (0..1).
   */
  createSnapshot(snapshotId: string, volumeId: string, onProgress?: (fraction: number) => void): Promise<void>;
  deleteSnapshot(snapshotId: string): Promise<void>;
  snapshotPath(snapshotId: string): string;

  /** Makes a new volume holding a snapshot's (or another volume's) bytes, sized `sizeBytes` >= source. */
  createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeBytes: number): Promise<void>;
  createVolumeFromVolume(volumeId: string, sourceVolumeId: string, sizeBytes: number): Promise<void>;
}

export const GiB = 1024 * 1024 * 1024;
