import type { BackupPage } from '../domain/backup-list.js';
import type { BackupView } from '../domain/backups.js';
import { hasNextPage } from '../domain/list-params.js';
import type { BackupRow } from '../db/schema.js';
import { cinderTimestamp } from '../http/format.js';
import { type LinkContext, nextLink, resourceLinks } from '../http/links.js';

/** Cinder's backup JSON (reference §3.2): exactly the fields of each microversion, nothing more. */

export interface DetailOptions {
  atLeast: (v: string) => boolean;
  /** backup:backup_project_attribute passed (admin): project_id (3.18) and user_id (3.56). */
  showOwner: boolean;
}

/** List items, create/update/import responses: id, name, links. */
export function backupSummary(lc: LinkContext, row: BackupRow): Record<string, unknown> {
  return { id: row.id, name: row.display_name, links: resourceLinks(lc, 'backups', row.id) };
}

const NO_KEY = '00000000-0000-0000-0000-000000000000';

/** Show and list-detail items. */
export function backupDetail(lc: LinkContext, view: BackupView, opts: DetailOptions): Record<string, unknown> {
  const r = view.row;
  const out: Record<string, unknown> = {
    id: r.id,
    status: r.status,
    size: r.size ?? 0,
    object_count: r.object_count ?? 0,
    availability_zone: r.availability_zone,
    container: r.container,
    created_at: cinderTimestamp(r.created_at),
    updated_at: cinderTimestamp(r.updated_at),
    name: r.display_name,
    description: r.display_description,
    fail_reason: r.fail_reason,
    volume_id: r.volume_id,
    links: resourceLinks(lc, 'backups', r.id),
    is_incremental: r.parent_id !== null,
    has_dependent_backups: r.num_dependent_backups > 0,
    snapshot_id: r.snapshot_id,
    data_timestamp: cinderTimestamp(r.data_timestamp),
  };
  if (opts.atLeast('3.43')) out.metadata = view.metadata;
  if (opts.showOwner && opts.atLeast('3.18')) out['os-backup-project-attr:project_id'] = r.project_id;
  if (opts.showOwner && opts.atLeast('3.56')) out.user_id = r.user_id;
  if (opts.atLeast('3.64') && r.encryption_key_id && r.encryption_key_id !== NO_KEY) out.encryption_key_id = r.encryption_key_id;
  return out;
}

/** A list body: backups, then backups_links (when a page is full) and count (with_count). */
export function backupList(
  lc: LinkContext,
  page: BackupPage,
  path: 'backups' | 'backups/detail',
  query: Record<string, unknown>,
  item: (v: BackupView) => Record<string, unknown>,
): Record<string, unknown> {
  const body: Record<string, unknown> = { backups: page.items.map(item) };
  if (page.lastId && hasNextPage(page.params, page.items.length, page.total)) body.backups_links = nextLink(lc, path, query, page.lastId);
  if (page.params.withCount) body.count = page.total;
  return body;
}
