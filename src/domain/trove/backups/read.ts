import type { TroveBackupRow } from '../../../db/schema.js';
import { findTroveBackup, type TroveBackupFilter } from '../../../db/trove-backups-repository.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError, forbidden } from '../../common/errors.js';
import { findDatastore } from '../catalog.js';
import type { TroveDeps } from '../instances/runtime.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const backupNotFound = (id: string): DomainError => new DomainError('not_found', `Resource ${id} cannot be found.`);

/** The caller's live backup `id` (admins: any project's); a name or a foreign id is 404 (section 1.6). */
export async function getTroveBackup(deps: TroveDeps, ctx: RequestContext, id: string): Promise<TroveBackupRow> {
  const row = UUID_RE.test(id) ? await findTroveBackup(deps.db, id.toLowerCase(), ctx.isAdmin ? null : ctx.projectId) : undefined;
  if (!row) throw backupNotFound(id);
  return row;
}

export interface TroveBackupListQuery {
  instanceId?: string;
  datastore?: string;
  projectId?: string;
  allProjects?: boolean;
  limit: number;
  /** Trove's marker: a numeric offset. */
  offset: number;
}

/** A checked list request: the one project whose rows it reads (null: all projects) and the filter. */
export interface TroveBackupList {
  project: string | null;
  params: TroveBackupFilter;
}

/**
 * Section 1.4's checks: all_projects or project_id need an admin (403), an unknown datastore
 * is 404 (a known one filters nothing: the catalog has one). Runs before any read, cached or not.
 */
export function checkTroveBackupList(ctx: RequestContext, q: TroveBackupListQuery): TroveBackupList {
  if ((q.allProjects || q.projectId !== undefined) && !ctx.isAdmin) throw forbidden('backup:index:all_projects');
  if (q.datastore !== undefined) findDatastore(q.datastore);
  const project = q.allProjects ? null : (q.projectId ?? ctx.projectId);
  return { project, params: { projectId: project, instanceId: q.instanceId, limit: q.limit, offset: q.offset } };
}
