import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BackupLocation, Compression } from '../src/engine/engine-api.js';
import type { OpOutput, StoreSpec } from './engine-op.js';
import { engineBackup, fileSha256, runEngineOp, sparseFile } from './engine-runs.js';
import { sequentialRead } from './machine-limit.js';
import type { Figures } from './stats.js';

/**
 * One run of the data-path scenario on one store: full backup, 3 incrementals (1% changed each
 * time), restore into a new sparse volume and into an existing one, restore of the 3-deep chain.
 * Every operation runs in its own process (peak RSS, CPU). With `verify`, restored files are
 * compared with their sources by sha256 (outside the timings).
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface Images {
  sizeBytes: number;
  base: string;
  changed: [string, string, string]; // 1%, then 1% more, then 1% more
  label: string; // "1 GiB"
}

export interface ScenarioOptions {
  images: Images;
  store: StoreSpec;
  storeName: string; // "posix", "moto S3"
  compression: Compression;
  workdir: string;
  verify: boolean;
  /** Only the full backup and a restore into a new volume (codec comparisons). */
  short?: boolean;
}

async function restore(o: ScenarioOptions, chain: BackupLocation[], target: string, targetIsNew: boolean): Promise<OpOutput> {
  return runEngineOp({
    op: 'restore',
    store: o.store,
    compression: o.compression,
    request: { chain, target: { path: target, sizeBytes: o.images.sizeBytes }, targetIsNew },
  });
}

/**
 * The store's GET ceiling on the same backup: every object fetched 4 and 8 at a time (the restore's
 * GETs in flight, and twice that), bodies dropped; the faster, as the volume's size over the time.
 */
async function getCeiling(o: ScenarioOptions, location: BackupLocation): Promise<number> {
  let best = 0;
  for (const concurrency of [4, 8]) {
    const g = await runEngineOp({ op: 'get-all', store: o.store, compression: o.compression, location, concurrency });
    best = Math.max(best, o.images.sizeBytes / MiB / g.seconds);
  }
  return best;
}

async function check(o: ScenarioOptions, restored: string, source: string, what: string): Promise<void> {
  if (!o.verify) return;
  const [a, b] = await Promise.all([fileSha256(restored), fileSha256(source)]);
  if (a !== b) throw new Error(`${o.storeName} ${what}: restored bytes differ from the source`);
}

/** Runs the scenario once and adds its figures under section `<store> <codec>, <size>`. */
export async function dataPathRun(o: ScenarioOptions, figures: Figures, volumeId: string): Promise<void> {
  const { sizeBytes, base, changed, label } = o.images;
  const section = `ours, ${o.storeName}, ${o.compression}, ${label}`;
  const add = (metric: string, unit: string, v: number): void => figures.add(section, metric, unit, v);
  const mib = sizeBytes / MiB;
  const locations: BackupLocation[] = [];
  const target = join(o.workdir, 'restore-target.img');
  try {
    // Every backup's source is read once before it is timed, so each starts with it in the page
    // cache, as the machine limit's read stage does: the incremental's image was otherwise cold
    // (caches are dropped for the cold-read figure) while the full backup's was warm.
    sequentialRead(base);
    const full = await engineBackup(o.store, o.compression, volumeId, base, sizeBytes, null);
    locations.push(full.location);
    add('full backup', 'MiB/s', mib / full.out.seconds);
    add('full backup stored', 'MiB', full.out.storedBytes / MiB);
    add('full backup peak RSS', 'MiB', full.out.peakRssBytes / MiB);
    add('full backup CPU', 's/GiB', full.out.cpuSeconds / (sizeBytes / GiB));

    const rNew = await restore(o, [full.location], sparseFile(target, sizeBytes), true);
    add('restore, new sparse volume', 'MiB/s', mib / rNew.seconds);
    add('restore peak RSS', 'MiB', rNew.peakRssBytes / MiB);
    add('restore CPU', 's/GiB', rNew.cpuSeconds / (sizeBytes / GiB));
    await check(o, target, base, 'full restore');
    add('GET ceiling (every object fetched in parallel, undecoded), as volume MiB/s', 'MiB/s', await getCeiling(o, full.location));
    if (o.short) return;

    // An existing volume holding other data: every byte has to be written.
    copyFileSync(changed[2], target);
    const rOld = await restore(o, [full.location], target, false);
    add('restore, existing volume', 'MiB/s', mib / rOld.seconds);
    await check(o, target, base, 'restore into an existing volume');

    let parent = { backupId: full.backupId, location: full.location };
    for (let i = 0; i < 3; i++) {
      sequentialRead(changed[i]!);
      const inc = await engineBackup(o.store, o.compression, volumeId, changed[i]!, sizeBytes, parent);
      locations.push(inc.location);
      parent = { backupId: inc.backupId, location: inc.location };
      if (i === 0) {
        add('incremental after 1% change', 's', inc.out.seconds);
        add('incremental time / full time', '%', (100 * inc.out.seconds) / full.out.seconds);
        add('incremental uploaded', 'MiB', inc.out.storedBytes / MiB);
        add('incremental uploaded / volume', '%', (100 * inc.out.storedBytes) / sizeBytes);
        add('incremental peak RSS', 'MiB', inc.out.peakRssBytes / MiB);
      }
    }
    const rChain = await restore(o, locations, sparseFile(target, sizeBytes), true);
    add('restore of full + 3 incrementals, new volume', 'MiB/s', mib / rChain.seconds);
    await check(o, target, changed[2], 'chain restore');
  } finally {
    rmSync(target, { force: true });
    if (locations.length > 0) await runEngineOp({ op: 'delete', store: o.store, compression: o.compression, locations });
  }
}
