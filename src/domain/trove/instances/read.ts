import type { TroveInstanceRow } from '../../../db/schema.js';
import { findInstance, listInstances } from '../../../db/trove-instances-repository.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError } from '../../common/errors.js';
import { runningPid } from '../cluster/cluster.js';
import { type TroveDeps, pathsOf, troveHostId } from './runtime.js';
import { InstanceStatus, OperatingStatus } from './status.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Trove's 404 for an unknown (or foreign, or name-like) instance id. */
export function instanceNotFound(id: string): DomainError {
  return new DomainError('not_found', `Resource ${id} cannot be found.`);
}

/**
 * The caller's live instance `id` (admins: any project's). A name, or anything that is not
 * a UUID, is 404 as an unknown id is: clients look names up by trying them as ids first.
 */
export async function getInstance(deps: TroveDeps, ctx: RequestContext, id: string): Promise<TroveInstanceRow> {
  const row = UUID_RE.test(id) ? await findInstance(deps.db, id.toLowerCase(), ctx.isAdmin ? undefined : ctx.projectId) : undefined;
  if (!row || (!ctx.isAdmin && row.project_id !== ctx.projectId)) throw instanceNotFound(id);
  return row;
}

/** A page of the caller's instances, newest first; `marker` is the last id of the previous page. */
export async function listProjectInstances(
  deps: TroveDeps,
  ctx: RequestContext,
  page: { limit: number; marker?: string },
): Promise<TroveInstanceRow[]> {
  const marker = page.marker === undefined ? undefined : await findInstance(deps.db, page.marker, ctx.projectId);
  if (page.marker !== undefined && !marker) throw new DomainError('invalid', `Invalid marker: ${page.marker}`);
  return listInstances(deps.db, ctx.projectId, { limit: page.limit, marker });
}

/**
 * operating_status as shown: a running instance whose cluster is down on this host (the
 * supervisor is restarting it) reads SHUTDOWN rather than its stored HEALTHY.
 */
export function liveOperatingStatus(deps: TroveDeps, row: TroveInstanceRow): string {
  const running = row.status === InstanceStatus.ACTIVE || row.status === InstanceStatus.BACKUP;
  if (running && row.host_id === troveHostId(deps.config) && runningPid(pathsOf(deps.config, row)) === null)
    return OperatingStatus.SHUTDOWN;
  return row.operating_status;
}
