import { ApiError, type Session } from './api.js';
import { type Policy, type Vault, capacity, cbr, policyByVault, policySummary, dataTable } from './cbr-common.js';
import { h, statusBadge } from './dom.js';

/** CBR vaults of the project: capacity used, protected resources, the bound policy and its next run times. */
export async function vaultsPage(s: Session, main: HTMLElement): Promise<void> {
  const [vaults, policies] = await Promise.all([
    cbr<{ vaults: Vault[]; count: number }>(s, 'GET', '/vaults?limit=1000'),
    cbr<{ policies: Policy[] }>(s, 'GET', '/policies'),
  ]).catch((err: unknown) => {
    // A list is never 404 in CBR: the Cinder listener's own 404 means CBR is off here.
    if (err instanceof ApiError && err.status === 404) throw new Error(`CBR is not served by this service (CBR_PORT=0): ${err.message}`);
    throw err;
  });
  const policyOf = policyByVault(policies.policies);
  main.append(
    h('h1', {}, 'Vaults (CBR)'),
    h(
      'p',
      { class: 'count', 'data-count': vaults.count },
      `${vaults.count} vault${vaults.count === 1 ? '' : 's'} · `,
      h('a', { href: '#/operation-logs' }, 'Operation logs of the project'),
    ),
    vaults.vaults.length === 0
      ? h('p', {}, 'No vaults in this project.')
      : dataTable(
          'vaults',
          ['vault', 'capacity', 'resources', 'policy and next runs', 'status'],
          [
            vaults.vaults.map((v) =>
              h(
                'tr',
                { 'data-vault': v.id },
                h('td', {}, h('a', { href: `#/vaults/${v.id}` }, v.name), h('div', { class: 'id' }, v.id)),
                h('td', {}, capacity(v)),
                h('td', { class: 'resources', 'data-resources': v.resources.length }, `${v.resources.length} protected`),
                h('td', {}, policySummary(policyOf.get(v.id))),
                h('td', {}, statusBadge(v.billing.status)),
              ),
            ),
          ],
        ),
  );
}
