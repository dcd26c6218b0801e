import type { RequestContext } from '../../domain/common/context.js';
import { allowed } from '../../domain/common/policy.js';
import type { SnapshotRecord } from '../../domain/volumes/snapshots.js';
import { cinderTimestamp } from '../../http/format.js';

/**
 * Cinder's snapshot JSON (cinder/api/v3/views/snapshots.py): no links; MV fields on show/detail/create/
 * update only; the os-extended-snapshot-attributes keys on show and list detail only.
 */
export interface SnapshotViewOptions {
  ctx: RequestContext;
  atLeast: (v: string) => boolean;
  /** The plain list: no MV-gated fields. */
  summary?: boolean;
  /** show and list detail: add progress and project_id. */
  extended?: boolean;
}

export function snapshotView(rec: SnapshotRecord, o: SnapshotViewOptions): Record<string, unknown> {
  const { row } = rec;
  const v: Record<string, unknown> = {
    id: row.id,
    created_at: cinderTimestamp(row.created_at),
    updated_at: cinderTimestamp(row.updated_at),
    name: row.display_name,
    description: row.display_description,
    volume_id: row.volume_id,
    status: row.status,
    size: row.volume_size,
    metadata: rec.metadata,
  };
  if (!o.summary) {
    if (o.atLeast('3.14')) v.group_snapshot_id = null;
    if (o.atLeast('3.41')) v.user_id = row.user_id;
    if (o.atLeast('3.65')) v.consumes_quota = true;
  }
  if (o.extended && allowed(o.ctx, 'volume_extension:extended_snapshot_attributes', row.project_id)) {
    v['os-extended-snapshot-attributes:progress'] = row.progress;
    v['os-extended-snapshot-attributes:project_id'] = row.project_id;
  }
  return v;
}
