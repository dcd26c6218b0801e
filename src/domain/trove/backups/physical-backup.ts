import type pg from 'pg';
import { openBackupSession } from '../../../db/cluster-backup-repository.js';
import type { BackupEngine, BackupLocation, ProgressHooks } from '../../../engine/engine-api.js';
import { backupFileSet } from '../../../engine/file-set-backup.js';
import { getManifest, putManifest, type FileSetManifest } from '../../../engine/file-set-manifest.js';
import type { ObjectStore } from '../../../storage/object-store.js';
import { walkDataDir } from './data-dir.js';
import { startWalFile, walSegmentRange, walSources } from './wal.js';

/** What a physical backup records beside the files (the manifest's `extra`). */
export interface PgBackupExtra {
  kind: 'postgresql-physical';
  startLsn: string;
  stopLsn: string;
  backupLabel: string;
  tablespaceMap: string;
  walFiles: string[];
}

export interface ClusterToBackUp {
  /** A superuser connection (the session that holds the backup open). */
  connection: pg.ClientConfig;
  dataDir: string;
  /** Where archive_command puts WAL, or null when the cluster does not archive. */
  archiveDir: string | null;
}

export interface PhysicalBackupRequest {
  backupId: string;
  instanceId: string;
  createdAt: Date;
  location: BackupLocation;
  cluster: ClusterToBackUp;
  /** For an incremental: the parent's id and location (its manifest decides what is stored). */
  parent: { backupId: string; location: BackupLocation } | null;
  blockSize: number;
}

export interface PhysicalBackupResult {
  manifest: FileSetManifest;
  /** Bytes of the cluster's files (what Trove reports as the backup's size). */
  dataBytes: number;
  storedBytes: number;
  /** Of storedBytes, what the data directory's files took (the rest: WAL and manifest). */
  dataStoredBytes: number;
  bytesReused: number;
}

/**
 * A physical backup of a running cluster (non-exclusive low-level API): pg_backup_start on one
 * session kept open, every file of the data directory through the chunked engine, pg_backup_stop
 * (waiting for the archive), then the WAL from the start segment to the stop segment, and the
 * manifest (with backup_label and tablespace_map) last: a backup without a manifest is incomplete.
 * On failure the caller deletes the prefix; closing the session aborts the backup in PostgreSQL.
 */
export async function takePhysicalBackup(
  engine: BackupEngine,
  store: ObjectStore,
  req: PhysicalBackupRequest,
  hooks: ProgressHooks = {},
): Promise<PhysicalBackupResult> {
  const parent = req.parent ? { backupId: req.parent.backupId, manifest: await getManifest(store, req.parent.location) } : null;
  const session = await openBackupSession(req.cluster.connection);
  try {
    const segmentSize = await session.walSegmentSize();
    const { startLsn } = await session.start(`trove backup ${req.backupId}`);
    const sources = await walkDataDir(req.cluster.dataDir);
    const common = {
      backupId: req.backupId,
      ownerId: req.instanceId,
      createdAt: req.createdAt,
      location: req.location,
      blockSize: req.blockSize,
    };
    const data = await backupFileSet(engine, store, { ...common, sources, parent }, hooks);
    const stop = await session.stop(req.cluster.archiveDir !== null);
    const walFiles = walSegmentRange(startWalFile(stop.labelFile), stop.stopWalFile, segmentSize);
    const wal = await backupFileSet(engine, store, {
      ...common,
      sources: await walSources(walFiles, req.cluster.dataDir, req.cluster.archiveDir),
      parent: null,
      firstIndex: sources.length,
    });
    const extra: PgBackupExtra = {
      kind: 'postgresql-physical',
      startLsn,
      stopLsn: stop.stopLsn,
      backupLabel: stop.labelFile,
      tablespaceMap: stop.spcmapFile,
      walFiles,
    };
    const manifest: FileSetManifest = {
      format: 'file-set/1',
      backupId: req.backupId,
      parentId: parent?.backupId ?? null,
      blockSize: req.blockSize,
      entries: [...data.entries, ...wal.entries],
      extra: { ...extra },
    };
    const manifestBytes = await putManifest(store, req.location, manifest);
    const dataBytes = data.entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
    return {
      manifest,
      dataBytes,
      storedBytes: data.storedBytes + wal.storedBytes + manifestBytes,
      dataStoredBytes: data.storedBytes,
      bytesReused: data.bytesReused,
    };
  } finally {
    await session.close();
  }
}
