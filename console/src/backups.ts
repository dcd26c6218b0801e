import { type Session, call } from './api.js';
import { bytes, duration, errorBox, h, statusBadge, svg, when } from './dom.js';

interface Backup {
  id: string;
  name: string | null;
  status: string;
  size: number;
  created_at: string;
  volume_id: string;
  is_incremental: boolean;
  has_dependent_backups: boolean;
  updated_at: string | null;
}

const PAGE = 50;

/** Cinder's timestamps are UTC without a zone and with microseconds. */
const utc = (t: string) => Date.parse(t.replace(/(\.\d{3})\d*/, '$1').replace(/Z?$/, 'Z'));

/**
 * Recent jobs of the listed page, oldest left: how long each available backup took (created to
 * last update) and the rate over its volume's size (a backup reads the whole volume).
 */
function jobsChart(backups: Backup[]): HTMLElement | null {
  const jobs = backups
    .filter((b) => b.status === 'available' && b.updated_at)
    .map((b) => ({ b, seconds: (utc(b.updated_at!) - utc(b.created_at)) / 1000 }))
    .filter((j) => j.seconds > 0)
    .reverse();
  if (jobs.length === 0) return null;
  const W = 640;
  const H = 120;
  const max = Math.max(...jobs.map((j) => j.seconds));
  const bw = W / jobs.length;
  return h(
    'section',
    { class: 'history', 'aria-label': 'Recent jobs' },
    h('h2', {}, 'Recent backups on this page: duration and rate'),
    svg(
      'svg',
      { viewBox: `0 0 ${W} ${H + 20}`, class: 'chart jobs', role: 'img', 'aria-label': 'duration of recent backups' },
      jobs.map(({ b, seconds }, i) => {
        const bh = Math.max(1, (seconds / max) * H);
        const rate = (b.size * 1024 ** 3) / seconds;
        return svg(
          'rect',
          { x: i * bw + 2, y: H - bh, width: Math.max(1, bw - 4), height: bh, class: b.is_incremental ? 'bar incr' : 'bar full' },
          svg('title', {}, `${b.name ?? b.id}: ${duration(seconds)}, ${bytes(rate)}/s over ${b.size} GiB`),
        );
      }),
      svg(
        'text',
        { x: 0, y: H + 16, class: 'axis' },
        `longest ${duration(max)} · full = dark, incremental = light · hover a bar for its rate`,
      ),
    ),
  );
}
const STATUSES = ['', 'available', 'creating', 'restoring', 'deleting', 'error', 'error_restoring'];

/**
 * The project's backups, newest first, one page (50) at a time: filters by status and volume,
 * search by name (Cinder's name~ filter, 3.34), the total from with_count (3.45), pages by marker.
 */
export async function backupsPage(s: Session, main: HTMLElement): Promise<void> {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const form = h(
    'form',
    { class: 'filters', role: 'search' },
    h('label', {}, 'Name contains ', h('input', { name: 'name', type: 'search', value: params.get('name') ?? '' })),
    h(
      'label',
      {},
      'Status ',
      h(
        'select',
        { name: 'status' },
        STATUSES.map((st) => h('option', { value: st }, st || 'any')),
      ),
    ),
    h('label', {}, 'Volume id ', h('input', { name: 'volume_id', value: params.get('volume_id') ?? '', size: 36 })),
    h('button', { type: 'submit' }, 'Search'),
  ) as HTMLFormElement;
  const results = h('div', { 'aria-live': 'polite' });
  main.append(h('h1', {}, 'Backups'), form, results);
  const markers: string[] = [];

  const load = async (marker: string | null) => {
    const data = new FormData(form);
    const q = new URLSearchParams({ limit: String(PAGE), sort: 'created_at:desc', with_count: 'true' });
    const name = String(data.get('name') ?? '').trim();
    const status = String(data.get('status') ?? '');
    const volumeId = String(data.get('volume_id') ?? '').trim();
    if (name) q.set('name~', name);
    if (status) q.set('status', status);
    if (volumeId) q.set('volume_id', volumeId);
    if (marker) q.set('marker', marker);
    const started = performance.now();
    try {
      const r = await call<{ backups: Backup[]; count: number }>(s, 'GET', `/backups/detail?${q}`);
      results.replaceChildren(
        h('p', { class: 'count', 'data-count': r.count }, `${r.count} backups`, ` · page ${markers.length + 1}`),
        r.backups.length === 0
          ? h('p', {}, 'No backups match.')
          : h(
              'div',
              { class: 'scroll' },
              h(
                'table',
                { class: 'backups' },
                h(
                  'tr',
                  {},
                  h('th', {}, 'name'),
                  h('th', {}, 'status'),
                  h('th', {}, 'type'),
                  h('th', {}, 'size'),
                  h('th', {}, 'created'),
                  h('th', {}, 'volume'),
                ),
                r.backups.map((b) =>
                  h(
                    'tr',
                    { 'data-backup': b.id },
                    h('td', {}, h('a', { href: `#/backups/${b.id}` }, b.name || b.id)),
                    h('td', {}, statusBadge(b.status)),
                    h('td', {}, b.is_incremental ? 'incremental' : 'full', b.has_dependent_backups ? ' (has dependents)' : ''),
                    h('td', {}, `${b.size} GiB`),
                    h('td', {}, when(b.created_at)),
                    h('td', { class: 'id' }, b.volume_id),
                  ),
                ),
              ),
            ),
        jobsChart(r.backups) ?? '',
        h(
          'div',
          { class: 'pager' },
          h('button', { type: 'button', disabled: markers.length === 0, onclick: () => void load(prev()) }, 'Previous page'),
          h(
            'button',
            { type: 'button', disabled: r.backups.length < PAGE, onclick: () => void next(marker, r.backups.at(-1)!.id) },
            'Next page',
          ),
        ),
      );
      results.dataset.loadedMs = String(Math.round(performance.now() - started));
    } catch (err) {
      results.replaceChildren(errorBox(err));
    }
  };
  const next = (current: string | null, last: string) => {
    markers.push(current ?? '');
    return load(last);
  };
  const prev = () => {
    const m = markers.pop();
    return m ? m : null;
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    markers.length = 0;
    void load(null);
  });
  await load(null);
}
