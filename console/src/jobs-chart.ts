import { type Session, call } from './api.js';
import { bytes, duration, h, svg } from './dom.js';

/**
 * The project's recent jobs (overview page): for the newest backups, the last operation each one
 * ran (backup, restore or verify, from the progress extension) as three bar rows on one time
 * axis: duration, MiB/s, stored bytes. Per volume, the backups page (volume filter) and a
 * backup's page chart that volume's history.
 */

interface Progress {
  backup_id: string;
  operation: string | null;
  phase: string | null;
  rate_bytes_per_sec: number;
  bytes_stored: number;
  started_at: string | null;
  updated_at: string | null;
  fail_reason: string | null;
}

const RECENT = 20;
const MiB = 1024 * 1024;
/** Cinder's timestamps are UTC without a zone and with microseconds. */
const utc = (t: string) => Date.parse(t.replace(/(\.\d{3})\d*/, '$1').replace(/Z?$/, 'Z'));

interface Job {
  p: Progress;
  name: string;
  seconds: number;
  mibps: number;
}

function row(jobs: Job[], label: string, value: (j: Job) => number, text: (v: number) => string, y: number): SVGElement[] {
  const W = 640;
  const H = 50;
  const max = Math.max(...jobs.map(value), 1e-9);
  const bw = W / jobs.length;
  return [
    svg('text', { x: 0, y: y + 10, class: 'axis' }, `${label} (max ${text(max)})`),
    ...jobs.map((j, i) => {
      const bh = Math.max(1, (value(j) / max) * H);
      const cls = j.p.operation === 'backup' ? 'bar full' : 'bar current';
      return svg(
        'rect',
        { x: i * bw + 2, y: y + 14 + H - bh, width: Math.max(1, bw - 4), height: bh, class: cls, 'data-job': j.p.backup_id },
        svg('title', {}, `${j.name} · ${j.p.operation ?? '?'} (${j.p.phase ?? '?'}): ${label} ${text(value(j))}`),
      );
    }),
  ];
}

/** The chart section, or a hint when no operation has finished yet. */
export async function recentJobsChart(s: Session): Promise<HTMLElement> {
  const { backups } = await call<{ backups: Array<{ id: string; name: string | null }> }>(
    s,
    'GET',
    `/backups/detail?limit=${RECENT}&sort=updated_at:desc`,
  );
  const progress = await Promise.all(backups.map((b) => call<{ progress: Progress }>(s, 'GET', `/backups/${b.id}/progress`)));
  const jobs: Job[] = progress
    .map((r, i) => ({ p: r.progress, name: backups[i]!.name ?? backups[i]!.id }))
    .filter(({ p }) => (p.phase === 'done' || p.phase === 'failed') && p.started_at && p.updated_at)
    .map(({ p, name }) => ({ p, name, seconds: (utc(p.updated_at!) - utc(p.started_at!)) / 1000, mibps: p.rate_bytes_per_sec / MiB }))
    .sort((a, b) => utc(a.p.updated_at!) - utc(b.p.updated_at!));
  const section = h('section', { class: 'history', 'aria-label': 'Recent jobs of the project' }, h('h2', {}, 'Recent jobs'));
  if (jobs.length === 0) {
    section.append(h('p', { class: 'hint' }, 'No finished job yet.'));
    return section;
  }
  section.append(
    svg(
      'svg',
      {
        viewBox: '0 0 640 230',
        class: 'chart project-jobs',
        role: 'img',
        'aria-label': `duration, MiB/s and stored bytes of the last ${jobs.length} jobs`,
        'data-jobs': jobs.length,
      },
      row(jobs, 'duration', (j) => j.seconds, duration, 0),
      row(
        jobs,
        'MiB/s',
        (j) => j.mibps,
        (v) => `${v.toFixed(1)} MiB/s`,
        72,
      ),
      row(jobs, 'stored', (j) => j.p.bytes_stored, bytes, 144),
      svg('text', { x: 0, y: 228, class: 'axis' }, 'oldest left · backups dark, restores and verifies amber · hover a bar'),
    ),
  );
  return section;
}
