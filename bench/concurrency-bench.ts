import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { StoreSpec } from './engine-op.js';
import { newLocation, runEngineOp } from './engine-runs.js';
import { generateImage } from './gen-image.js';
import type { Figures } from './stats.js';

/**
 * `count` simultaneous full backups of different volumes through ONE engine (one process, one
 * worker pool), as the service's job worker runs them: total MiB/s, fairness (fastest / slowest
 * backup's time), peak RSS of the process.
 */
export async function concurrencyRun(o: {
  workdir: string;
  store: StoreSpec;
  count: number;
  sizeBytes: number;
  runs: number;
  figures: Figures;
  log: (s: string) => void;
}): Promise<void> {
  const label = o.sizeBytes >= 2 ** 30 ? `${o.sizeBytes / 2 ** 30} GiB` : `${o.sizeBytes / 2 ** 20} MiB`;
  const section = `ours, ${o.count} concurrent backups of ${label} volumes, ${o.store.kind}, zstd`;
  o.log(`${section}: generating ${o.count} images`);
  const images = Array.from({ length: o.count }, (_, i) => {
    const path = join(o.workdir, `conc-${i}.img`);
    generateImage(path, o.sizeBytes, 101 + i);
    return { path, volumeId: randomUUID() };
  });
  try {
    for (let run = 1; run <= o.runs; run++) {
      o.log(`${section}: run ${run}/${o.runs}`);
      const requests = images.map((im) => {
        const backupId = randomUUID();
        return {
          backupId,
          volumeId: im.volumeId,
          name: null,
          description: null,
          createdAt: new Date().toISOString(),
          location: newLocation(o.store, im.volumeId, backupId),
          source: { path: im.path, sizeBytes: o.sizeBytes },
          parent: null,
          volumeMeta: null,
        };
      });
      const out = await runEngineOp({ op: 'backup', store: o.store, compression: 'zstd', requests });
      o.figures.add(section, 'total throughput', 'MiB/s', (o.count * o.sizeBytes) / 2 ** 20 / out.seconds);
      o.figures.add(section, 'per backup, fastest', 's', Math.min(...out.each));
      o.figures.add(section, 'per backup, slowest', 's', Math.max(...out.each));
      o.figures.add(section, 'fairness: fastest / slowest time', '%', (100 * Math.min(...out.each)) / Math.max(...out.each));
      o.figures.add(section, 'peak RSS of the process', 'MiB', out.peakRssBytes / 2 ** 20);
      await runEngineOp({ op: 'delete', store: o.store, compression: 'zstd', locations: requests.map((r) => r.location) });
    }
  } finally {
    for (const im of images) rmSync(im.path, { force: true });
  }
}
