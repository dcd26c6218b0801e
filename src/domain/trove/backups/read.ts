import type { TroveBackupRow } from '../../../db/schema.js';
import { findTroveBackup, listTroveBackups } from '../../../db/trove-backups-repository.js';
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

/** Section 1.4: project (or, for admins, all projects / another project), instance and datastore filters, newest first. */
export async function listTroveBackupsFor(deps: TroveDeps, ctx: RequestContext, q: TroveBackupListQuery): Promise<TroveBackupRow[]> {
  if ((q.allProjects || q.projectId !== undefined) && !ctx.isAdmin) throw forbidden('backup:index:all_projects');
  if (q.datastore !== undefined) {
    try {
      findDatastore(q.datastore);
    } catch {
      throw new DomainError('not_found', `Datastore '${q.datastore}' cannot be found.`);
    }
  }
  const projectId = q.allProjects ? null : (q.projectId ?? ctx.projectId);
  return listTroveBackups(deps.db, { projectId, instanceId: q.instanceId, limit: q.limit, offset: q.offset });
}
