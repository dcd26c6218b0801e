import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { loadConfig } from '../src/config.js';
import { metadataName, sha256FileName } from '../src/engine/backup-format.js';
import { createBackupEngine } from '../src/engine/backup-engine.js';
import { SMALL_UPLOADS_PER_SLOT } from '../src/engine/backup-writer.js';
import type { BackupLocation, BackupRequest } from '../src/engine/engine-api.js';
import type { ObjectStore } from '../src/storage/object-store.js';
import { FileVolumeBackend } from '../src/volumes/file-backend.js';
import { openStore, type StoreSpec } from './engine-op.js';
import { generateImage, makeChangedCopy, parseSize } from './gen-image.js';
import { startMoto } from './moto.js';
import { newLocation } from './engine-runs.js';
import { warmMemory } from './warm-memory.js';

/**
 * Issue 16's figures for changed-block tracking, zstd levels and restic, in one process (CPU-bound
 * parts in the engine's worker threads): `node dist/bench/peers.js [--size 64M] [--big] [--out F]`.
 *  - incremental after a 1 % scattered change (32 KiB blocks written through the volume backend's
 *    tracked path, as the data extension writes), with CBT and without, as a ratio of the full
 *    backup's time, on posix and moto (moto on port 18510, override with --moto-port);
 *  - zstd levels 1/3/6: MiB/s and stored bytes, beside `zstd -T0 -L` on the same image;
 *  - full backup time as a ratio of `zstd -1 -T0` on the same image;
 *  - restic (Debian's) backup into a local repository, incremental after the same change (bytes
 *    added to the repository), restore, peak RSS (GNU time).
 * --big adds 8 GiB to the sizes. Prints markdown to stdout and --out.
 * --changed-mib M changes M MiB at every size instead of 1 % (the same changed bytes at 1 and 8 GiB);
 * --cbt-only leaves out the zstd levels and restic. The engine takes the service's BACKUP_* settings
 * from the environment (e.g. BACKUP_UPLOAD_CONCURRENCY), else the service's defaults.
 */

const MiB = 2 ** 20;
const BLOCK = 32 * 1024;
const log = (s: string): void => void process.stderr.write(`[peers ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

function args(): Map<string, string> {
  const m = new Map<string, string>();
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!.replace(/^--/, '');
    if (a[i + 1] !== undefined && !a[i + 1]!.startsWith('--')) m.set(k, a[++i]!);
    else m.set(k, 'true');
  }
  return m;
}

const secs = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const r = await f();
  return [r, (performance.now() - t0) / 1000];
};

function engineAt(level: number) {
  const c = loadConfig(process.env);
  return createBackupEngine({
    compression: 'zstd',
    zstdLevel: level,
    objectSize: c.BACKUP_OBJECT_SIZE,
    blockSize: c.BACKUP_BLOCK_SIZE,
    chunksInFlight: c.BACKUP_CHUNKS_IN_FLIGHT,
    uploadConcurrency: c.BACKUP_UPLOAD_CONCURRENCY,
    workerThreads: c.BACKUP_WORKER_THREADS,
  });
}

/** A shell command's wall seconds, stdout and peak RSS (GNU time %M), failing loudly. */
function timed(cmd: string, env: Record<string, string> = {}): { seconds: number; out: string; rssMiB: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'sh', '-c', cmd], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * MiB,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr.slice(-1000)}`);
  const rssKiB = Number(r.stderr.trim().split('\n').pop());
  return { seconds, out: r.stdout, rssMiB: rssKiB / 1024 };
}

const peakRssMiB = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;

/**
 * Writes back every dirty page before a timed step: otherwise a posix store's fsyncs wait behind
 * the writeback of what the steps before wrote (an 8 GiB volume copied in just before), which a
 * real incremental, hours after the volume's writes, does not meet.
 */
const settle = (): void => void spawnSync('sync');

const duBytes = (dir: string): number => Number(spawnSync('du', ['-sb', dir], { encoding: 'utf8' }).stdout.split('\t')[0]);

/** The volume `id` under `data`, holding `image`'s bytes, written through the tracked path. */
async function volumeFrom(volumes: FileVolumeBackend, id: string, image: string, size: number): Promise<void> {
  await volumes.createVolume(id, size);
  await volumes.trackWrite(id, 0, size, async () => copyFileSync(image, volumes.volumePath(id)));
}

/** Rewrites `blocks` of the volume with `changed`'s bytes, one tracked write per block (a data-extension PUT each). */
async function applyChange(volumes: FileVolumeBackend, id: string, changed: string, blocks: number[], size: number): Promise<void> {
  const src = openSync(changed, 'r');
  const buf = Buffer.alloc(BLOCK);
  try {
    for (const b of blocks) {
      const len = Math.min(BLOCK, size - b * BLOCK);
      readSync(src, buf, 0, len, b * BLOCK);
      await volumes.trackWrite(id, b * BLOCK, len, async () => {
        const fh = await open(volumes.volumePath(id), 'r+');
        await fh.write(buf, 0, len, b * BLOCK);
        await fh.close();
      });
    }
  } finally {
    closeSync(src);
  }
}

interface CbtRow {
  store: string;
  size: number;
  full: number;
  incFull: number;
  incCbt: number;
  readFull: number;
  readCbt: number;
  sameStored: boolean;
  /** Restore of full + CBT incremental into a new sparse file, seconds. */
  restore: number;
  /** The store alone: as many PUTs of the CBT incremental's mean object size, as many in flight, seconds. */
  storePuts: number;
}

/**
 * The store's own floor for an incremental's objects: `count` PUTs of `bytes` each, `inFlight` at a
 * time, under a prefix of their own (deleted after). What no engine can beat on this store.
 */
async function timePuts(store: ObjectStore, container: string, count: number, bytes: number, inFlight: number): Promise<number> {
  const body = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) body[i] = (i * 2654435761) >>> 24; // incompressible enough; not compressed here anyway
  const md5 = createHash('md5').update(body).digest('base64');
  const prefix = `floor-${randomUUID()}/`;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let k = next++; k < count; k = next++) await store.put(container, `${prefix}${k}`, body, { md5 });
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await store.deleteMany(container, await store.list(container, prefix));
  return seconds;
}

async function cbtRun(
  work: string,
  image: string,
  changed: string,
  blocks: number[],
  size: number,
  spec: StoreSpec,
  name: string,
): Promise<CbtRow> {
  const volumes = new FileVolumeBackend(join(work, `data-${name.replace(/\W/g, '')}`));
  await volumes.init();
  const id = randomUUID();
  await volumeFrom(volumes, id, image, size);
  const engine = engineAt(3);
  const store = openStore(spec);
  const path = volumes.volumePath(id);
  const req = (location: BackupLocation, backupId: string, parent: BackupRequest['parent']): BackupRequest => ({
    backupId,
    volumeId: id,
    name: null,
    description: null,
    createdAt: new Date(),
    location,
    source: { path, sizeBytes: size },
    parent,
    volumeMeta: null,
  });
  try {
    const fullId = randomUUID();
    const fullLoc = newLocation(spec, id, fullId);
    const before = await volumes.volumeStamp(id);
    settle();
    const [, full] = await secs(() => engine.backup(store, req(fullLoc, fullId, null)));
    await volumes.resetChangedBlocks(id, fullId, before);
    await applyChange(volumes, id, changed, blocks, size);
    const parent = { backupId: fullId, location: fullLoc };
    const map = await volumes.changedBlocks(id, fullId, size, BLOCK);
    if (!map.changed) throw new Error(`CBT not usable: ${map.fallback}`);
    settle();
    const a = randomUUID();
    const [ra, incFull] = await secs(() => engine.backup(store, req(newLocation(spec, id, a), a, parent)));
    settle();
    const b = randomUUID();
    const cbtLoc = newLocation(spec, id, b);
    const [rb, incCbt] = await secs(() => engine.backup(store, { ...req(cbtLoc, b, parent), changedBlocks: map.changed }));
    const target = join(work, `restore-${b}.img`);
    writeFileSync(target, '');
    const [, restore] = await secs(() =>
      engine.restore(store, { chain: [fullLoc, cbtLoc], target: { path: target, sizeBytes: size }, targetIsNew: true }),
    );
    rmSync(target, { force: true });
    // The mean size of the data objects alone: storedBytes also counts the hash list and _metadata.
    const listBytes = (await store.head(cbtLoc.container, sha256FileName(cbtLoc.prefix)))?.size ?? 0;
    const metaBytes = (await store.head(cbtLoc.container, metadataName(cbtLoc.prefix)))?.size ?? 0;
    const dataBytes = rb.storedBytes - listBytes - metaBytes;
    const smallInFlight = loadConfig(process.env).BACKUP_UPLOAD_CONCURRENCY * SMALL_UPLOADS_PER_SLOT;
    const storePuts = await timePuts(
      store,
      cbtLoc.container,
      rb.objectCount,
      Math.round(dataBytes / Math.max(1, rb.objectCount)),
      smallInFlight,
    );
    return {
      store: name,
      size,
      full,
      incFull,
      incCbt,
      readFull: ra.bytesRead,
      readCbt: rb.bytesRead,
      sameStored: ra.storedBytes === rb.storedBytes && ra.objectCount === rb.objectCount,
      restore,
      storePuts,
    };
  } finally {
    await engine.close();
    await store.close();
    // At 8 GiB every run's volume and posix store would otherwise stay until the end (disk full).
    rmSync(join(work, `data-${name.replace(/\W/g, '')}`), { recursive: true, force: true });
    if (spec.kind === 'posix') rmSync(spec.root, { recursive: true, force: true });
  }
}

const f1 = (x: number): string => x.toFixed(1);
const f2 = (x: number): string => x.toFixed(2);
const pct = (a: number, b: number): string => `${((a / b) * 100).toFixed(1)} %`;
const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const a = args();
  const sizes = [parseSize(a.get('size') ?? '64M'), ...(a.has('big') ? [8 * 2 ** 30] : [])];
  const work = a.get('workdir') ?? join(process.env.TMPDIR ?? '/tmp', `cbt-peers-${process.pid}`);
  const motoPort = Number(a.get('moto-port') ?? 18510);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const lines: string[] = [];
  const started = new Date();
  lines.push(
    `Run ${started.toISOString()} with \`node dist/bench/peers.js ${process.argv.slice(2).join(' ')}\`, load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}.`,
    '',
  );
  if (a.has('warm-memory')) lines.push(`Warmed memory first: ${warmMemory()}.`, '');
  const moto = await startMoto(motoPort).catch((err: Error) => {
    log(`moto not started: ${err.message}`);
    return null;
  });
  try {
    for (const size of sizes) {
      const label = size >= 2 ** 30 ? `${size / 2 ** 30} GiB` : `${size / MiB} MiB`;
      log(`image ${label}`);
      const image = join(work, `base-${size}.img`);
      const changed = join(work, `changed-${size}.img`);
      generateImage(image, size, 1);
      const fraction = a.has('changed-mib') ? (Number(a.get('changed-mib')) * MiB) / size : 0.01;
      const blocks = makeChangedCopy(image, changed, size, fraction, 2);

      // --- CBT vs full hash ---
      const rows: CbtRow[] = [];
      rows.push(await cbtRun(work, image, changed, blocks, size, { kind: 'posix', root: join(work, `store-${size}`) }, 'posix'));
      if (moto)
        rows.push(
          await cbtRun(work, image, changed, blocks, size, { kind: 's3', endpoint: moto.endpoint, bucket: `peers${size}` }, 'moto S3'),
        );
      lines.push(
        `#### ${label}: incremental after ${(fraction * 100).toFixed(2)} % scattered change (${blocks.length} blocks of 32 KiB), with and without CBT`,
        '',
      );
      lines.push(
        '| store | full backup | incremental, full read | / full | incremental, CBT | / full | read: full-read / CBT | same objects stored | store alone: its PUTs | / full |',
      );
      lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const r of rows)
        lines.push(
          `| ${r.store} | ${f2(r.full)} s | ${f2(r.incFull)} s | ${pct(r.incFull, r.full)} | ${f2(r.incCbt)} s | ${pct(r.incCbt, r.full)} | ${mib(r.readFull)} / ${mib(r.readCbt)} | ${r.sameStored ? 'yes' : 'NO'} | ${f2(r.storePuts)} s | ${pct(r.storePuts, r.full)} |`,
        );
      lines.push('');

      if (a.has('cbt-only')) {
        for (const p of [image, changed]) rmSync(p, { force: true });
        continue;
      }

      // --- zstd levels vs the zstd command ---
      lines.push(`#### ${label}: zstd levels, ours (posix, full backup) vs \`zstd -T0\` on the same image`, '');
      lines.push('| level | ours MiB/s | ours stored | zstd -T0 MiB/s | zstd -T0 bytes | ours time / zstd time |');
      lines.push('| --- | --- | --- | --- | --- | --- |');
      let zstd1 = 0;
      for (const level of [1, 3, 6]) {
        const engine = engineAt(level);
        const spec: StoreSpec = { kind: 'posix', root: join(work, `zstd-${size}-${level}`) };
        const store = openStore(spec);
        const id = randomUUID();
        const loc = newLocation(spec, id, id);
        const [r, t] = await secs(() =>
          engine.backup(store, {
            backupId: id,
            volumeId: id,
            name: null,
            description: null,
            createdAt: new Date(),
            location: loc,
            source: { path: image, sizeBytes: size },
            parent: null,
            volumeMeta: null,
          }),
        );
        await engine.close();
        await store.close();
        rmSync(join(work, `zstd-${size}-${level}`), { recursive: true, force: true });
        const z = timed(`zstd -T0 -${level} -c ${image} | wc -c`);
        if (level === 1) zstd1 = z.seconds;
        lines.push(
          `| ${level} | ${f1(size / MiB / t)} | ${mib(r.storedBytes)} | ${f1(size / MiB / z.seconds)} | ${mib(Number(z.out.trim()))} | ${f2(t / z.seconds)} |`,
        );
        if (level === 3) lines.push(`| | full backup at the default level 3 / \`zstd -1 -T0\` time: ${f2(t / zstd1)} | | | | |`);
      }
      lines.push('');

      // --- restic ---
      const repo = join(work, `restic-${size}`);
      const src = join(work, `restic-src-${size}`);
      mkdirSync(src, { recursive: true });
      copyFileSync(image, join(src, 'volume.img'));
      const env = { RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(work, 'restic-cache') };
      timed('restic init --quiet', env);
      const b1 = timed(`restic backup --quiet ${src}`, env);
      const afterFull = duBytes(repo);
      copyFileSync(changed, join(src, 'volume.img'));
      const b2 = timed(`restic backup --quiet ${src}`, env);
      const added = duBytes(repo) - afterFull;
      const target = join(work, `restic-restore-${size}`);
      const rr = timed(`restic restore --quiet latest --target ${target}`, env);
      const restoredOk = statSync(join(target, src, 'volume.img')).size === size;
      // Ours, the same steps in one engine (posix): full, incremental after the same change, restore.
      const ours = await cbtRun(work, image, changed, blocks, size, { kind: 'posix', root: join(work, `ours-${size}`) }, 'posix');
      lines.push(
        `#### ${label}: ours vs restic ${spawnSync('restic', ['version'], { encoding: 'utf8' }).stdout.split(' ')[1]} (local repository)`,
        '',
      );
      lines.push('| | ours (posix, zstd 3) | restic | Cinder |');
      lines.push('| --- | --- | --- | --- |');
      lines.push(`| full backup | ${f2(ours.full)} s | ${f2(b1.seconds)} s, stored ${mib(afterFull)} | not run in this part |`);
      lines.push(
        `| incremental after the 1 % change | ${f2(ours.incCbt)} s (CBT), ${f2(ours.incFull)} s (full read) | ${f2(b2.seconds)} s, ${mib(added)} added | not run in this part |`,
      );
      lines.push(
        `| restore (ours: full + incremental chain, new sparse file) | ${f2(ours.restore)} s | ${f2(rr.seconds)} s (${restoredOk ? 'size checked' : 'SIZE MISMATCH'}) | not run in this part |`,
      );
      lines.push(
        `| peak RSS (backup / incremental / restore) | ${f1(peakRssMiB())} MiB: this whole bench process so far (an upper bound; per operation: the main report) | ${f1(b1.rssMiB)} / ${f1(b2.rssMiB)} / ${f1(rr.rssMiB)} MiB | |`,
      );
      lines.push('');
      for (const p of [image, changed, src, target, repo]) rmSync(p, { recursive: true, force: true });
    }
  } finally {
    await moto?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const md = `${lines.join('\n')}\n`;
  process.stdout.write(md);
  if (a.has('out')) writeFileSync(a.get('out')!, md);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
