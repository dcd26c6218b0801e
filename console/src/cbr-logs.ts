import type { Session } from './api.js';
import { cbr, dataTable, poll, vaultTabs } from './cbr-common.js';
import { append, bytes, duration, errorBox, h, statusBadge, when } from './dom.js';

interface OperationLog {
  id: string;
  operation_type: string;
  status: string;
  checkpoint_id: string | null;
  vault_id: string | null;
  vault_name: string | null;
  started_at: string;
  ended_at: string | null;
  error_info: { code: string; message: string };
  extra_info: {
    common: { progress: number; phase?: string; bytes_read?: number; current_mib_per_sec?: number; eta_seconds?: number | null };
    resource: { id: string; name: string };
  };
}

const LIMIT = 50;
const OPEN = new Set(['waiting', 'running']);

/** A running log's live figures (the service's extension of extra_info.common), else nothing. */
function figures(l: OperationLog): string {
  const c = l.extra_info.common;
  if (!OPEN.has(l.status) || c.phase === undefined) return '';
  const parts = [c.phase];
  if (c.bytes_read !== undefined) parts.push(`${bytes(c.bytes_read)} read`);
  if (c.current_mib_per_sec !== undefined) parts.push(`${c.current_mib_per_sec.toFixed(1)} MiB/s`);
  if (c.eta_seconds !== undefined && c.eta_seconds !== null) parts.push(`${duration(c.eta_seconds)} left`);
  return parts.join(' · ');
}

function table(logs: OperationLog[], withVault: boolean): HTMLElement {
  if (logs.length === 0) return h('p', { class: 'hint' }, 'No operation logs.');
  return dataTable(
    'oplogs',
    ['type', 'status', 'progress', 'resource', withVault ? 'vault' : null, 'started (UTC)', 'ended (UTC)', 'error'],
    [
      logs.map((l) =>
        h(
          'tr',
          { 'data-oplog': l.id, 'data-status': l.status, 'data-type': l.operation_type, 'data-checkpoint': l.checkpoint_id ?? '' },
          h('td', {}, l.operation_type),
          h('td', {}, statusBadge(l.status)),
          h(
            'td',
            { class: 'op-progress' },
            h('progress', { max: 100, value: l.extra_info.common.progress, 'aria-label': `progress of ${l.operation_type} ${l.id}` }),
            h('span', { class: 'percent' }, `${l.extra_info.common.progress} %`),
            h('div', { class: 'small' }, figures(l)),
          ),
          h('td', {}, l.extra_info.resource.name || l.extra_info.resource.id || '—'),
          withVault ? h('td', {}, l.vault_id ? h('a', { href: `#/vaults/${l.vault_id}` }, l.vault_name || l.vault_id) : '—') : null,
          h('td', {}, when(l.started_at)),
          h('td', {}, when(l.ended_at)),
          h('td', { class: 'op-error' }, l.error_info.message ? `${l.error_info.message} (${l.error_info.code})` : ''),
        ),
      ),
    ],
  );
}

/** The project's (or one vault's) newest operation logs; refreshed each second while one is waiting or running. */
export async function operationLogsPage(s: Session, main: HTMLElement, vaultId: string): Promise<() => void> {
  const path = `/operation-logs?limit=${LIMIT}${vaultId ? `&vault_id=${vaultId}` : ''}`;
  const load = () => cbr<{ operation_logs: OperationLog[]; count: number }>(s, 'GET', path);
  const first = await load();
  const list = h('div', { 'aria-live': 'polite' }, table(first.operation_logs, !vaultId));
  append(main, [
    vaultId ? vaultTabs(vaultId, 'logs') : null,
    h('h1', {}, vaultId ? 'Operation logs of the vault' : 'Operation logs'),
    h('p', { class: 'count', 'data-count': first.count }, `${first.count} in all; the newest ${LIMIT} are listed.`),
    list,
  ]);
  const open = () => [...list.querySelectorAll('tr[data-status]')].some((r) => OPEN.has(r.getAttribute('data-status') ?? ''));
  return poll(1000, async () => {
    if (!open()) return false;
    try {
      list.replaceChildren(table((await load()).operation_logs, !vaultId));
    } catch (err) {
      list.replaceChildren(errorBox(err));
      return false;
    }
    return open();
  });
}
