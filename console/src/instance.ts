import { type Session, call } from './api.js';
import { confirmDialog, errorBox, h, statusBadge, when } from './dom.js';
import { type Instance, type TroveBackupPage, backupsOf, moreBackupsHint } from './others.js';

/**
 * One Trove instance's page (#/instances/{id}): its fields, its backups with restore as a new
 * instance, a backup started from the page, and delete (after confirmation). Also the form that
 * creates an instance, shown on the instances list. Only the public Trove API (/v1.0/{project}).
 */

interface Flavor {
  id: string;
  name: string;
  ram: number;
}

interface Datastore {
  name: string;
  versions: Array<{ name: string; id: string }>;
}

const SETTLED = ['ACTIVE', 'ERROR', 'SHUTDOWN'];

/** The create form: name, flavor, volume size, datastore version (GET /flavors, /datastores); opens the new instance's page. */
export async function createInstanceForm(s: Session): Promise<HTMLElement> {
  const [{ flavors }, { datastores }] = await Promise.all([
    call<{ flavors: Flavor[] }>(s, 'GET', '/flavors', undefined, 'v1.0'),
    call<{ datastores: Datastore[] }>(s, 'GET', '/datastores', undefined, 'v1.0'),
  ]);
  const out = h('div', { 'aria-live': 'polite' });
  const versions = datastores.flatMap((d) => d.versions.map((v) => ({ type: d.name, version: v.name })));
  const form = h(
    'form',
    { class: 'create-instance', 'aria-label': 'New instance' },
    h('label', {}, 'Name ', h('input', { name: 'name', required: true, maxlength: 255 })),
    ' ',
    h(
      'label',
      {},
      'Flavor ',
      h(
        'select',
        { name: 'flavor' },
        flavors.map((f) => h('option', { value: f.id }, `${f.name} (${f.ram} MB)`)),
      ),
    ),
    ' ',
    h('label', {}, 'Volume (GB) ', h('input', { name: 'size', type: 'number', min: 1, value: 1, required: true })),
    ' ',
    h(
      'label',
      {},
      'Datastore ',
      h(
        'select',
        { name: 'datastore' },
        versions.map((v, i) => h('option', { value: String(i) }, `${v.type} ${v.version}`)),
      ),
    ),
    ' ',
    h('button', { type: 'submit' }, 'Create instance'),
  ) as HTMLFormElement;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const ds = versions[Number(data.get('datastore'))];
    const instance = {
      name: String(data.get('name') ?? '').trim(),
      flavorRef: String(data.get('flavor')),
      volume: { size: Number(data.get('size')) },
      ...(ds ? { datastore: { type: ds.type, version: ds.version } } : {}),
    };
    void call<{ instance: { id: string } }>(s, 'POST', '/instances', { instance }, 'v1.0').then(
      (r) => {
        location.hash = `#/instances/${r.instance.id}`;
      },
      (err) => out.replaceChildren(errorBox(err)),
    );
  });
  return h('section', { class: 'new-instance' }, h('h2', {}, 'New instance'), form, out);
}

/** #/instances/{id}: re-reads every 2 s while the instance is not settled (building, backing up, restoring). */
export async function instancePage(s: Session, main: HTMLElement, id: string): Promise<() => void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const body = h('div', {});
  const draw = async () => {
    const { instance: i } = await call<{ instance: Instance & { ip?: string[]; port?: number } }>(
      s,
      'GET',
      `/instances/${id}`,
      undefined,
      'v1.0',
    );
    const page = await call<TroveBackupPage>(s, 'GET', `/instances/${id}/backups`, undefined, 'v1.0');
    const { backups } = page;
    const out = h('div', { 'aria-live': 'polite' });
    body.replaceChildren(
      h('h1', {}, i.name, ' ', statusBadge(i.status.toLowerCase())),
      h(
        'dl',
        { class: 'fields' },
        h('dt', {}, 'id'),
        h('dd', { class: 'id' }, i.id),
        h('dt', {}, 'datastore'),
        h('dd', {}, i.datastore ? `${i.datastore.type} ${i.datastore.version}` : '—'),
        h('dt', {}, 'flavor'),
        h('dd', {}, i.flavor?.id ?? '—'),
        h('dt', {}, 'volume'),
        h('dd', {}, i.volume ? `${i.volume.size} GB` : '—'),
        h('dt', {}, 'address'),
        h('dd', {}, i.ip?.length ? `${i.ip[0]}:${i.port ?? ''}` : '—'),
        h('dt', {}, 'created'),
        h('dd', {}, when(i.created)),
      ),
      h(
        'div',
        { class: 'buttons' },
        h(
          'button',
          {
            type: 'button',
            disabled: i.status !== 'ACTIVE',
            onclick: () =>
              void call(s, 'POST', '/backups', { backup: { name: `${i.name}-${Date.now()}`, instance: i.id } }, 'v1.0').then(
                () => void draw(),
                (err) => out.replaceChildren(errorBox(err)),
              ),
          },
          'Back up now',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              const ok = await confirmDialog(
                `Delete instance ${i.name}? Its cluster and data directory are removed; its backups stay.`,
                'Delete instance',
              );
              if (!ok) return;
              try {
                await call(s, 'DELETE', `/instances/${i.id}`, undefined, 'v1.0');
                location.hash = '#/instances';
              } catch (err) {
                out.replaceChildren(errorBox(err));
              }
            },
          },
          'Delete',
        ),
      ),
      out,
      h('h2', {}, 'Backups'),
      backupsOf(s, i, backups),
      moreBackupsHint(page) ?? '',
    );
    const busy = !SETTLED.includes(i.status) || backups.some((b) => b.status === 'NEW' || b.status === 'BUILDING');
    if (busy && !stopped) timer = setTimeout(() => void draw().catch((err) => body.append(errorBox(err))), 2000);
  };
  main.append(h('p', {}, h('a', { href: '#/instances' }, '← Instances')), body);
  await draw();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
