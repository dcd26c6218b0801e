import { TROVE_LISTS } from './api-bench.js';
import type { MachineLimit } from './machine-limit.js';
import type { Ratio } from './report.js';
import { median, type Figures } from './stats.js';

/**
 * The comparisons issue 7 asks for, from the medians of this run: ours vs Cinder's driver on the
 * same moto, ours vs the machine limit, incremental cost, RSS growth from the smallest to the
 * largest size. NaN (shown as n/a) where a side was not measured.
 */
const GET_CEILING = 'GET ceiling (every object fetched in parallel, undecoded), as volume MiB/s';

export function computeRatios(f: Figures, limits: Map<string, MachineLimit[]>, labels: string[]): Ratio[] {
  const r: Ratio[] = [];
  for (const label of labels) {
    const ours = (store: string, codec: string, metric: string): number => f.median(`ours, ${store}, ${codec}, ${label}`, metric);
    const cinder = (metric: string): number => f.median(`Cinder S3BackupDriver, moto S3, zlib, ${label}`, metric);
    const limit = median((limits.get(label) ?? []).map((l) => l.limit.mibPerSec));
    const combined = median((limits.get(label) ?? []).map((l) => l.combined.mibPerSec));
    const restoreWork = median((limits.get(label) ?? []).map((l) => l.restoreWork.mibPerSec));
    r.push(
      {
        what: `${label}: full backup, ours zstd / Cinder zlib (moto)`,
        value: ours('moto S3', 'zstd', 'full backup') / cinder('full backup'),
        unit: 'x',
        target: { op: '>=', value: 5 },
      },
      {
        what: `${label}: full backup, ours zlib / Cinder zlib (moto): design alone`,
        value: ours('moto S3', 'zlib', 'full backup') / cinder('full backup'),
        unit: 'x',
      },
      {
        what: `${label}: restore, ours zstd / Cinder zlib (moto)`,
        value: ours('moto S3', 'zstd', 'restore, new sparse volume') / cinder('restore, new volume'),
        unit: 'x',
        target: { op: '>=', value: 5 },
      },
      {
        what: `${label}: restore, ours zlib / Cinder zlib (moto)`,
        value: ours('moto S3', 'zlib', 'restore, new sparse volume') / cinder('restore, new volume'),
        unit: 'x',
      },
      {
        what: `${label}: restore (new volume) / the store's GET ceiling on the same backup (moto)`,
        value: (100 * ours('moto S3', 'zstd', 'restore, new sparse volume')) / ours('moto S3', 'zstd', GET_CEILING),
        unit: '%',
        target: { op: '>=', value: 80 },
      },
      {
        what: `${label}: restore (new volume) / the store's GET ceiling on the same backup (posix)`,
        value: (100 * ours('posix', 'zstd', 'restore, new sparse volume')) / ours('posix', 'zstd', GET_CEILING),
        unit: '%',
      },
      {
        what: `${label}: incremental after 1%, speed ours / Cinder (Cinder's time / ours, moto)`,
        value: cinder('incremental after 1% change') / ours('moto S3', 'zstd', 'incremental after 1% change'),
        unit: 'x',
      },
      {
        what: `${label}: full backup posix / machine limit (slowest stage)`,
        value: (100 * ours('posix', 'zstd', 'full backup')) / limit,
        unit: '%',
        target: { op: '>=', value: 70 },
      },
      {
        what: `${label}: full backup moto S3 / machine limit (slowest stage)`,
        value: (100 * ours('moto S3', 'zstd', 'full backup')) / limit,
        unit: '%',
        target: { op: '>=', value: 70 },
      },
      {
        what: `${label}: full backup posix / the format's CPU work (sha256+md5+zstd) on the same cores`,
        value: (100 * ours('posix', 'zstd', 'full backup')) / combined,
        unit: '%',
      },
      {
        what: `${label}: restore (new volume) posix / a restore's CPU work (zstd decompress + sha256) on the same cores`,
        value: (100 * ours('posix', 'zstd', 'restore, new sparse volume')) / restoreWork,
        unit: '%',
        target: { op: '>=', value: 80 },
      },
      {
        what: `${label}: incremental time / full time (posix)`,
        value: ours('posix', 'zstd', 'incremental time / full time'),
        unit: '%',
        target: { op: '<=', value: 10 },
      },
      {
        what: `${label}: incremental time / full time (moto S3)`,
        value: ours('moto S3', 'zstd', 'incremental time / full time'),
        unit: '%',
        target: { op: '<=', value: 10 },
      },
      {
        what: `${label}: incremental bytes uploaded / volume size`,
        value: ours('posix', 'zstd', 'incremental uploaded / volume'),
        unit: '%',
        target: { op: '<=', value: 2 },
      },
      {
        what: `${label}: peak RSS of a full backup (posix), MiB`,
        value: ours('posix', 'zstd', 'full backup peak RSS'),
        unit: 'MiB',
        target: { op: '<', value: 300 },
      },
      ...['posix', 'moto S3'].map(
        (store): Ratio => ({
          what: `${label}: peak RSS of a restore into a new volume (${store}), MiB`,
          value: ours(store, 'zstd', 'restore peak RSS'),
          unit: 'MiB',
          target: { op: '<', value: 300 },
        }),
      ),
    );
  }
  if (labels.length > 1) {
    const first = labels[0]!;
    const last = labels[labels.length - 1]!;
    const rss = (l: string, metric: string): number => f.median(`ours, posix, zstd, ${l}`, metric);
    for (const [what, metric] of [
      ['a full backup', 'full backup peak RSS'],
      ['a restore', 'restore peak RSS'],
    ])
      r.push({
        what: `peak RSS of ${what}, ${last} / ${first} (posix)`,
        value: (100 * rss(last, metric!)) / rss(first, metric!),
        unit: '%',
        target: { op: '<=', value: 110 },
      });
  }
  const api = [...new Set(f.all().map((x) => x.section))].find((s) => s.startsWith('API, '));
  if (api) {
    const d = 'GET /v3/{p}/backups/detail?limit=100';
    r.push(...listTargets(f, api, d), {
      what: `${api}: ${d} requests/s`,
      value: f.median(api, `${d}: requests/s (10 connections)`),
      unit: 'req/s',
      target: { op: '>=', value: 3000 },
    });
    for (const list of TROVE_LISTS) r.push(...listTargets(f, api, list));
  }
  return r;
}

/** Issue 16's targets for a list: p99 latency with the page cache, and the cache against the same service with LIST_CACHE_BYTES=0 (same run and database). */
function listTargets(f: Figures, api: string, list: string): Ratio[] {
  return [
    { what: `${api}: ${list} p99 latency, ms`, value: f.median(api, `${list}: p99 latency`), unit: 'ms', target: { op: '<', value: 20 } },
    {
      what: `${api}: ${list} requests/s, list cache on / off (same run)`,
      value: f.median(api, `${list}: requests/s, cache on / off (same run)`),
      unit: 'x',
      target: { op: '>=', value: 3 },
    },
  ];
}
