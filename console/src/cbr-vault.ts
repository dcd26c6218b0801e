import type { Session } from './api.js';
import { type CbrBackup, type Policy, type Vault, capacity, cbr, policySummary, vaultTabs, dataTable } from './cbr-common.js';
import { append, confirmDialog, errorBox, h, statusBadge, when } from './dom.js';

/** Makes a checkpoint of every resource of the vault (incremental where a chain exists) and opens the checkpoints. */
async function backUpNow(s: Session, v: Vault, out: HTMLElement): Promise<void> {
  try {
    const name = `console-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
    const r = await cbr<{ checkpoint: { id: string } }>(s, 'POST', '/checkpoints', {
      checkpoint: { vault_id: v.id, parameters: { name, incremental: true } },
    });
    location.hash = `#/vaults/${v.id}/checkpoints`;
  } catch (err) {
    out.replaceChildren(errorBox(err));
  }
}

/** Deletes a backup after the confirmation dialog; the row then shows what the API answers. */
async function deleteBackup(s: Session, b: CbrBackup, out: HTMLElement, row: HTMLElement): Promise<void> {
  const ok = await confirmDialog(
    `Delete backup ${b.name} of ${b.resource_name || b.resource_id}? Its data is removed from the store and cannot be restored afterwards.`,
    'Delete backup',
  );
  if (!ok) return;
  try {
    await cbr(s, 'DELETE', `/backups/${b.id}`);
    row.dataset.deleted = 'true';
    out.replaceChildren(h('p', { class: 'notice', 'data-deleted': b.id }, `Deleting backup ${b.name}.`));
  } catch (err) {
    out.replaceChildren(errorBox(err));
  }
}

function resourcesTable(v: Vault): HTMLElement {
  if (v.resources.length === 0) return h('p', { class: 'hint' }, 'No resources in this vault.');
  return dataTable(
    'vault-resources',
    ['volume', 'size', 'protection', 'backups', 'stored'],
    [
      v.resources.map((r) =>
        h(
          'tr',
          { 'data-resource': r.id },
          h('td', {}, r.name || '—', h('div', { class: 'id' }, r.id)),
          h('td', {}, `${r.size} GB`),
          h('td', {}, statusBadge(r.protect_status)),
          h('td', {}, r.backup_count),
          h('td', {}, `${r.backup_size} GB`),
        ),
      ),
    ],
  );
}

function backupsTable(s: Session, backups: CbrBackup[], out: HTMLElement): HTMLElement {
  if (backups.length === 0) return h('p', { class: 'hint' }, 'No backups in this vault yet.');
  return dataTable(
    'cbr-backups',
    ['backup', 'volume', 'status', 'kind', 'created (UTC)', 'actions'],
    [
      backups.map((b) => {
        const row = h(
          'tr',
          { 'data-cbr-backup': b.id, 'data-checkpoint': b.checkpoint_id },
          h('td', {}, b.name, h('div', { class: 'id' }, b.id)),
          h('td', {}, b.resource_name || b.resource_id),
          h('td', {}, statusBadge(b.status), b.status === 'creating' ? ` ${b.extend_info.progress} %` : ''),
          h('td', {}, `${b.incremental ? 'incremental' : 'full'}${b.extend_info.auto_trigger ? ' · by policy' : ''}`),
          h('td', {}, when(b.created_at)),
          h('td', {}),
        );
        row.lastElementChild!.append(
          h('button', { type: 'button', class: 'danger', onclick: () => deleteBackup(s, b, out, row) }, 'Delete…'),
        );
        return row;
      }),
    ],
  );
}

/** One vault: capacity, its policy's schedule, its resources and backups; back up now, delete a backup. */
export async function vaultPage(s: Session, main: HTMLElement, id: string): Promise<void> {
  const [vault, policies, backups] = await Promise.all([
    cbr<{ vault: Vault }>(s, 'GET', `/vaults/${id}`).then((r) => r.vault),
    cbr<{ policies: Policy[] }>(s, 'GET', `/policies?vault_id=${id}`).then((r) => r.policies),
    cbr<{ backups: CbrBackup[]; count: number }>(s, 'GET', `/backups?vault_id=${id}&limit=100`),
  ]);
  const out = h('div', { class: 'action-result', 'aria-live': 'polite' });
  append(main, [
    vaultTabs(id, 'vault'),
    h('h1', {}, vault.name, ' ', statusBadge(vault.billing.status)),
    h('p', { class: 'id' }, vault.id),
    h(
      'div',
      { class: 'columns' },
      h('section', { 'aria-label': 'Capacity' }, h('h2', {}, 'Capacity'), capacity(vault)),
      h('section', { 'aria-label': 'Policy' }, h('h2', {}, 'Policy and next runs'), policySummary(policies[0], 5)),
    ),
    h(
      'div',
      { class: 'actions' },
      h(
        'div',
        { class: 'buttons' },
        h('button', { type: 'button', disabled: vault.resources.length === 0, onclick: () => backUpNow(s, vault, out) }, 'Back up now'),
      ),
      out,
    ),
    h('h2', {}, `Resources (${vault.resources.length})`),
    resourcesTable(vault),
    h('h2', {}, `Backups (${backups.count})`),
    backupsTable(s, backups.backups, out),
    backups.count > backups.backups.length ? h('p', { class: 'hint' }, `The newest ${backups.backups.length} are listed.`) : null,
  ]);
}
