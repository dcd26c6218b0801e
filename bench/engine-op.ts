import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createBackupEngine } from '../src/engine/backup-engine.js';
import type { BackupLocation, BackupRequest, Compression, RestoreRequest } from '../src/engine/engine-api.js';
import { isZero } from '../src/engine/block-digest.js';
import { ownKeys } from '../src/engine/engine-context.js';
import { writeRanges } from '../src/engine/restore-reader.js';
import { WriteBehind } from '../src/engine/write-behind.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { PosixObjectStore } from '../src/storage/posix-store.js';
import { S3ObjectStore } from '../src/storage/s3-store.js';

/**
 * One engine operation in its own process, so the benchmark can read that process's peak RSS
 * and CPU time alone. The parent passes a JSON spec as argv[2]; this prints one JSON line.
 * Engine settings are the service's defaults (loadConfig of an empty environment) unless the
 * spec overrides the codec.
 */

/** An S3 store: moto takes any key; Swift s3api its own (tempauth) key and checksums only WHEN_REQUIRED. */
export type StoreSpec =
  | { kind: 'posix'; root: string }
  | { kind: 's3'; endpoint: string; bucket: string; accessKeyId?: string; secretAccessKey?: string; checksumMode?: 'WHEN_REQUIRED' };

export type OpSpec =
  | { op: 'backup'; store: StoreSpec; compression: Compression; requests: (Omit<BackupRequest, 'createdAt'> & { createdAt: string })[] }
  | { op: 'restore'; store: StoreSpec; compression: Compression; request: RestoreRequest }
  | { op: 'delete'; store: StoreSpec; compression: Compression; locations: BackupLocation[] }
  /** The store's GET ceiling: every object of `location` fetched `concurrency` at a time, bodies dropped undecoded. */
  | { op: 'get-all'; store: StoreSpec; compression: Compression; location: BackupLocation; concurrency: number }
  /**
   * A posix restore's write floor: `image`'s bytes, read into memory first (untimed), written into
   * the new sparse file `target` as a restore writes them (each object's non-zero block runs,
   * one fdatasync in flight, one fsync at the end), with no store and no decoding.
   */
  | { op: 'write-floor'; image: string; target: string };

export interface OpOutput {
  seconds: number;
  /** Per request of a concurrent backup: seconds from start to its end. */
  each: number[];
  storedBytes: number;
  objectCount: number;
  peakRssBytes: number;
  cpuSeconds: number;
  /** The kernel's part of cpuSeconds (page cache, socket and file I/O). */
  systemCpuSeconds: number;
}

/** The store a spec names, with the service's default S3 client settings. */
export function openStore(s: StoreSpec): ObjectStore {
  if (s.kind === 'posix') return new PosixObjectStore(s.root);
  // The S3_* client settings (sockets, attempts, timeouts) from the environment, so that
  // restore-compare's --baseline-env can run the same build with another setting.
  const tuning = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^S3_(MAX_|TIMEOUT|CHECKSUM|MULTIPART)/.test(k)));
  const c = loadConfig({ ...tuning, BACKUP_STORE: 's3', S3_ENDPOINT: s.endpoint, S3_BUCKET: s.bucket });
  return new S3ObjectStore({
    endpoint: s.endpoint,
    region: c.S3_REGION,
    accessKeyId: s.accessKeyId ?? 'bench',
    secretAccessKey: s.secretAccessKey ?? 'bench-secret',
    forcePathStyle: true,
    checksumMode: s.checksumMode ?? c.S3_CHECKSUM_MODE,
    maxAttempts: c.S3_MAX_ATTEMPTS,
    timeoutMs: c.S3_TIMEOUT_MS,
    maxSockets: c.S3_MAX_SOCKETS,
    bucket: s.bucket,
    multipartThreshold: c.S3_MULTIPART_THRESHOLD,
  });
}

/** Peak resident set of this process (VmHWM), in bytes. */
export function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

/** An engine with the service's default settings (loadConfig of an empty environment) and `compression`. */
export function defaultEngine(compression: Compression = loadConfig({}).BACKUP_COMPRESSION) {
  const c = loadConfig({});
  return createBackupEngine({
    compression,
    objectSize: c.BACKUP_OBJECT_SIZE,
    blockSize: c.BACKUP_BLOCK_SIZE,
    chunksInFlight: c.BACKUP_CHUNKS_IN_FLIGHT,
    uploadConcurrency: c.BACKUP_UPLOAD_CONCURRENCY,
    workerThreads: c.BACKUP_WORKER_THREADS,
  });
}

/**
 * Runs `work` with an engine and store that are closed after it, and measures it: wall seconds
 * of `work`, CPU seconds and peak RSS of this process (read after the close).
 */
export async function measured<T>(
  engine: { close(): Promise<void> },
  store: ObjectStore,
  work: (t0: number) => Promise<T>,
): Promise<{ result: T; seconds: number; cpuSeconds: number; systemCpuSeconds: number; peakRssBytes: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let result: T;
  let seconds: number;
  try {
    result = await work(t0);
    seconds = (performance.now() - t0) / 1000;
  } finally {
    await engine.close();
    await store.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return { result, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, systemCpuSeconds: cpu.system / 1e6, peakRssBytes: peakRss() };
}

/** The child process's entry: argv[2] is the JSON spec, the result is printed as one JSON line. */
export function opMain<S, O>(moduleUrl: string, run: (spec: S) => Promise<O>): void {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  run(JSON.parse(process.argv[2] ?? '{}') as S).then(
    (o) => console.log(JSON.stringify(o)),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** GETs every object of a backup, `concurrency` at a time, reading each body as a stream and dropping it; returns the bytes. */
async function getAll(store: ObjectStore, location: BackupLocation, concurrency: number): Promise<number> {
  const keys = ownKeys(await store.list(location.container, location.prefix), location.prefix);
  let next = 0;
  let bytes = 0;
  const lane = async (): Promise<void> => {
    while (next < keys.length) {
      for await (const chunk of await store.getStream(location.container, keys[next++]!)) bytes += (chunk as Buffer).length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return bytes;
}

async function writeFloor(image: string, target: string): Promise<OpOutput> {
  const c = loadConfig({});
  const data = readFileSync(image);
  const runs: Array<[number, number]> = [];
  for (let object = 0; object < data.length; object += c.BACKUP_OBJECT_SIZE) {
    const end = Math.min(data.length, object + c.BACKUP_OBJECT_SIZE);
    const zero = new Uint8Array(Math.ceil((end - object) / c.BACKUP_BLOCK_SIZE));
    for (let i = 0; i < zero.length; i++) {
      const at = object + i * c.BACKUP_BLOCK_SIZE;
      zero[i] = isZero(data.subarray(at, Math.min(end, at + c.BACKUP_BLOCK_SIZE))) ? 1 : 0;
    }
    runs.push(...writeRanges([[object, end]], object, c.BACKUP_BLOCK_SIZE, zero));
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const fh = await open(target, 'r+');
  const writeBehind = new WriteBehind(fh);
  try {
    for (const [s, e] of runs) {
      for (let done = 0; done < e - s; ) done += (await fh.write(data, s + done, e - s - done, s + done)).bytesWritten;
      writeBehind.wrote();
    }
    await writeBehind.settle();
    await fh.sync();
  } finally {
    await writeBehind.settle().catch(() => {});
    await fh.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const storedBytes = runs.reduce((n, [s, e]) => n + e - s, 0);
  return {
    seconds,
    each: [],
    storedBytes,
    objectCount: runs.length,
    peakRssBytes: peakRss(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    systemCpuSeconds: cpu.system / 1e6,
  };
}

async function run(spec: OpSpec): Promise<OpOutput> {
  if (spec.op === 'write-floor') return writeFloor(spec.image, spec.target);
  const engine = defaultEngine(spec.compression);
  const store = openStore(spec.store);
  const totals = { each: [] as number[], storedBytes: 0, objectCount: 0 };
  const m = await measured(engine, store, async (t0) => {
    if (spec.op === 'backup') {
      const results = await Promise.all(
        spec.requests.map(async (r) => {
          const res = await engine.backup(store, { ...r, createdAt: new Date(r.createdAt) });
          totals.each.push((performance.now() - t0) / 1000);
          return res;
        }),
      );
      for (const r of results) {
        totals.storedBytes += r.storedBytes;
        totals.objectCount += r.objectCount;
      }
    } else if (spec.op === 'restore') {
      await engine.restore(store, spec.request);
    } else if (spec.op === 'get-all') {
      totals.storedBytes = await getAll(store, spec.location, spec.concurrency);
    } else {
      for (const l of spec.locations) await engine.deleteBackup(store, l);
    }
  });
  return { ...totals, seconds: m.seconds, peakRssBytes: m.peakRssBytes, cpuSeconds: m.cpuSeconds, systemCpuSeconds: m.systemCpuSeconds };
}

opMain(import.meta.url, run);
