import { type Session, call } from './api.js';
import { errorBox, h, statusBadge, when } from './dom.js';
import { createInstanceForm } from './instance.js';

export interface Instance {
  id: string;
  name: string;
  status: string;
  created?: string;
  flavor?: { id: string };
  volume?: { size: number };
  datastore?: { type: string; version: string };
}

export interface TroveBackup {
  id: string;
  name: string;
  status: string;
  size: number | null;
  created: string;
  parent_id: string | null;
}

/** A page of an instance's backups as Trove answers it: `links` carries rel=next when more follow. */
export interface TroveBackupPage {
  backups: TroveBackup[];
  links?: Array<{ rel: string; href: string }>;
}

/** Says that only the newest backups are listed when Trove's page has a next link. */
export function moreBackupsHint(page: TroveBackupPage): HTMLElement | null {
  if (!page.links?.some((l) => l.rel === 'next')) return null;
  return h('p', { class: 'hint more-backups' }, `The newest ${page.backups.length} backups are listed.`);
}

/** Restores `backup` as a new instance shaped like its source (flavor, volume size, datastore). */
async function restoreAsNew(s: Session, source: Instance, backup: TroveBackup, name: string): Promise<string> {
  const instance: Record<string, unknown> = { name, restorePoint: { backupRef: backup.id } };
  if (source.flavor) instance.flavorRef = source.flavor.id;
  if (source.volume) instance.volume = { size: source.volume.size };
  if (source.datastore) instance.datastore = { type: source.datastore.type, version: source.datastore.version };
  const r = await call<{ instance: { id: string } }>(s, 'POST', '/instances', { instance }, 'v1.0');
  return r.instance.id;
}

/** An instance's backups, each with restore as a new instance (the list and instance.ts's page). */
export function backupsOf(s: Session, inst: Instance, backups: TroveBackup[]): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  if (backups.length === 0) return h('p', { class: 'hint' }, 'No backups of this instance.');
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'trove-backups' },
      h(
        'tr',
        {},
        h('th', {}, 'backup'),
        h('th', {}, 'status'),
        h('th', {}, 'type'),
        h('th', {}, 'size'),
        h('th', {}, 'created'),
        h('th', {}, 'restore as a new instance'),
      ),
      backups.map((b) => {
        const form = h(
          'form',
          { class: 'inline' },
          h('input', { name: 'name', value: `${inst.name}-restored`, 'aria-label': `name of the instance restored from ${b.name}` }),
          ' ',
          h('button', { type: 'submit', disabled: b.status !== 'COMPLETED' }, 'Restore'),
        ) as HTMLFormElement;
        form.addEventListener('submit', (ev) => {
          ev.preventDefault();
          const name = String(new FormData(form).get('name') ?? '').trim();
          void restoreAsNew(s, inst, b, name).then(
            (id) =>
              out.replaceChildren(h('p', { class: 'notice', 'data-new-instance': id }, `Restoring into new instance ${name} (${id})`)),
            (err) => out.replaceChildren(errorBox(err)),
          );
        });
        return h(
          'tr',
          { 'data-trove-backup': b.id },
          h('td', {}, b.name, h('div', { class: 'id' }, b.id)),
          h('td', {}, statusBadge(b.status.toLowerCase())),
          h('td', {}, b.parent_id ? 'incremental' : 'full'),
          h('td', {}, b.size === null ? '—' : `${b.size} GB`),
          h('td', {}, when(b.created)),
          h('td', {}, form),
        );
      }),
    ),
    out,
  );
}

/** Trove database instances of the project (GET /v1.0/{project}/instances, same token), each with its backups. */
export async function instancesPage(s: Session, main: HTMLElement): Promise<void> {
  const r = await call<{ instances: Instance[] }>(s, 'GET', '/instances', undefined, 'v1.0');
  const pages = await Promise.all(r.instances.map((i) => call<TroveBackupPage>(s, 'GET', `/instances/${i.id}/backups`, undefined, 'v1.0')));
  main.append(
    h('h1', {}, 'Database instances (Trove)'),
    await createInstanceForm(s),
    r.instances.length === 0
      ? h('p', {}, 'No database instances in this project.')
      : h(
          'div',
          {},
          r.instances.map((i, n) =>
            h(
              'section',
              { class: 'instance', 'data-instance': i.id, 'aria-label': i.name },
              h('h2', {}, h('a', { href: `#/instances/${i.id}` }, i.name), ' ', statusBadge(i.status.toLowerCase())),
              h(
                'p',
                { class: 'hint' },
                `${i.datastore ? `${i.datastore.type} ${i.datastore.version}` : ''} · volume ${i.volume ? `${i.volume.size} GB` : '—'} · created ${when(i.created)} · `,
                h('span', { class: 'id' }, i.id),
              ),
              backupsOf(s, i, pages[n]?.backups ?? []),
              pages[n] ? moreBackupsHint(pages[n]) : null,
            ),
          ),
        ),
  );
}
