import { execFile } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { closeSync, createReadStream, ftruncateSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BackupLocation, Compression } from '../src/engine/engine-api.js';
import type { OpOutput, OpSpec, StoreSpec } from './engine-op.js';

/** Helpers for running engine operations in child processes (see engine-op.ts). */

/** Runs one operation in a new Node process; its own peak RSS and CPU come back with the result. */
export function runEngineOp(spec: OpSpec, nodeArgs: string[] = []): Promise<OpOutput> {
  const script = fileURLToPath(new URL('./engine-op.js', import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeArgs, script, JSON.stringify(spec)],
      { maxBuffer: 16 * 1024 * 1024, timeout: 4 * 3600_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`engine ${spec.op} failed: ${stderr.slice(-2000) || err.message}`));
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as OpOutput);
      },
    );
  });
}

const stamp = (): string => new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** A Cinder-style location for a new backup on `store`. */
export function newLocation(store: StoreSpec, volumeId: string, backupId: string): BackupLocation {
  return store.kind === 's3'
    ? { container: store.bucket, prefix: `volume_${volumeId}/${stamp()}/az_nova_backup_${backupId}` }
    : {
        container: `${backupId.slice(0, 2)}/${backupId.slice(2, 4)}/${backupId}`,
        prefix: `volume_${volumeId}_${stamp()}_backup_${backupId}`,
      };
}

/** One backup (full when `parent` is null) of `path`, in a child process. */
export async function engineBackup(
  store: StoreSpec,
  compression: Compression,
  volumeId: string,
  path: string,
  sizeBytes: number,
  parent: { backupId: string; location: BackupLocation } | null,
  nodeArgs: string[] = [],
): Promise<{ out: OpOutput; backupId: string; location: BackupLocation }> {
  const backupId = randomUUID();
  const location = newLocation(store, volumeId, backupId);
  const out = await runEngineOp(
    {
      op: 'backup',
      store,
      compression,
      requests: [
        {
          backupId,
          volumeId,
          name: null,
          description: null,
          createdAt: new Date().toISOString(),
          location,
          source: { path, sizeBytes },
          parent,
          volumeMeta: null,
        },
      ],
    },
    nodeArgs,
  );
  return { out, backupId, location };
}

/** A new, sparse, all-zero volume file of `size` bytes (as the file volume backend creates one). */
export function sparseFile(path: string, size: number): string {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, size);
  closeSync(fd);
  return path;
}

/** sha256 of a file, streamed. */
export function fileSha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
