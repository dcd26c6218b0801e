import type { Chain } from './backup.js';
import { bytes, h, svg, when } from './dom.js';

type Member = Chain['backups'][number];

/**
 * The volume's backups as a tree of parent links: the backup shown, the ones a restore of it
 * reads (needed), and its children. Roots are full backups (or incrementals whose parent is gone).
 */
export function chainView(chain: Chain): HTMLElement {
  const needed = new Set(chain.needed_to_restore);
  const ids = new Set(chain.backups.map((m) => m.id));
  const kids = new Map<string, Member[]>();
  for (const m of chain.backups) {
    const key = m.parent_id && ids.has(m.parent_id) ? m.parent_id : '';
    kids.set(key, [...(kids.get(key) ?? []), m]);
  }
  const node = (m: Member): HTMLElement => {
    const cls = [
      'node',
      m.id === chain.backup_id ? 'current' : '',
      needed.has(m.id) ? 'needed' : '',
      chain.children.includes(m.id) ? 'child' : '',
    ]
      .filter(Boolean)
      .join(' ');
    const children = kids.get(m.id) ?? [];
    return h(
      'li',
      {},
      h(
        'a',
        { href: `#/backups/${m.id}`, class: cls, 'data-chain-id': m.id, 'aria-current': m.id === chain.backup_id ? 'true' : false },
        h('strong', {}, m.parent_id ? 'incremental' : 'full'),
        h('span', {}, m.name || m.id.slice(0, 8)),
        h('span', { class: 'small' }, `${when(m.created_at)} · ${bytes(m.stored_bytes)} · ${m.status}`),
        needed.has(m.id) && m.id !== chain.backup_id ? h('span', { class: 'small tag' }, 'needed to restore') : null,
      ),
      children.length ? h('ul', {}, children.map(node)) : null,
    );
  };
  return h(
    'section',
    { class: 'chain', 'aria-label': 'Incremental chain' },
    h('h2', {}, 'Incremental chain'),
    h(
      'p',
      { class: 'hint' },
      `A restore of this backup reads ${chain.needed_to_restore.length} backup${chain.needed_to_restore.length === 1 ? '' : 's'} (outlined); `,
      `${chain.children.length} backup${chain.children.length === 1 ? '' : 's'} build${chain.children.length === 1 ? 's' : ''} on it.`,
    ),
    h('ul', { class: 'tree' }, (kids.get('') ?? []).map(node)),
  );
}

/** Bars of the bytes each backup of the volume stored, oldest first, against the volume's size. */
export function historyChart(chain: Chain, volumeBytes: number): HTMLElement {
  const members = chain.backups.slice(-40);
  const W = 640;
  const H = 160;
  const max = Math.max(1, ...members.map((m) => m.stored_bytes));
  const bw = W / Math.max(members.length, 1);
  return h(
    'section',
    { class: 'history', 'aria-label': 'History' },
    h('h2', {}, 'History: bytes stored per backup of this volume'),
    svg(
      'svg',
      { viewBox: `0 0 ${W} ${H + 20}`, role: 'img', 'aria-label': 'stored bytes per backup', class: 'chart' },
      members.map((m, i) => {
        const bh = Math.max(1, (m.stored_bytes / max) * H);
        return svg(
          'rect',
          {
            x: i * bw + 2,
            y: H - bh,
            width: Math.max(1, bw - 4),
            height: bh,
            class: m.id === chain.backup_id ? 'bar current' : m.parent_id ? 'bar incr' : 'bar full',
          },
          svg('title', {}, `${m.name ?? m.id}: ${bytes(m.stored_bytes)} (${when(m.created_at)})`),
        );
      }),
      svg(
        'text',
        { x: 0, y: H + 16, class: 'axis' },
        `max ${bytes(max)} · volume ${bytes(volumeBytes)} · full = dark, incremental = light`,
      ),
    ),
  );
}
