import { type CbrBackupFilter, findCbrBackup, listCbrBackups } from '../../../db/cbr-backups-repository.js';
import type { ListParams, SortDir } from '../../../db/paginate.js';
import type { Db } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { CbrError, paramInvalid } from '../errors.js';
import { VOLUME_TYPE } from '../time.js';
import { type CbrBackupView, STATUS_FILTER, cbrBackupViews } from './backup-view.js';

/** B1/B2: the project's CBR backups (made by a vault's checkpoint and not deleted through CBR). */

export interface ListCbrBackupsQuery {
  checkpointId?: string;
  vaultId?: string;
  resourceId?: string;
  resourceName?: string;
  resourceType?: string;
  resourceAz?: string;
  /** One or more CBR statuses (repeated `status=`, or the SDK's single string). */
  status?: string[];
  name?: string;
  imageType?: string;
  parentId?: string;
  incremental?: boolean;
  ownType?: string;
  startTime?: Date;
  endTime?: Date;
  sort?: string;
  limit: number;
  offset: number;
  marker?: string;
}

/** sort keys -> backups columns (protected_at is when the data was taken). */
const SORT_COLUMNS: Record<string, string> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  name: 'display_name',
  status: 'status',
  protected_at: 'data_timestamp',
  id: 'id',
};

/** `key[:asc|desc],...`, direction desc by default; created_at then id close the order for stable paging. */
export function parseBackupSort(sort: string | undefined): Array<{ column: string; dir: SortDir }> {
  const out: Array<{ column: string; dir: SortDir }> = [];
  for (const part of sort ? sort.split(',') : []) {
    const [key = '', dir = 'desc', ...rest] = part.trim().split(':');
    const column = SORT_COLUMNS[key];
    if (!column || rest.length || (dir !== 'asc' && dir !== 'desc'))
      throw paramInvalid('sort', `"${part}" (keys: ${Object.keys(SORT_COLUMNS).join(', ')}; directions asc, desc)`);
    if (!out.some((k) => k.column === column)) out.push({ column, dir });
  }
  for (const column of ['created_at', 'id']) if (!out.some((k) => k.column === column)) out.push({ column, dir: 'desc' });
  return out;
}

export const backupNotFound = (id: string) => new CbrError('BackupService.3001', `Backup ${id} could not be found.`, true);

export async function listCbrBackupsOf(
  db: Db,
  ctx: RequestContext,
  q: ListCbrBackupsQuery,
): Promise<{ backups: CbrBackupView[]; count: number }> {
  let statuses: string[] | undefined;
  if (q.status) {
    statuses = [];
    for (const s of q.status) {
      const ours = STATUS_FILTER[s];
      if (!ours) throw paramInvalid('status', `"${s}" (allowed: ${Object.keys(STATUS_FILTER).join(', ')})`);
      statuses.push(...ours);
    }
  }
  const filter: CbrBackupFilter = {
    projectId: ctx.projectId,
    checkpointId: q.checkpointId,
    vaultId: q.vaultId,
    resourceId: q.resourceId,
    resourceName: q.resourceName,
    resourceAz: q.resourceAz,
    statuses,
    name: q.name,
    parentId: q.parentId,
    // false is "no filter" (Terraform always sends it).
    incrementalOnly: q.incremental === true,
    startTime: q.startTime,
    endTime: q.endTime,
    // Only volume backups of our own project exist here: no replicas, nothing shared with us.
    matchesNothing:
      (q.resourceType !== undefined && q.resourceType !== VOLUME_TYPE) ||
      (q.imageType !== undefined && q.imageType !== 'backup') ||
      q.ownType === 'shared',
  };
  if (q.marker !== undefined && !(await findCbrBackup(db, q.marker, ctx.projectId))) {
    throw paramInvalid('marker', `backup ${q.marker} could not be found`);
  }
  const params: ListParams = {
    limit: q.limit,
    limitGiven: true,
    marker: q.marker ?? null,
    offset: q.offset,
    sort: parseBackupSort(q.sort),
    withCount: true,
    allTenants: false,
    filters: [],
    matchesNothing: false,
  };
  const { rows, count } = await listCbrBackups(db, filter, params, q.marker ?? null);
  return { backups: await cbrBackupViews(db, rows), count };
}

/** B2: 404 for an unknown id, another project's backup, a Cinder-only backup or one deleted through CBR. */
export async function showCbrBackup(db: Db, ctx: RequestContext, id: string): Promise<CbrBackupView> {
  const row = await findCbrBackup(db, id, ctx.projectId);
  if (!row) throw backupNotFound(id);
  return (await cbrBackupViews(db, [row]))[0]!;
}
