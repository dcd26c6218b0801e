import { type Session, call } from './api.js';
import { errorBox, h, statusBadge, when } from './dom.js';
import { recentJobsChart } from './jobs-chart.js';

interface Volume {
  id: string;
  name: string | null;
  size: number;
  status: string;
}
interface Backup {
  id: string;
  name: string | null;
  status: string;
  created_at: string;
  volume_id: string;
  is_incremental: boolean;
}

const QUOTAS = ['volumes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes'];

/** Starts a backup of `volume` and opens its page, where its progress shows. */
async function startBackup(s: Session, volume: Volume, incremental: boolean, out: HTMLElement): Promise<void> {
  try {
    const name = `${volume.name ?? 'volume'}-${incremental ? 'incr' : 'full'}-${new Date().toISOString().slice(0, 19)}`;
    const r = await call<{ backup: { id: string } }>(s, 'POST', '/backups', { backup: { volume_id: volume.id, name, incremental } });
    location.hash = `#/backups/${r.backup.id}`;
  } catch (err) {
    out.replaceChildren(errorBox(err));
  }
}

/** The project at a glance: counts, quotas used, each volume's last backup, unprotected volumes flagged. */
export async function overviewPage(s: Session, main: HTMLElement): Promise<void> {
  const [volumes, snapshots, backups, quotas] = await Promise.all([
    call<{ volumes: Volume[] }>(s, 'GET', '/volumes/detail?limit=1000'),
    call<{ snapshots: unknown[]; count?: number }>(s, 'GET', '/snapshots/detail?limit=1&with_count=true'),
    call<{ backups: Backup[]; count?: number }>(s, 'GET', '/backups/detail?limit=1&with_count=true'),
    call<{ quota_set: Record<string, { in_use: number; limit: number }> }>(s, 'GET', `/os-quota-sets/${s.project}?usage=true`),
  ]);
  // The newest live backup of each volume: one small query per volume (volumes are bounded by quota).
  const last = await Promise.all(
    volumes.volumes.map((v) =>
      call<{ backups: Backup[] }>(s, 'GET', `/backups/detail?volume_id=${v.id}&status=available&limit=1&sort=created_at:desc`).then(
        (r) => r.backups[0],
      ),
    ),
  );
  const unprotected = volumes.volumes.filter((_v, i) => !last[i]).length;
  const card = (label: string, value: string | number, extra?: string) =>
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'value' }, value),
      h('div', { class: 'label' }, label),
      extra ? h('div', {}, extra) : null,
    );
  const out = h('div', { 'aria-live': 'polite' });
  main.append(
    h('h1', {}, 'Overview'),
    h(
      'section',
      { class: 'cards' },
      card('volumes', volumes.volumes.length),
      card('snapshots', snapshots.count ?? snapshots.snapshots.length),
      card('backups', backups.count ?? backups.backups.length),
      h(
        'div',
        { class: `card ${unprotected ? 'warn' : ''}`, 'data-testid': 'unprotected-count' },
        h('div', { class: 'value' }, unprotected),
        h('div', { class: 'label' }, 'unprotected volumes'),
      ),
    ),
    h('h2', {}, 'Quotas used'),
    h(
      'table',
      { class: 'quotas' },
      h('tr', {}, h('th', {}, 'resource'), h('th', {}, 'in use'), h('th', {}, 'limit'), h('th', {}, '')),
      QUOTAS.map((k) => {
        const q = quotas.quota_set[k];
        if (!q) return null;
        const pct = q.limit > 0 ? Math.min(100, (q.in_use / q.limit) * 100) : 0;
        return h(
          'tr',
          {},
          h('td', {}, k),
          h('td', {}, q.in_use),
          h('td', {}, q.limit < 0 ? 'unlimited' : q.limit),
          h('td', {}, h('meter', { min: 0, max: 100, value: pct, 'aria-label': `${k} used` })),
        );
      }),
    ),
    h('h2', {}, 'Volumes'),
    out,
    volumes.volumes.length === 0
      ? h('p', {}, 'No volumes in this project.')
      : h(
          'div',
          { class: 'scroll' },
          h(
            'table',
            { class: 'volumes' },
            h(
              'tr',
              {},
              h('th', {}, 'name'),
              h('th', {}, 'size'),
              h('th', {}, 'status'),
              h('th', {}, 'last backup'),
              h('th', {}, 'kind'),
              h('th', {}, 'actions'),
            ),
            volumes.volumes.map((v, i) => {
              const b = last[i];
              return h(
                'tr',
                { class: b ? 'protected' : 'unprotected', 'data-volume': v.id },
                h('td', {}, v.name ?? v.id, h('div', { class: 'id' }, v.id)),
                h('td', {}, `${v.size} GiB`),
                h('td', {}, statusBadge(v.status)),
                h(
                  'td',
                  {},
                  b ? h('a', { href: `#/backups/${b.id}` }, when(b.created_at)) : h('span', { class: 'badge unprotected' }, 'unprotected'),
                ),
                h('td', {}, b ? (b.is_incremental ? 'incremental' : 'full') : '—'),
                h(
                  'td',
                  {},
                  h('button', { type: 'button', onclick: () => startBackup(s, v, false, out) }, 'Back up'),
                  ' ',
                  h('button', { type: 'button', disabled: !b, onclick: () => startBackup(s, v, true, out) }, 'Incremental'),
                ),
              );
            }),
          ),
        ),
  );
  // After the page is usable: one progress read per recent backup (jobs-chart.ts).
  const jobs = h('div', { 'data-testid': 'recent-jobs' });
  main.append(jobs);
  void recentJobsChart(s).then(
    (chart) => jobs.replaceChildren(chart),
    (err) => jobs.replaceChildren(errorBox(err)),
  );
}
