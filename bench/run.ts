import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { cinderStatus, installCinder, repoRoot } from './cinder.js';
import { cinderRun } from './cinder-bench.js';
import { concurrencyRun } from './concurrency-bench.js';
import { dataPathRun, type Images } from './data-path.js';
import type { StoreSpec } from './engine-op.js';
import { generateImage, makeChangedCopy, parseSize } from './gen-image.js';
import { measureMachineLimit, type MachineLimit } from './machine-limit.js';
import { startMoto, type Moto } from './moto.js';
import { computeRatios } from './ratios.js';
import { renderMarkdown, renderText } from './report.js';
import { Figures } from './stats.js';
import { apiBench } from './api-bench.js';
import { cbrBench } from './cbr-bench.js';
import { dbBench } from './db-bench.js';
import { engineBackup, runEngineOp } from './engine-runs.js';
import { profileMarkdown, summariseProfiles } from './profile.js';
import { warmMemory } from './warm-memory.js';

/**
 * `npm run bench` (build, then node dist/bench/run.js). Options:
 *   --sizes 1G,8G   image sizes (default 1G,8G; --smoke: 64M)
 *   --runs 3        repetitions per figure (default 3; --smoke: 1); a list gives one count per size: 3,1
 *   --concurrency-runs N   repetitions of the 8-concurrent-backups figure (default: the first --runs)
 *   --short-above 1G   larger sizes run only full backup + restore into a new volume (RSS, MiB/s)
 *   --s3-max-size 1G   larger sizes run only the posix scenario (no moto, no Cinder): reported as a gap
 *   --smoke         the CI size: finishes in a minute or two, writes bench/out/BENCHMARKS.smoke.md
 *   --cbr-runs N    repetitions of the CBR checkpoint vs sequential Cinder backups figure (default: the first --runs)
 *   --db-scale N    pgbench scale of the database section (default 66, about 1 GiB; --smoke: 1)
 *   --db-runs N     repetitions of the database section (default: the first --runs)
 *   --api-runs N    repetitions of the API loads, list cache off and on alternately (default: the first --runs)
 *   --peers / --no-peers   bench/peers.ts (CBT vs full read, zstd levels 1/3/6 vs zstd -T0, restic) at the smallest size
 *                  (with --big when 8G is among the sizes); on by default, off in --smoke unless --peers
 *   --no-data --no-cinder --no-s3 --no-api --no-concurrency --no-cbr --no-db   leave a part out (reported as a gap)
 *   --warm-memory   first touch nearly all free memory once (bench/warm-memory.ts): this VM's host backs memory lazily
 *   --workdir DIR   where images and the posix store go (default $TMPDIR/cbt-bench-<pid>)
 *   --out FILE      the markdown report (default BENCHMARKS.md at the repository root)
 */

const log = (s: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!.replace(/^--/, '');
    if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) m.set(k, argv[++i]!);
    else m.set(k, 'true');
  }
  return m;
}

function makeImages(workdir: string, sizeBytes: number, label: string, baseOnly: boolean): Images {
  const base = join(workdir, `base-${label.replace(' ', '')}.img`);
  const st = generateImage(base, sizeBytes, 1);
  log(`  generated ${base} in ${st.seconds.toFixed(1)} s: ${JSON.stringify(st.pages)}`);
  if (baseOnly) return { sizeBytes, base, changed: [base, base, base], label };
  const changed = [1, 2, 3].map((i) => join(workdir, `changed${i}-${label.replace(' ', '')}.img`)) as [string, string, string];
  makeChangedCopy(base, changed[0], sizeBytes, 0.01, 2);
  makeChangedCopy(changed[0], changed[1], sizeBytes, 0.01, 3);
  makeChangedCopy(changed[1], changed[2], sizeBytes, 0.01, 4);
  return { sizeBytes, base, changed, label };
}

const sizeLabel = (b: number): string => (b >= 2 ** 30 ? `${+(b / 2 ** 30).toFixed(2)} GiB` : `${+(b / 2 ** 20).toFixed(1)} MiB`);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const smoke = args.has('smoke');
  const sizes = (args.get('sizes') ?? (smoke ? '64M' : '1G,8G')).split(',').map(parseSize);
  const runList = (args.get('runs') ?? (smoke ? '1' : '3')).split(',').map(Number);
  const runsFor = (i: number): number => runList[Math.min(i, runList.length - 1)]!;
  const shortAbove = args.has('short-above') ? parseSize(args.get('short-above')!) : Infinity;
  const s3MaxSize = args.has('s3-max-size') ? parseSize(args.get('s3-max-size')!) : Infinity;
  const workdir = args.get('workdir') ?? join(tmpdir(), `cbt-bench-${process.pid}`);
  const out = args.get('out') ?? join(repoRoot(), smoke ? 'bench/out/BENCHMARKS.smoke.md' : 'BENCHMARKS.md');
  const command = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  const startedAt = new Date();
  rmSync(workdir, { recursive: true, force: true });
  mkdirSync(workdir, { recursive: true });
  const figures = new Figures();
  const limits = new Map<string, MachineLimit[]>();
  const gaps: string[] = [];
  const notes: string[] = [
    `load average at the start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  ];

  if (args.has('warm-memory')) notes.push(`warmed memory first: ${warmMemory()} (bench/warm-memory.ts)`);
  let cinder = cinderStatus();
  if (!args.has('no-cinder') && !cinder.available) {
    log('installing python3-cinder (apt) for the side-by-side comparison');
    cinder = installCinder();
  }
  let moto: Moto | null = null;
  if (!args.has('no-s3')) {
    try {
      moto = await startMoto();
      log(`moto_server at ${moto.endpoint} (pid ${moto.pid})`);
    } catch (err) {
      gaps.push(`S3 figures: moto_server could not start (${(err as Error).message})`);
    }
  } else gaps.push('S3 figures: left out (--no-s3)');
  if (args.has('no-cinder')) gaps.push("Cinder's driver: left out (--no-cinder)");
  else if (!cinder.available) gaps.push(`Cinder's driver: ${cinder.reason}`);
  else if (!moto) gaps.push("Cinder's driver: needs moto_server");

  // The report is rewritten after every stage, so an interrupted run still leaves its figures.
  const dbRuns = Number(args.get('db-runs') ?? runList[0]);
  const runsText = [
    ...(args.has('no-data') ? [] : sizes.map((sz, i) => `${sizeLabel(sz)} x${runsFor(i)}`)),
    ...(args.has('no-db') ? [] : [`database x${dbRuns}`]),
  ].join(', ');
  const labels = args.has('no-data') ? [] : sizes.map(sizeLabel);
  const writeReport = (final: boolean): void => {
    const pending = final ? [] : ['this report was written part-way through the run; later stages are missing'];
    const report = {
      command,
      startedAt,
      runs: runsText,
      limits,
      figures,
      ratios: computeRatios(figures, limits, labels),
      gaps: [...gaps, ...pending],
      notes,
    };
    if (final) console.log(renderText(report));
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, renderMarkdown(report));
  };

  const posix: StoreSpec = { kind: 'posix', root: join(workdir, 'store') };
  const s3All: StoreSpec | null = moto ? { kind: 's3', endpoint: moto.endpoint, bucket: 'volumebackups' } : null;
  try {
    if (args.has('no-data')) gaps.push('data path: left out (--no-data)');
    for (const [sizeIndex, size] of (args.has('no-data') ? [] : sizes).entries()) {
      const label = sizeLabel(size);
      const runs = runsFor(sizeIndex);
      const s3 = size <= s3MaxSize ? s3All : null;
      if (s3All && !s3) gaps.push(`${label}: S3 and Cinder figures left out (--s3-max-size ${args.get('s3-max-size')})`);
      log(`${label}: generating images`);
      const short = size > shortAbove;
      if (short) gaps.push(`${label}: only full backup and restore into a new volume (--short-above ${args.get('short-above')})`);
      const images = makeImages(workdir, size, label, short);
      const volumeId = randomUUID();
      limits.set(label, []);
      for (let run = 1; run <= runs; run++) {
        const verify = run === 1;
        log(`${label} run ${run}/${runs}: machine limit`);
        limits.get(label)!.push(await measureMachineLimit(images.base, log));
        log(`${label} run ${run}/${runs}: our engine, posix, zstd`);
        await dataPathRun({ images, store: posix, storeName: 'posix', compression: 'zstd', workdir, verify, short }, figures, volumeId);
        if (s3) {
          log(`${label} run ${run}/${runs}: our engine, moto S3, zstd`);
          await dataPathRun({ images, store: s3, storeName: 'moto S3', compression: 'zstd', workdir, verify }, figures, volumeId);
          log(`${label} run ${run}/${runs}: our engine, moto S3, zlib`);
          await dataPathRun(
            { images, store: s3, storeName: 'moto S3', compression: 'zlib', workdir, verify, short: true },
            figures,
            volumeId,
          );
          if (cinder.available && !args.has('no-cinder')) {
            log(`${label} run ${run}/${runs}: Cinder's S3BackupDriver, zlib`);
            await cinderRun(images, moto!.endpoint, 'volumebackups', workdir, figures, verify);
          }
          figures.add(`moto_server, ${label}`, 'moto peak RSS so far', 'MiB', moto!.rss().peak / 2 ** 20);
        }
      }
      if (size === sizes[0] && !args.has('no-profile')) {
        log(`${label}: CPU profile of one full backup (posix, zstd)`);
        const dir = join(workdir, 'profile');
        const b = await engineBackup(posix, 'zstd', volumeId, images.base, size, null, ['--cpu-prof', '--cpu-prof-dir', dir]);
        await runEngineOp({ op: 'delete', store: posix, compression: 'zstd', locations: [b.location] });
        notes.push(
          `CPU profile of one full backup, posix, zstd, ${label} (${(size / 2 ** 20 / b.out.seconds).toFixed(0)} MiB/s while profiled), one line per thread:`,
        );
        notes.push(...profileMarkdown(summariseProfiles(dir)).map((l) => `  ${l.slice(2)}`));
      }
      if (!args.has('keep-images')) for (const f of [images.base, ...images.changed]) rmSync(f, { force: true });
      writeReport(false);
    }
    if (args.has('no-concurrency')) gaps.push('8 concurrent backups: left out (--no-concurrency)');
    else
      await concurrencyRun({
        workdir,
        store: posix,
        count: 8,
        sizeBytes: smoke ? sizes[0]! / 4 : 2 ** 30,
        runs: Number(args.get('concurrency-runs') ?? runList[0]),
        figures,
        log,
      });
    writeReport(false);
    if (args.has('no-cbr')) gaps.push('CBR checkpoint vs Cinder API backups: left out (--no-cbr)');
    else await cbrBench({ smoke, runs: Number(args.get('cbr-runs') ?? runList[0]), figures, gaps, log, workdir });
    writeReport(false);
    if (args.has('no-db')) gaps.push('database section: left out (--no-db)');
    else
      await dbBench({
        smoke,
        runs: dbRuns,
        scale: args.has('db-scale') ? Number(args.get('db-scale')) : undefined,
        workdir,
        figures,
        gaps,
        notes,
        log,
        onRun: () => writeReport(false),
      });
    writeReport(false);
    if (args.has('no-api')) gaps.push('API load: left out (--no-api)');
    else await apiBench({ smoke, runs: Number(args.get('api-runs') ?? runList[0]), figures, gaps, notes, log, workdir });
  } finally {
    await moto?.stop();
  }
  // Issue 16's CBT / zstd-level / restic figures (bench/peers.ts, its own moto): off in the smoke run unless --peers.
  const peers = args.has('peers') || (!smoke && !args.has('no-peers'));
  if (!peers)
    gaps.push(`CBT, zstd levels, restic (bench/peers.ts): left out${smoke ? ' of the smoke run (add --peers)' : ' (--no-peers)'}`);
  writeReport(true);
  if (peers) {
    log('CBT, zstd levels and restic (bench/peers.ts)');
    const big = sizes.some((sz) => sz >= 8 * 2 ** 30) ? ['--big'] : [];
    const r = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('./peers.js', import.meta.url)), '--size', String(Math.min(...sizes)), ...big],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 16 * 2 ** 20,
      },
    );
    appendFileSync(
      out,
      `\n## Changed-block tracking, zstd levels and restic (bench/peers.ts)\n\n${r.status === 0 ? r.stdout : `failed (exit ${r.status}); see the log\n`}`,
    );
  }
  log(`wrote ${out}`);
  rmSync(workdir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
