import { loadConfig } from '../src/config.js';
import { clusterUser } from '../src/domain/trove/cluster/binaries.js';
import { takePhysicalBackup } from '../src/domain/trove/backups/physical-backup.js';
import { restorePhysicalBackup } from '../src/domain/trove/backups/physical-restore.js';
import type { BackupLocation } from '../src/engine/engine-api.js';
import { PosixObjectStore } from '../src/storage/posix-store.js';
import { defaultEngine, measured, opMain } from './engine-op.js';

/**
 * One Trove physical backup or restore in its own process (the service's own code and default
 * engine settings), so the database benchmark reads its peak RSS alone. argv[2] is a JSON spec;
 * prints one JSON line.
 */

export type DbOpSpec =
  | {
      op: 'backup';
      storeRoot: string;
      backupId: string;
      instanceId: string;
      location: BackupLocation;
      parent: { backupId: string; location: BackupLocation } | null;
      cluster: { host: string; port: number; dataDir: string; archiveDir: string };
    }
  | { op: 'restore'; storeRoot: string; location: BackupLocation; targetDir: string };

export interface DbOpOutput {
  seconds: number;
  storedBytes: number;
  dataBytes: number;
  bytesReused: number;
  /** Regular files in the backup's manifest, and their pieces (each is >= 3 objects when stored). */
  files: number;
  pieces: number;
  peakRssBytes: number;
  cpuSeconds: number;
}

async function run(spec: DbOpSpec): Promise<DbOpOutput> {
  const blockSize = loadConfig({}).BACKUP_BLOCK_SIZE;
  const engine = defaultEngine();
  const store = new PosixObjectStore(spec.storeRoot);
  const m = await measured(engine, store, async () => {
    if (spec.op === 'restore') {
      const r = await restorePhysicalBackup(engine, store, spec.location, spec.targetDir, { owner: clusterUser() ?? undefined });
      return { storedBytes: 0, dataBytes: r.bytesWritten, bytesReused: 0, entries: r.manifest.entries };
    }
    const r = await takePhysicalBackup(engine, store, {
      backupId: spec.backupId,
      instanceId: spec.instanceId,
      createdAt: new Date(),
      location: spec.location,
      blockSize,
      cluster: {
        connection: { host: spec.cluster.host, port: spec.cluster.port, user: 'postgres' },
        dataDir: spec.cluster.dataDir,
        archiveDir: spec.cluster.archiveDir,
      },
      parent: spec.parent,
    });
    return { storedBytes: r.storedBytes, dataBytes: r.dataBytes, bytesReused: r.bytesReused, entries: r.manifest.entries };
  });
  const { entries, ...bytes } = m.result;
  const files = entries.filter((e) => e.type === 'file');
  return {
    ...bytes,
    files: files.length,
    pieces: files.reduce((n, f) => n + f.pieces.length, 0),
    seconds: m.seconds,
    peakRssBytes: m.peakRssBytes,
    cpuSeconds: m.cpuSeconds,
  };
}

opMain(import.meta.url, run);
