import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createBackupEngine } from '../src/engine/backup-engine.js';
import type { BackupLocation, BackupRequest, Compression, RestoreRequest } from '../src/engine/engine-api.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { PosixObjectStore } from '../src/storage/posix-store.js';
import { S3ObjectStore } from '../src/storage/s3-store.js';

/**
 * One engine operation in its own process, so the benchmark can read that process's peak RSS
 * and CPU time alone. The parent passes a JSON spec as argv[2]; this prints one JSON line.
 * Engine settings are the service's defaults (loadConfig of an empty environment) unless the
 * spec overrides the codec.
 */

export type StoreSpec = { kind: 'posix'; root: string } | { kind: 's3'; endpoint: string; bucket: string };

export type OpSpec =
  | { op: 'backup'; store: StoreSpec; compression: Compression; requests: (Omit<BackupRequest, 'createdAt'> & { createdAt: string })[] }
  | { op: 'restore'; store: StoreSpec; compression: Compression; request: RestoreRequest }
  | { op: 'delete'; store: StoreSpec; compression: Compression; locations: BackupLocation[] };

export interface OpOutput {
  seconds: number;
  /** Per request of a concurrent backup: seconds from start to its end. */
  each: number[];
  storedBytes: number;
  objectCount: number;
  peakRssBytes: number;
  cpuSeconds: number;
}

/** The store a spec names, with the service's default S3 client settings. */
export function openStore(s: StoreSpec): ObjectStore {
  if (s.kind === 'posix') return new PosixObjectStore(s.root);
  const c = loadConfig({ BACKUP_STORE: 's3', S3_ENDPOINT: s.endpoint, S3_BUCKET: s.bucket });
  return new S3ObjectStore({
    endpoint: s.endpoint,
    region: c.S3_REGION,
    accessKeyId: 'bench',
    secretAccessKey: 'bench-secret',
    forcePathStyle: true,
    checksumMode: c.S3_CHECKSUM_MODE,
    maxAttempts: c.S3_MAX_ATTEMPTS,
    timeoutMs: c.S3_TIMEOUT_MS,
    maxSockets: c.S3_MAX_SOCKETS,
    bucket: s.bucket,
    multipartThreshold: c.S3_MULTIPART_THRESHOLD,
  });
}

/** Peak resident set of this process (VmHWM), in bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

async function run(spec: OpSpec): Promise<OpOutput> {
  const c = loadConfig({});
  const engine = createBackupEngine({
    compression: spec.compression,
    objectSize: c.BACKUP_OBJECT_SIZE,
    blockSize: c.BACKUP_BLOCK_SIZE,
    chunksInFlight: c.BACKUP_CHUNKS_IN_FLIGHT,
    uploadConcurrency: c.BACKUP_UPLOAD_CONCURRENCY,
    workerThreads: c.BACKUP_WORKER_THREADS,
  });
  const store = openStore(spec.store);
  const out: OpOutput = { seconds: 0, each: [], storedBytes: 0, objectCount: 0, peakRssBytes: 0, cpuSeconds: 0 };
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    if (spec.op === 'backup') {
      const results = await Promise.all(
        spec.requests.map(async (r) => {
          const res = await engine.backup(store, { ...r, createdAt: new Date(r.createdAt) });
          out.each.push((performance.now() - t0) / 1000);
          return res;
        }),
      );
      for (const r of results) {
        out.storedBytes += r.storedBytes;
        out.objectCount += r.objectCount;
      }
    } else if (spec.op === 'restore') {
      await engine.restore(store, spec.request);
    } else {
      for (const l of spec.locations) await engine.deleteBackup(store, l);
    }
    out.seconds = (performance.now() - t0) / 1000;
  } finally {
    await engine.close();
    await store.close();
  }
  const cpu = process.cpuUsage(cpu0);
  out.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  out.peakRssBytes = peakRss();
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = JSON.parse(process.argv[2] ?? '{}') as OpSpec;
  run(spec).then(
    (o) => console.log(JSON.stringify(o)),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
