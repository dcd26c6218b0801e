import type { TroveInstanceRow } from '../../db/schema.js';
import { DATASTORE, DATASTORE_VERSION } from '../../domain/trove/catalog.js';
import type { LinkContext } from '../../http/links.js';
import { troveLinks, troveTimestamp } from '../../http/trove/format.js';

export interface InstanceViewOptions {
  lc: LinkContext;
  /** TROVE_INSTANCE_HOST: shown as `ip` (a list, the clients join it) and in `addresses`. */
  host: string;
  operatingStatus: string;
  detail: boolean;
}

/**
 * InstanceView (list) and InstanceDetailView (show, create) for our clusters: flavor.id,
 * volume.size, datastore.type/version as the clients read them, plus `ip` and the `port`
 * extension so a user can connect with psql; `fault` when in ERROR.
 */
export function instanceView(row: TroveInstanceRow, o: InstanceViewOptions): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    status: row.status,
    operating_status: o.operatingStatus,
    links: troveLinks(o.lc, 'instances', row.id),
    flavor: { id: row.flavor_id, links: troveLinks(o.lc, 'flavors', row.flavor_id) },
    datastore: { type: DATASTORE.name, version: DATASTORE_VERSION.name, version_number: DATASTORE_VERSION.version },
    region: 'RegionOne',
    access: { is_public: false },
    volume: { size: row.volume_size },
    ip: [o.host],
    addresses: [{ address: o.host, type: 'private' }],
    port: row.port,
  };
  if (!o.detail) return view;
  view.created = troveTimestamp(row.created_at);
  view.updated = troveTimestamp(row.updated_at);
  view.service_status_updated = troveTimestamp(row.updated_at);
  if (row.fault_message)
    view.fault = { message: row.fault_message, created: troveTimestamp(row.fault_at ?? row.updated_at), details: null };
  return view;
}
