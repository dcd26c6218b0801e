import type { BackupPage } from '../../domain/backups/reads.js';
import { hasNextPage } from '../../domain/common/list-params.js';
import type { BackupRow, BackupViewRow } from '../../db/schema.js';
import { cinderTimestampFromUtc } from '../../http/format.js';
import { type LinkContext, type Links, nextLink, resourceLinker } from '../../http/links.js';

/** Cinder's backup JSON (cinder/api/views/backups.py): exactly the fields of each microversion, nothing more. */

/** The optional fields a request sees, resolved once per request (not per item); also what to read. */
export interface DetailOptions {
  /** 3.43. */
  metadata: boolean;
  /** 3.18, with backup:backup_project_attribute (admin). */
  projectId: boolean;
  /** 3.56, with backup:backup_project_attribute (admin). */
  userId: boolean;
  /** 3.64 (and only a real key id). */
  encryptionKeyId: boolean;
}

export function detailOptions(atLeast: (v: string) => boolean, showOwner: boolean): DetailOptions {
  return {
    metadata: atLeast('3.43'),
    projectId: showOwner && atLeast('3.18'),
    userId: showOwner && atLeast('3.56'),
    encryptionKeyId: atLeast('3.64'),
  };
}

/** Builds the self and bookmark links of backups. */
export type BackupLinker = (id: string) => Links;

export function backupLinks(lc: LinkContext): BackupLinker {
  return resourceLinker(lc, 'backups');
}

/** List items, create/update/import responses: id, name, links. */
export function backupSummary(links: BackupLinker, row: Pick<BackupRow, 'id' | 'display_name'>): Record<string, unknown> {
  return { id: row.id, name: row.display_name, links: links(row.id) };
}

const NO_KEY = '00000000-0000-0000-0000-000000000000';

/** Show and list-detail items. */
export function backupDetail(links: BackupLinker, r: BackupViewRow, opts: DetailOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: r.id,
    status: r.status,
    size: r.size ?? 0,
    object_count: r.object_count ?? 0,
    availability_zone: r.availability_zone,
    container: r.container,
    created_at: cinderTimestampFromUtc(r.created_at_utc),
    updated_at: cinderTimestampFromUtc(r.updated_at_utc),
    name: r.display_name,
    description: r.display_description,
    fail_reason: r.fail_reason,
    volume_id: r.volume_id,
    links: links(r.id),
    is_incremental: r.parent_id !== null,
    has_dependent_backups: r.num_dependent_backups > 0,
    snapshot_id: r.snapshot_id,
    data_timestamp: cinderTimestampFromUtc(r.data_timestamp_utc),
  };
  if (opts.metadata) out.metadata = r.metadata ?? {};
  if (opts.projectId) out['os-backup-project-attr:project_id'] = r.project_id;
  if (opts.userId) out.user_id = r.user_id;
  if (opts.encryptionKeyId && r.encryption_key_id && r.encryption_key_id !== NO_KEY) out.encryption_key_id = r.encryption_key_id;
  return out;
}

/** A list body: backups, then backups_links (when a page is full) and count (with_count). */
export function backupList<R>(
  lc: LinkContext,
  page: BackupPage<R>,
  path: 'backups' | 'backups/detail',
  query: Record<string, unknown>,
  item: (links: BackupLinker, row: R) => Record<string, unknown>,
): Record<string, unknown> {
  const links = backupLinks(lc);
  const body: Record<string, unknown> = { backups: page.items.map((row) => item(links, row)) };
  if (page.lastId && hasNextPage(page.params, page.items.length, page.total)) body.backups_links = nextLink(lc, path, query, page.lastId);
  if (page.params.withCount) body.count = page.total;
  return body;
}
