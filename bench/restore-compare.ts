/**
 * Restore side by side (issue 16): one backup of a generated image per store, then, in every run,
 * a restore into a new sparse volume by this build and by each `--baseline` build (another
 * checkout's `dist/`, e.g. main's) in turn, and the store's GET ceiling (every object of the same
 * backup fetched in parallel, undecoded); on posix also the volume's write floor (the restore's
 * writes of the same bytes from memory, with its flushes). Each operation runs in its own process:
 * its peak RSS (VmHWM) and CPU are its own. Prints one markdown table of medians (min–max) and the load.
 *
 *   node dist/bench/restore-compare.js --size 1G --runs 3 [--baseline /path/to/other/dist] [--baseline-env K=V]
 *     [--no-s3] [--no-posix] [--swift] [--cpu-prof DIR] [--warm-memory]
 *
 * --cpu-prof DIR writes a V8 CPU profile of each restore by this build (main thread and decode
 * workers, one .cpuprofile each) into DIR.
 *
 * --swift adds a Swift all-in-one with s3api (scripts/swift/start-swift.sh, Debian's swift
 * packages; as root it installs them), started for the run and stopped after it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { OpOutput, OpSpec, StoreSpec } from './engine-op.js';
import { engineBackup, fileSha256, sparseFile } from './engine-runs.js';
import { generateImage, parseSize } from './gen-image.js';
import { repoRoot } from './cinder.js';
import { startMoto } from './moto.js';
import { Figures, formatFigure } from './stats.js';
import { warmMemory } from './warm-memory.js';

const MiB = 2 ** 20;
const log = (s: string): void => void process.stderr.write(`[restore-compare ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** Runs one engine operation with the engine-op.js of the build in `dist` (with `nodeArgs`, e.g. --cpu-prof). */
function opIn(dist: string, spec: OpSpec, nodeArgs: string[] = [], env: Record<string, string> = {}): Promise<OpOutput> {
  const args = [...nodeArgs, join(dist, 'bench/engine-op.js'), JSON.stringify(spec)];
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 2 ** 24, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${spec.op} (${dist}) failed: ${stderr.slice(-2000) || err.message}`))
        : resolve(JSON.parse(stdout.trim().split('\n').pop()!)),
    ),
  );
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (k: string): string | undefined => argv[argv.indexOf(`--${k}`) + 1];
  const size = parseSize(arg('size') ?? '1G');
  const runs = Number(arg('runs') ?? 3);
  const self = fileURLToPath(new URL('..', import.meta.url));
  const baselines = argv.flatMap((a, i) => (a === '--baseline' ? [argv[i + 1]!] : []));
  const profileDir = argv.includes('--cpu-prof') ? arg('cpu-prof') : undefined;
  // --baseline-env K=V: this build once more, run with K=V (e.g. S3_MAX_SOCKETS=4), as a baseline.
  const envBaselines = argv.flatMap((a, i) => (a === '--baseline-env' ? [argv[i + 1]!] : []));
  const builds: Array<[string, string, Record<string, string>]> = [
    ['this build', self, {}],
    ...baselines.map((b, i): [string, string, Record<string, string>] => [`baseline ${i + 1} (${b})`, b, {}]),
    ...envBaselines.map((kv): [string, string, Record<string, string>] => {
      const [k, v] = kv.split('=') as [string, string];
      return [`this build, ${kv}`, self, { [k]: v }];
    }),
  ];
  const workdir = join(tmpdir(), `restore-compare-${process.pid}`);
  mkdirSync(workdir, { recursive: true });
  const figures = new Figures();
  if (argv.includes('--warm-memory')) log(`warmed memory: ${warmMemory()}`);
  const moto = argv.includes('--no-s3') ? null : await startMoto();
  const swift = argv.includes('--swift') ? startSwift(join(workdir, 'swift')) : null;
  const stores: Array<[string, StoreSpec]> = [
    ...(argv.includes('--no-posix') ? [] : [['posix', { kind: 'posix', root: join(workdir, 'store') }] as [string, StoreSpec]]),
    ...(moto ? [['moto S3', { kind: 's3', endpoint: moto.endpoint, bucket: 'volumebackups' }] as [string, StoreSpec]] : []),
    ...(swift
      ? [['Swift s3api', { kind: 's3', bucket: 'volumebackups', checksumMode: 'WHEN_REQUIRED', ...swift.keys }] as [string, StoreSpec]]
      : []),
  ];
  const loads: string[] = [`start ${loadavg()[0]!.toFixed(2)}`];
  try {
    const image = join(workdir, 'image.img');
    generateImage(image, size, 1);
    const want = await fileSha256(image);
    const target = join(workdir, 'target.img');
    for (const [storeName, store] of stores) {
      const b = await engineBackup(store, 'zstd', randomUUID(), image, size, null);
      log(`${storeName}: backed up ${size / MiB} MiB (${(b.out.storedBytes / MiB).toFixed(0)} MiB stored, ${b.out.objectCount} objects)`);
      for (let run = 1; run <= runs; run++) {
        for (const [name, dist, env] of builds) {
          const o = await opIn(
            dist,
            {
              op: 'restore',
              store,
              compression: 'zstd',
              request: { chain: [b.location], target: { path: sparseFile(target, size), sizeBytes: size }, targetIsNew: true },
            },
            profileDir && dist === self ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, storeName.replace(/\W+/g, '-'))] : [],
            env,
          );
          if (run === 1 && (await fileSha256(target)) !== want) throw new Error(`${name}, ${storeName}: restored bytes differ`);
          const section = `${storeName}, ${name}`;
          figures.add(section, 'restore, new sparse volume', 'MiB/s', size / MiB / o.seconds);
          figures.add(section, 'restore peak RSS', 'MiB', o.peakRssBytes / MiB);
          figures.add(section, 'restore CPU', 's/GiB', o.cpuSeconds / (size / 2 ** 30));
          figures.add(section, 'restore CPU, of it the kernel', 's/GiB', o.systemCpuSeconds / (size / 2 ** 30));
        }
        for (const concurrency of [4, 8]) {
          const g = await opIn(self, { op: 'get-all', store, compression: 'zstd', location: b.location, concurrency });
          figures.add(
            `${storeName}, GET ceiling`,
            `${concurrency} GETs in flight, volume MiB/s equivalent`,
            'MiB/s',
            size / MiB / g.seconds,
          );
        }
        if (store.kind === 'posix') {
          // What the restore's writes alone cost on this disk: the same bytes, no store, no decoding.
          const w = await opIn(self, { op: 'write-floor', image, target: sparseFile(target, size) });
          figures.add(`${storeName}, volume write floor`, "the restore's writes alone, volume MiB/s", 'MiB/s', size / MiB / w.seconds);
          figures.add(`${storeName}, volume write floor`, 'CPU, of it the kernel', 's/GiB', w.systemCpuSeconds / (size / 2 ** 30));
        }
        rmSync(target, { force: true });
        loads.push(`${storeName} run ${run} ${loadavg()[0]!.toFixed(2)}`);
        log(`${storeName} run ${run}/${runs} done`);
      }
    }
  } finally {
    await moto?.stop();
    swift?.stop();
    rmSync(workdir, { recursive: true, force: true });
  }
  console.log(`Restore of a ${size / MiB} MiB image, ${runs} runs, load average (1 min): ${loads.join(', ')}\n`);
  console.log('| section | figure | median (min–max) | unit |\n| --- | --- | --- | --- |');
  for (const f of figures.all()) console.log(`| ${f.section} | ${f.metric} | ${formatFigure(f)} | ${f.unit} |`);
}

/** Starts a Swift all-in-one on free ports in `dir` (scripts/swift) and returns its S3 endpoint and keys. */
function startSwift(dir: string): { keys: { endpoint: string; accessKeyId: string; secretAccessKey: string }; stop: () => void } {
  const script = (name: string) => join(repoRoot(), 'scripts/swift', name);
  const env = { ...process.env, SWIFT_PORT: '18480', SWIFT_BACKEND_PORT: '18490', SWIFT_MEMCACHED_PORT: '18499' };
  const out = execFileSync('bash', [script('start-swift.sh'), dir], { env, encoding: 'utf8' });
  const v = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(out)?.[1] ?? '';
  log(`Swift s3api at ${v('TEST_SWIFT_S3_ENDPOINT')}`);
  return {
    keys: { endpoint: v('TEST_SWIFT_S3_ENDPOINT'), accessKeyId: v('TEST_SWIFT_ACCESS_KEY'), secretAccessKey: v('TEST_SWIFT_SECRET_KEY') },
    stop: () => void execFileSync('bash', [script('stop-swift.sh'), dir], { env, stdio: 'ignore' }),
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
