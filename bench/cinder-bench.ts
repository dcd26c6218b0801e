import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { runCinder, type CinderTarget } from './cinder.js';
import type { Images } from './data-path.js';
import { fileSha256 } from './engine-runs.js';
import { sequentialRead } from './machine-limit.js';
import type { Figures } from './stats.js';

/**
 * One run of Cinder's own S3BackupDriver (Debian python3-cinder, default options: 50 MiB objects,
 * zlib) on the same image and the same moto: full backup, incremental after the 1% change,
 * restore of the full backup into a new file. Times are the driver calls alone (the script's
 * `elapsed`, excluding Python's ~2 s start-up); RSS and CPU are the whole Python process.
 */
export async function cinderRun(
  images: Images,
  endpoint: string,
  bucket: string,
  workdir: string,
  figures: Figures,
  verify: boolean,
  compression: 'zlib' | 'zstd' = 'zlib',
): Promise<void> {
  const { sizeBytes, base, changed, label } = images;
  const section = `Cinder S3BackupDriver, moto S3, ${compression}, ${label}`;
  const add = (metric: string, unit: string, v: number): void => figures.add(section, metric, unit, v);
  const mib = sizeBytes / 2 ** 20;
  const gib = sizeBytes / 2 ** 30;
  const state = join(workdir, `cinder-state-${randomUUID()}`);
  const t: CinderTarget = { driver: 's3', state, s3Endpoint: endpoint, bucket };
  const volumeId = randomUUID();
  const [fullId, incId] = [randomUUID(), randomUUID()];
  const target = join(workdir, 'cinder-restore.img');
  const done: string[] = [];
  try {
    sequentialRead(base); // page cache warm before each timed backup, as for our engine (data-path.ts)
    const full = await runCinder('backup', t, [
      '--file',
      base,
      '--volume-id',
      volumeId,
      '--backup-id',
      fullId,
      '--compression',
      compression,
    ]);
    done.push(fullId);
    add('full backup', 'MiB/s', mib / full.elapsed);
    add('full backup peak RSS', 'MiB', full.peak_rss_bytes / 2 ** 20);
    add('full backup CPU', 's/GiB', full.cpu_seconds / gib);
    sequentialRead(changed[0]);
    const inc = await runCinder('backup', t, [
      '--file',
      changed[0],
      '--volume-id',
      volumeId,
      '--backup-id',
      incId,
      '--parent-id',
      fullId,
      '--compression',
      compression,
    ]);
    done.push(incId);
    add('incremental after 1% change', 's', inc.elapsed);
    add('incremental time / full time', '%', (100 * inc.elapsed) / full.elapsed);
    rmSync(target, { force: true });
    const r = await runCinder('restore', t, ['--file', target, '--backup-id', fullId]);
    add('restore, new volume', 'MiB/s', mib / r.elapsed);
    add('restore peak RSS', 'MiB', r.peak_rss_bytes / 2 ** 20);
    if (verify && (await fileSha256(target)) !== (await fileSha256(base))) throw new Error('Cinder restore differs from the source');
  } finally {
    rmSync(target, { force: true });
    for (const id of done.reverse()) await runCinder('delete', t, ['--backup-id', id]).catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  }
}
