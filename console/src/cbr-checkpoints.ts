import type { Session } from './api.js';
import { type CbrBackup, cbr, poll, vaultTabs, dataTable } from './cbr-common.js';
import { errorBox, h, statusBadge, when } from './dom.js';

interface Checkpoint {
  id: string;
  status: string;
  created_at: string;
  extra_info: { name: string };
  vault: {
    id: string;
    name: string;
    resources: Array<{ id: string; name: string; protect_status: string; resource_size: string }>;
    skipped_resources: Array<{ id: string; name: string; code: string; reason: string }>;
  };
}

/**
 * How many checkpoints the page shows: each is one GET /checkpoints/{id}, and 20 of them (21 calls
 * in all) took the page past one second with 10,000 backups on a loaded 2-core CI machine.
 */
const SHOWN = 10;
const SETTLING = new Set(['protecting', 'restoring', 'deleting']);

/**
 * The vault's newest checkpoints. CBR has no checkpoint list: their ids come from the vault's backups
 * (each names its checkpoint), then each checkpoint is read for its status and resources.
 */
async function load(s: Session, vaultId: string): Promise<{ checkpoints: Checkpoint[]; more: boolean }> {
  const backups = await cbr<{ backups: CbrBackup[] }>(s, 'GET', `/backups?vault_id=${vaultId}&limit=${SHOWN * 10}`);
  const all = [...new Set(backups.backups.map((b) => b.checkpoint_id))];
  const ids = all.slice(0, SHOWN);
  const shown = await Promise.all(
    ids.map((id) =>
      cbr<{ checkpoint: Checkpoint }>(s, 'GET', `/checkpoints/${id}`).then(
        (r) => r.checkpoint,
        () => null, // deleted between the two calls
      ),
    ),
  );
  return { checkpoints: shown.filter((c): c is Checkpoint => c !== null), more: all.length > SHOWN };
}

function view(loaded: { checkpoints: Checkpoint[]; more: boolean }): HTMLElement[] {
  const hint = loaded.more ? [h('p', { class: 'hint more-checkpoints' }, `The newest ${SHOWN} checkpoints are listed.`)] : [];
  return [table(loaded.checkpoints), ...hint];
}

function table(checkpoints: Checkpoint[]): HTMLElement {
  if (checkpoints.length === 0) return h('p', { class: 'hint' }, 'No checkpoints in this vault yet.');
  return dataTable(
    'checkpoints',
    ['checkpoint', 'status', 'created (UTC)', 'resources'],
    [
      checkpoints.map((c) =>
        h(
          'tr',
          { 'data-checkpoint': c.id, 'data-status': c.status },
          h('td', {}, c.extra_info.name || '—', h('div', { class: 'id' }, c.id)),
          h('td', {}, statusBadge(c.status)),
          h('td', {}, when(c.created_at)),
          h(
            'td',
            {},
            h(
              'ul',
              { class: 'plain' },
              c.vault.resources.map((r) =>
                h('li', { 'data-resource': r.id }, `${r.name || r.id} (${r.resource_size} GB) `, statusBadge(r.protect_status)),
              ),
              c.vault.skipped_resources.map((r) =>
                h('li', { class: 'skipped', 'data-resource': r.id }, `${r.name || r.id}: skipped, ${r.reason} (${r.code})`),
              ),
            ),
          ),
        ),
      ),
    ],
  );
}

/** The vault's checkpoints with their status, time and resources; refreshed each second while one is protecting. */
export async function checkpointsPage(s: Session, main: HTMLElement, vaultId: string): Promise<() => void> {
  const list = h('div', { 'aria-live': 'polite' }, ...view(await load(s, vaultId)));
  main.append(
    vaultTabs(vaultId, 'checkpoints'),
    h('h1', {}, 'Checkpoints'),
    h('p', { class: 'hint' }, 'A checkpoint backs up every volume of the vault at once: one backup per volume.'),
    list,
  );
  const busy = () => [...list.querySelectorAll('tr[data-status]')].some((r) => SETTLING.has(r.getAttribute('data-status') ?? ''));
  return poll(1000, async () => {
    if (!busy()) return false;
    try {
      list.replaceChildren(...view(await load(s, vaultId)));
    } catch (err) {
      list.replaceChildren(errorBox(err));
      return false;
    }
    return busy();
  });
}
