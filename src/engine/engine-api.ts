import type { ObjectStore } from '../storage/object-store.js';

/**
 * The contract between the backup engine (the data path) and its callers (job
 * handlers, benchmarks, tests). The engine knows nothing of Postgres or HTTP: it
 * moves bytes between a file and an ObjectStore in Cinder's chunked-driver format
 * (Cinder's ChunkedBackupDriver, https://opendev.org/openstack/cinder/src/branch/master/cinder/backup/chunkeddriver.py) and reports progress through hooks.
 */

export type Compression = 'zstd' | 'zlib' | 'none';

export interface EngineOptions {
  compression: Compression;
  /** zstd level for new objects (BACKUP_ZSTD_LEVEL); 3 when omitted. */
  zstdLevel?: number;
  objectSize: number; // bytes per chunk/object, a multiple of blockSize
  blockSize: number; // sha256 block size (Cinder's chunk_size in _sha256file)
  chunksInFlight: number; // hard cap on chunks held in memory at once
  uploadConcurrency: number; // concurrent PUTs/GETs
}

/** Where a backup's objects live: container (bucket) + object-name prefix (service_metadata). */
export interface BackupLocation {
  container: string;
  prefix: string;
}

/** What an operation is doing: a backup reads (and compares) until its first object is stored, then uploads. */
export type ProgressPhase = 'reading' | 'uploading' | 'restoring' | 'verifying' | 'finishing';

/** The readable side of a progress report. */
export interface ProgressDetail {
  phase: ProgressPhase;
  /** Bytes read from the source so far: the volume (backup) or stored objects as fetched (restore, verify). */
  bytesRead: number;
  /** Bytes written to the destination so far: objects to the store (backup, compressed) or the volume (restore); 0 for verify. */
  bytesStored: number;
}

export interface ProgressHooks {
  /**
   * Called (throttled by the caller if needed) as bytes of the source/target are processed;
   * `bytesDone` never goes back. The backup, restore and verify of volumes give `detail`.
   */
  onProgress?(bytesDone: number, bytesTotal: number, detail?: ProgressDetail): void;
  /**
   * Asked between chunks/objects; resolving true stops the operation with OperationCancelledError
   * (a backup then deletes the objects it wrote).
   */
  shouldCancel?(): Promise<boolean>;
  /**
   * Called once a backup's data object is stored (its PUT completed): a caller that records it
   * durably can pass it back as BackupRequest.resume if this run is interrupted.
   */
  onObjectStored?(name: string, object: StoredObject): void;
}

/** A data object a run of a backup stored: the uncompressed md5, compression and lengths it was put with. */
export interface StoredObject {
  md5: string; // hex, of the uncompressed bytes (as in _metadata)
  compression: string;
  length: number; // uncompressed
  storedSize: number; // bytes as stored
}

export interface BackupRequest {
  backupId: string;
  volumeId: string;
  name: string | null;
  description: string | null;
  createdAt: Date;
  location: BackupLocation;
  /**
   * The file to read (a volume or a snapshot file) and how many bytes of it to back up; `offset`
   * (default 0) backs up the range from there (a piece of a file), offsets in the backup stay 0-based.
   */
  source: { path: string; sizeBytes: number; offset?: number };
  /** For an incremental: the parent's location and id; its _sha256file decides what is uploaded. */
  parent: { backupId: string; location: BackupLocation } | null;
  /**
   * Changed-block tracking, for an incremental: one byte per block of the source, 1 = written
   * since the parent was taken. Only those blocks are read and hashed; every other block's hash is
   * the parent's (a block whose parent hash is malformed is read all the same). Absent, or of the
   * wrong length: every block is read (today's full read and hash).
   */
  changedBlocks?: Uint8Array | null;
  /** Cinder's volume_meta string (JSON encoded as a string) or null. */
  volumeMeta: string | null;
  /**
   * Resuming an interrupted run of this backup (same location, source and parent): the objects
   * it stored, by name. The source is read and encoded again (the hash list needs every block),
   * but an object whose new encoding has the recorded md5, compression and lengths, and that the
   * store still holds at that size, is not uploaded again. Anything else is put again.
   */
  resume?: ReadonlyMap<string, StoredObject>;
}

export interface BackupResult {
  objectCount: number; // data objects written (excludes _metadata and _sha256file)
  storedBytes: number; // bytes the backup occupies in the store, all objects included (reused ones too)
  bytesRead: number; // bytes read from the source (less than its size when changedBlocks was used)
  /** Objects an earlier run stored that this run kept instead of uploading (BackupRequest.resume). */
  reusedObjects: number;
  /** Their stored bytes: storedBytes - reusedBytes is what this run uploaded. */
  reusedBytes: number;
}

export interface RestoreRequest {
  /** The chain, full backup first and the requested backup last. */
  chain: BackupLocation[];
  /** `offset` (default 0): the backup's byte 0 goes there (a piece of a file). */
  target: { path: string; sizeBytes: number; offset?: number };
  /** A freshly created (sparse, all-zero) target: all-zero regions need not be written. */
  targetIsNew: boolean;
}

export interface RestoreResult {
  bytesWritten: number;
  bytesFetched: number;
  /** The requested backup's volume_meta, for the caller to apply to the target volume. */
  volumeMeta: string | null;
}

export interface VerifyResult {
  objectsChecked: number;
  bytesChecked: number;
}

/** The store or the data failed a check; `message` is fit for a backup's fail_reason. */
export class BackupIntegrityError extends Error {
  override name = 'BackupIntegrityError';
}

export class OperationCancelledError extends Error {
  override name = 'OperationCancelledError';
}

export interface BackupEngine {
  backup(store: ObjectStore, req: BackupRequest, hooks?: ProgressHooks): Promise<BackupResult>;
  /** Verifies md5 per object and sha256 per block; throws BackupIntegrityError on any mismatch or missing object. */
  restore(store: ObjectStore, req: RestoreRequest, hooks?: ProgressHooks): Promise<RestoreResult>;
  /** Re-reads every object of the chain's last backup and checks it, without writing anywhere. */
  verify(store: ObjectStore, chain: BackupLocation[], hooks?: ProgressHooks): Promise<VerifyResult>;
  /** Deletes every object under the prefix (batched); objects already gone are fine. */
  deleteBackup(store: ObjectStore, location: BackupLocation): Promise<void>;
  /** Stops the worker threads. */
  close(): Promise<void>;
}
