import { type Session, call } from './api.js';
import { h, statusBadge, when } from './dom.js';

interface Instance {
  id: string;
  name: string;
  status: string;
  created?: string;
  volume?: { size: number };
  datastore?: { type: string; version: string };
}

/** Trove database instances of the project (GET /v1.0/{project}/instances, same token). */
export async function instancesPage(s: Session, main: HTMLElement): Promise<void> {
  const r = await call<{ instances: Instance[] }>(s, 'GET', '/instances', undefined, 'v1.0');
  main.append(
    h('h1', {}, 'Database instances (Trove)'),
    r.instances.length === 0
      ? h('p', {}, 'No database instances in this project.')
      : h(
          'table',
          {},
          h('tr', {}, h('th', {}, 'name'), h('th', {}, 'status'), h('th', {}, 'datastore'), h('th', {}, 'volume'), h('th', {}, 'created')),
          r.instances.map((i) =>
            h(
              'tr',
              {},
              h('td', {}, i.name, h('div', { class: 'id' }, i.id)),
              h('td', {}, statusBadge(i.status.toLowerCase())),
              h('td', {}, i.datastore ? `${i.datastore.type} ${i.datastore.version}` : '—'),
              h('td', {}, i.volume ? `${i.volume.size} GB` : '—'),
              h('td', {}, when(i.created)),
            ),
          ),
        ),
  );
}

/** CBR vaults: served on the CBR listener (CBR_PORT), another origin; the page says so until it is proxied. */
export async function vaultsPage(_s: Session, main: HTMLElement): Promise<void> {
  main.append(
    h('h1', {}, 'Vaults (CBR)'),
    h(
      'p',
      {},
      'CBR vaults, checkpoints and policies are served by the CBR listener (CBR_PORT, default 8790), another origin than this console. ',
      'Their pages are not built yet; use the CBR API or the Huawei Cloud SDKs meanwhile.',
    ),
  );
}
