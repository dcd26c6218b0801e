/** CBR (vaults, policies, checkpoints, operation logs) as the console reads it: types, calls, shared pieces. */
import { type Session, call } from './api.js';
import { type Child, bytes, h } from './dom.js';

export interface VaultResource {
  id: string;
  name: string;
  protect_status: string;
  /** GB */
  size: number;
  backup_count: number;
  /** GB, rounded up */
  backup_size: number;
}

export interface Vault {
  id: string;
  name: string;
  created_at: string;
  /** size: GB; used: MB stored by the vault's backups. */
  billing: { size: number; used: number; allocated: number; status: string };
  resources: VaultResource[];
}

export interface Policy {
  id: string;
  name: string;
  enabled: boolean;
  /** next_run_times: the service's extension, UTC "YYYY-MM-DD HH:MM:SS". */
  trigger: { properties: { pattern: string[]; start_time: string; next_run_times?: string[] } };
  associated_vaults: Array<{ vault_id: string }>;
}

export interface CbrBackup {
  id: string;
  checkpoint_id: string;
  name: string;
  resource_id: string;
  resource_name: string;
  resource_size: number;
  status: string;
  incremental: boolean;
  created_at: string;
  extend_info: { auto_trigger: boolean; progress: number };
}

/** A CBR call on this origin (/cbr/v3/{project}/..., the CBR API also served by the Cinder listener). */
export function cbr<T = any>(s: Session, method: string, path: string, body?: unknown): Promise<T> {
  return call<T>(s, method, path, body, 'cbr/v3');
}

/** The vault's capacity: stored bytes against its size, as a bar and in words. */
export function capacity(v: Vault): HTMLElement {
  const usedBytes = v.billing.used * 1024 ** 2;
  const sizeBytes = v.billing.size * 1024 ** 3;
  const pct = sizeBytes > 0 ? Math.min(100, (usedBytes / sizeBytes) * 100) : 0;
  return h(
    'div',
    { class: 'capacity', 'data-used-mb': v.billing.used, 'data-size-gb': v.billing.size },
    h('meter', { min: 0, max: 100, value: pct, high: 80, optimum: 0, 'aria-label': `capacity used of vault ${v.name}` }),
    h(
      'span',
      { class: 'capacity-text' },
      `${bytes(usedBytes)} used of ${v.billing.size} GB (${pct < 1 && pct > 0 ? '<1' : Math.round(pct)} %)`,
    ),
  );
}

/** "2026-12-06 08:00 UTC" from the API's UTC "2026-12-06 08:00:00". */
export function utc(t: string): string {
  return `${t.slice(0, 16)} UTC`;
}

/** The policy bound to a vault: its name, state and next run times (or a plain "no policy"). */
export function policySummary(p: Policy | undefined, runs = 3): HTMLElement {
  if (!p) return h('span', { class: 'hint' }, 'no policy (backups only on demand)');
  const next = p.trigger.properties.next_run_times ?? [];
  return h(
    'div',
    { class: 'policy', 'data-policy': p.id },
    h('span', { class: 'policy-name' }, p.name),
    p.enabled ? null : h('span', { class: 'badge' }, 'disabled'),
    next.length
      ? h(
          'ol',
          { class: 'next-runs', 'aria-label': `next runs of policy ${p.name}` },
          next.slice(0, runs).map((t) => h('li', { 'data-time': t }, utc(t))),
        )
      : h('div', { class: 'hint' }, 'no run scheduled'),
  );
}

/** The policy bound to each vault, from the project's policies (one list call). */
export function policyByVault(policies: Policy[]): Map<string, Policy> {
  const m = new Map<string, Policy>();
  for (const p of policies) for (const a of p.associated_vaults) m.set(a.vault_id, p);
  return m;
}

/** The links between the CBR pages of one vault. */
export function vaultTabs(vaultId: string, current: 'vault' | 'checkpoints' | 'logs'): HTMLElement {
  const tab = (href: string, label: string, here: boolean) => h('a', { href, 'aria-current': here ? 'page' : false }, label);
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'Vault' },
    tab('#/vaults', 'All vaults', false),
    tab(`#/vaults/${vaultId}`, 'Vault', current === 'vault'),
    tab(`#/vaults/${vaultId}/checkpoints`, 'Checkpoints', current === 'checkpoints'),
    tab(`#/vaults/${vaultId}/operation-logs`, 'Operation logs', current === 'logs'),
  );
}

/** Re-runs `tick` every `ms` until it returns false or the page is left; returns the stop function. */
export function poll(ms: number, tick: () => Promise<boolean>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = async () => {
    if (stopped) return;
    const again = await tick().catch(() => true);
    if (again && !stopped) timer = setTimeout(loop, ms);
  };
  timer = setTimeout(loop, ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A table that scrolls sideways on a narrow screen: a header row of `heads` (null: column left out), then `rows`. */
export function dataTable(cls: string, heads: Array<string | null>, rows: Child[]): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: cls },
      h(
        'tr',
        {},
        heads.map((t) => (t === null ? null : h('th', {}, t))),
      ),
      rows,
    ),
  );
}
