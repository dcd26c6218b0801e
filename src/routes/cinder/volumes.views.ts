import type { RequestContext } from '../../domain/common/context.js';
import { allowed } from '../../domain/common/policy.js';
import { publicVolumeStatus } from '../../domain/volumes/status.js';
import type { VolumeRecord } from '../../domain/volumes/read.js';
import { cinderTimestamp } from '../../http/format.js';
import { hasNextPage } from '../../domain/common/list-params.js';
import { type ListParams } from '../../domain/common/list-params.js';
import { type LinkContext, nextLink, resourceLinks } from '../../http/links.js';

/**
 * Cinder's volume JSON (cinder/api/v3/views/volumes.py + the os-vol-* extensions,
 * cinder/api/v3/views/volumes.py): exactly the keys of the request's microversion, nothing else.
 */

/** Every volume has Cinder's default type (there are no volume types here). */
export const DEFAULT_VOLUME_TYPE = '__DEFAULT__';
export const DEFAULT_VOLUME_TYPE_ID = 'a0f0d1c2-5e3b-4c8e-9f6a-0d1e2f3a4b5c';
/** The one volume "service" of this process (3.48 service_uuid). */
export const VOLUME_SERVICE_UUID = '7c1f0c63-2a5e-4a8b-9d8e-3f2b1a0c9d4e';

export interface VolumeViewOptions {
  ctx: RequestContext;
  lc: LinkContext;
  atLeast: (v: string) => boolean;
  /** show and list detail add the os-vol-* extension keys; create/update do not. */
  extended: boolean;
}

/** {id, name, links}: the plain list item. */
export function volumeSummary(rec: VolumeRecord, lc: LinkContext): Record<string, unknown> {
  return { id: rec.row.id, name: rec.row.display_name, links: resourceLinks(lc, 'volumes', rec.row.id) };
}

/** The detail object. */
export function volumeDetail(rec: VolumeRecord, o: VolumeViewOptions): Record<string, unknown> {
  const { row } = rec;
  const admin = o.ctx.isAdmin;
  const v: Record<string, unknown> = {
    id: row.id,
    status: publicVolumeStatus(row.status),
    size: row.size,
    availability_zone: row.availability_zone,
    created_at: cinderTimestamp(row.created_at),
    updated_at: cinderTimestamp(row.updated_at),
    name: row.display_name,
    description: row.display_description,
    volume_type: DEFAULT_VOLUME_TYPE,
    snapshot_id: row.snapshot_id,
    source_volid: row.source_volid,
    metadata: rec.metadata,
    links: resourceLinks(o.lc, 'volumes', row.id),
    user_id: row.user_id,
    bootable: String(row.bootable),
    encrypted: false,
    replication_status: 'disabled',
    consistencygroup_id: null,
    multiattach: false,
  };
  if (admin) v.migration_status = row.migration_status;
  v.attachments = rec.attachments.map((a) => ({
    id: a.volume_id,
    attachment_id: a.id,
    volume_id: a.volume_id,
    server_id: a.instance_uuid,
    host_name: admin ? a.attached_host : null,
    device: a.mountpoint,
    attached_at: cinderTimestamp(a.attached_at),
  }));
  if (o.atLeast('3.13')) v.group_id = null;
  if (o.atLeast('3.21') && admin) v.provider_id = null;
  if (o.atLeast('3.48')) {
    v.shared_targets = false;
    v.service_uuid = VOLUME_SERVICE_UUID;
  }
  if (o.atLeast('3.61') && admin) v.cluster_name = null;
  if (o.atLeast('3.63')) v.volume_type_id = DEFAULT_VOLUME_TYPE_ID;
  if (o.atLeast('3.65')) v.consumes_quota = true;
  if (o.extended) {
    if (allowed(o.ctx, 'volume_extension:volume_tenant_attribute', row.project_id)) v['os-vol-tenant-attr:tenant_id'] = row.project_id;
    if (allowed(o.ctx, 'volume_extension:volume_host_attribute', row.project_id)) v['os-vol-host-attr:host'] = row.host;
    if (allowed(o.ctx, 'volume_extension:volume_mig_status_attribute', row.project_id)) {
      v['os-vol-mig-status-attr:migstat'] = row.migration_status;
      v['os-vol-mig-status-attr:name_id'] = null;
    }
    // The VolumeImageMetadata extension: only when the volume has any.
    if (Object.keys(rec.imageMetadata).length && allowed(o.ctx, 'volume_extension:volume_image_metadata:show', row.project_id)) {
      v.volume_image_metadata = rec.imageMetadata;
    }
  }
  return v;
}

/** A list body: `<collection>`, the next link when the page is full, `count` with with_count. */
export function listBody(
  collection: 'volumes' | 'snapshots',
  items: Array<Record<string, unknown>>,
  page: { params: ListParams; total: number | null; lastId: string | null },
  next: { lc: LinkContext; path: string; query: Record<string, unknown> },
): Record<string, unknown> {
  const body: Record<string, unknown> = { [collection]: items };
  if (page.lastId && hasNextPage(page.params, items.length, page.total)) {
    body[`${collection}_links`] = nextLink(next.lc, next.path, next.query, page.lastId);
  }
  if (page.params.withCount) body.count = page.total;
  return body;
}
