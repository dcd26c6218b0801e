import { type Session, call } from './api.js';
import { chainView, historyChart } from './chain.js';
import { bytes, confirmDialog, duration, errorBox, h, statusBadge, svg, when } from './dom.js';

export interface Backup {
  id: string;
  name: string | null;
  description: string | null;
  status: string;
  size: number;
  object_count: number;
  created_at: string;
  updated_at: string | null;
  data_timestamp: string;
  volume_id: string;
  snapshot_id: string | null;
  container: string | null;
  is_incremental: boolean;
  has_dependent_backups: boolean;
  fail_reason: string | null;
  availability_zone: string | null;
}

export interface Chain {
  backup_id: string;
  volume_id: string;
  needed_to_restore: string[];
  children: string[];
  backups: Array<{
    id: string;
    parent_id: string | null;
    name: string | null;
    status: string;
    size: number;
    stored_bytes: number;
    created_at: string;
  }>;
}

interface Progress {
  status: string;
  operation: string | null;
  percent: number;
  bytes_done: number;
  bytes_total: number;
  rate_bytes_per_sec: number;
  started_at: string | null;
  updated_at: string | null;
  verified_at: string | null;
  verify_result: string | null;
  fail_reason: string | null;
  phase: string | null;
  attempt: number | null;
  bytes_read: number;
  bytes_stored: number;
  current_rate_bytes_per_sec: number;
  eta_seconds: number | null;
}

const BUSY = new Set(['creating', 'restoring', 'deleting']);
const POLL_MS = 500;

/** Percent, bytes, throughput (current and average), time left, phase and the failure reason of the backup's running (or last) job. */
function progressView(p: Progress, rates: number[]): HTMLElement {
  const running = BUSY.has(p.status);
  return h(
    'section',
    { class: `progress ${running ? 'running' : ''}`, 'data-status': p.status, 'data-percent': p.percent, 'aria-label': 'Progress' },
    h('h2', {}, p.operation ? `Last operation: ${p.operation}` : 'No operation yet', running ? ` (running: ${p.phase ?? ''})` : ''),
    h('progress', { max: 100, value: p.percent, 'aria-label': `${p.operation ?? ''} progress` }),
    h(
      'dl',
      { class: 'figures' },
      h('dt', {}, 'done'),
      h('dd', { class: 'percent' }, `${p.percent} %`),
      h('dt', {}, 'bytes'),
      h('dd', {}, `${bytes(p.bytes_done)} of ${bytes(p.bytes_total)}`),
      h('dt', {}, 'throughput'),
      h('dd', {}, running ? `${bytes(p.current_rate_bytes_per_sec)}/s now, ` : '', `${bytes(p.rate_bytes_per_sec)}/s average`),
      h('dt', {}, 'time left'),
      h('dd', { class: 'eta' }, running && p.eta_seconds !== null ? duration(p.eta_seconds) : '—'),
      h('dt', {}, 'stored'),
      h('dd', {}, `${bytes(p.bytes_stored)} written, ${bytes(p.bytes_read)} read`),
      h('dt', {}, 'phase'),
      h('dd', {}, `${p.phase ?? '—'}${p.attempt && p.attempt > 1 ? ` (attempt ${p.attempt})` : ''}`),
      h('dt', {}, 'started'),
      h('dd', {}, when(p.started_at)),
      p.verified_at ? [h('dt', {}, 'verified'), h('dd', {}, `${when(p.verified_at)}: ${p.verify_result ?? ''}`)] : null,
    ),
    rates.length > 1 ? rateChart(rates) : null,
    p.fail_reason ? h('p', { class: 'error fail-reason', role: 'alert' }, `Failed: ${p.fail_reason}`) : null,
  );
}

/** The throughput seen while this page polled the running job, as a line (one point per poll). */
function rateChart(rates: number[]): SVGElement {
  const W = 400;
  const H = 60;
  const max = Math.max(1, ...rates);
  const pts = rates.map((r, i) => `${((i / (rates.length - 1)) * W).toFixed(1)},${(H - (r / max) * H).toFixed(1)}`).join(' ');
  return svg(
    'svg',
    { viewBox: `0 0 ${W} ${H + 14}`, class: 'chart rate', role: 'img', 'aria-label': 'throughput while polled' },
    svg('polyline', { points: pts, class: 'rate-line' }),
    svg('text', { x: 0, y: H + 12, class: 'axis' }, `throughput while this page watched, peak ${bytes(max)}/s`),
  );
}

function fields(b: Backup): HTMLElement {
  const rows: Array<[string, unknown]> = [
    ['id', b.id],
    ['status', b.status],
    ['type', b.is_incremental ? 'incremental' : 'full'],
    ['has dependent backups', b.has_dependent_backups ? 'yes' : 'no'],
    ['volume', b.volume_id],
    ['snapshot', b.snapshot_id ?? '—'],
    ['size', `${b.size} GiB`],
    ['objects', b.object_count],
    ['container', b.container ?? '—'],
    ['created', when(b.created_at)],
    ['data timestamp', when(b.data_timestamp)],
    ['description', b.description ?? '—'],
  ];
  return h(
    'dl',
    { class: 'fields' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
  );
}

/** Restore into a new volume, or into an existing one (after confirming that its data is overwritten). */
function restoreForm(
  s: Session,
  b: Backup,
  volumes: Array<{ id: string; name: string | null; size: number; status: string }>,
  out: HTMLElement,
): HTMLElement {
  const targets = volumes.filter((v) => v.status === 'available' && v.size >= b.size);
  const form = h(
    'form',
    { class: 'restore' },
    h('h3', {}, 'Restore'),
    h(
      'label',
      {},
      h('input', { type: 'radio', name: 'target', value: 'new', checked: true }),
      ' into a new volume named ',
      h('input', { name: 'name', value: `${b.name ?? 'backup'}-restored` }),
    ),
    h(
      'label',
      {},
      h('input', { type: 'radio', name: 'target', value: 'existing', disabled: targets.length === 0 }),
      ' into an existing volume ',
      h(
        'select',
        { name: 'volume_id' },
        targets.map((v) => h('option', { value: v.id }, `${v.name ?? v.id} (${v.size} GiB)`)),
      ),
    ),
    h('button', { type: 'submit' }, 'Restore'),
  ) as HTMLFormElement;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    void (async () => {
      try {
        let body: Record<string, string>;
        if (data.get('target') === 'existing') {
          const id = String(data.get('volume_id'));
          if (!(await confirmDialog(`Restoring overwrites every byte of volume ${id}. Continue?`, 'Overwrite volume'))) return;
          body = { volume_id: id };
        } else body = { name: String(data.get('name')) };
        const r = await call<{ restore: { volume_id: string } }>(s, 'POST', `/backups/${b.id}/restore`, { restore: body });
        out.replaceChildren(
          h('p', { class: 'notice', 'data-restored-volume': r.restore.volume_id }, `Restoring into volume ${r.restore.volume_id}`),
        );
      } catch (err) {
        out.replaceChildren(errorBox(err));
      }
    })();
  });
  return form;
}

function actions(s: Session, b: Backup, volumes: Array<{ id: string; name: string | null; size: number; status: string }>): HTMLElement {
  const out = h('div', { class: 'action-result', 'aria-live': 'polite' });
  const run = (fn: () => Promise<void>) => () => void fn().catch((err) => out.replaceChildren(errorBox(err)));
  return h(
    'section',
    { class: 'actions', 'aria-label': 'Actions' },
    h('h2', {}, 'Actions'),
    restoreForm(s, b, volumes, out),
    h(
      'div',
      { class: 'buttons' },
      h(
        'button',
        {
          type: 'button',
          onclick: run(async () => {
            await call(s, 'POST', `/backups/${b.id}/action`, { 'os-verify': {} });
            out.replaceChildren(h('p', { class: 'notice' }, 'Verify started.'));
          }),
        },
        'Verify',
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: run(async () => {
            const r = await call(s, 'GET', `/backups/${b.id}/export_record`);
            out.replaceChildren(h('pre', { class: 'record' }, JSON.stringify(r, null, 2)));
          }),
        },
        'Export record',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: run(async () => {
            const warn = b.has_dependent_backups ? ' Later incrementals depend on it: the API refuses until they are deleted.' : '';
            if (!(await confirmDialog(`Delete backup ${b.name ?? b.id}? Its data cannot be recovered.${warn}`, 'Delete backup'))) return;
            await call(s, 'DELETE', `/backups/${b.id}`);
            out.replaceChildren(h('p', { class: 'notice', 'data-deleted': b.id }, 'Delete started.'));
          }),
        },
        'Delete…',
      ),
    ),
    out,
  );
}

/** One backup: fields, live progress, its chain, stored bytes against the volume's size, actions. */
export async function backupPage(s: Session, main: HTMLElement, id: string): Promise<() => void> {
  const head = h('div');
  const progressBox = h('div');
  const body = h('div');
  main.append(head, progressBox, body);
  let shownStatus = '';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const rates: number[] = [];

  const refresh = async () => {
    const [{ backup: b }, { chain }, volumes] = await Promise.all([
      call<{ backup: Backup }>(s, 'GET', `/backups/${id}`),
      call<{ chain: Chain }>(s, 'GET', `/backups/${id}/chain`),
      call<{ volumes: Array<{ id: string; name: string | null; size: number; status: string }> }>(s, 'GET', '/volumes/detail?limit=1000'),
    ]);
    shownStatus = b.status;
    const volume = volumes.volumes.find((v) => v.id === b.volume_id);
    const me = chain.backups.find((m) => m.id === b.id);
    const stored = me?.stored_bytes ?? 0;
    const volBytes = (volume?.size ?? b.size) * 1024 ** 3;
    head.replaceChildren(
      h('h1', {}, `Backup ${b.name || b.id} `, statusBadge(b.status)),
      b.fail_reason ? h('p', { class: 'error', role: 'alert' }, b.fail_reason) : '',
    );
    body.replaceChildren(
      h(
        'div',
        { class: 'columns' },
        h('section', { 'aria-label': 'Fields' }, h('h2', {}, 'Fields'), fields(b)),
        actions(s, b, volumes.volumes),
      ),
      h(
        'section',
        { class: 'stored', 'aria-label': 'Stored bytes' },
        h('h2', {}, 'Stored bytes against volume size'),
        h('meter', { min: 0, max: volBytes, value: stored, 'aria-label': 'stored bytes' }),
        h(
          'p',
          {},
          `${bytes(stored)} stored for a ${bytes(volBytes)} volume${volume ? '' : ' (volume deleted)'} (${((stored / volBytes) * 100).toFixed(2)} %)`,
        ),
      ),
      chainView(chain),
      historyChart(chain, volBytes),
    );
  };
  const poll = async () => {
    try {
      const { progress } = await call<{ progress: Progress }>(s, 'GET', `/backups/${id}/progress`);
      if (BUSY.has(progress.status)) rates.push(progress.current_rate_bytes_per_sec);
      progressBox.replaceChildren(progressView(progress, rates.slice(-120)));
      if (progress.status !== shownStatus) await refresh();
    } catch (err) {
      progressBox.replaceChildren(errorBox(err));
    }
    if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
  };
  await refresh();
  await poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
