import { randomUUID } from 'node:crypto';
import { lockProjectQuota } from '../../../db/quotas-repository.js';
import type { TroveBackupRow } from '../../../db/schema.js';
import { findTroveBackup, insertTroveBackup, lastCompletedTroveBackup } from '../../../db/trove-backups-repository.js';
import { transitionInstance } from '../../../db/trove-instances-repository.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError, overLimit } from '../../common/errors.js';
import { projectQuotas, quotaUsage } from '../../common/quotas.js';
import { DATASTORE, DATASTORE_VERSION } from '../catalog.js';
import { unprocessable } from '../errors.js';
import { getInstance } from '../instances/read.js';
import { TRANSITIONS } from '../instances/status.js';
import { type TroveBackupApiDeps, TroveBackupStatus, troveBackupPrefix } from './deps.js';

export interface CreateTroveBackupInput {
  name: string;
  instance?: string;
  description?: string;
  parentId?: string;
  incremental?: number;
}

const busy = (id: string, status: string) =>
  unprocessable(`Instance ${id} is not currently available for an action to be performed (instance status was ${status}).`);

/**
 * Trove's Backup.create (section 1.2): the instance (404), ACTIVE (422 otherwise, BACKUP
 * included), the parent (explicit: 404 unknown, 400 not COMPLETED or of another instance;
 * `incremental: 1`: the newest COMPLETED backup, else a full), the backups and backup_gigabytes
 * quotas (shared with volume backups), then in one transaction the instance to BACKUP, the row NEW and its job.
 */
export async function createTroveBackup(
  deps: TroveBackupApiDeps,
  ctx: RequestContext,
  input: CreateTroveBackupInput,
): Promise<TroveBackupRow> {
  if (input.instance === undefined) throw new DomainError('invalid', 'instance is missing.');
  const instance = await getInstance(deps, ctx, input.instance);
  if (instance.status !== 'ACTIVE') throw busy(instance.id, instance.status);
  let parent: TroveBackupRow | undefined;
  if (input.parentId !== undefined) {
    parent = await findTroveBackup(deps.db, input.parentId.toLowerCase(), ctx.isAdmin ? null : ctx.projectId);
    if (!parent) throw new DomainError('not_found', `Resource ${input.parentId} cannot be found.`);
    if (parent.instance_id !== instance.id) throw new DomainError('invalid', `Parent backup ${parent.id} belongs to another instance.`);
    if (parent.status !== TroveBackupStatus.COMPLETED) {
      throw new DomainError('invalid', `Parent backup ${parent.id} is not COMPLETED (its status is ${parent.status}).`);
    }
  } else if (input.incremental === 1) {
    parent = await lastCompletedTroveBackup(deps.db, instance.id);
  }
  const id = randomUUID();
  const row = await deps.db.transaction().execute(async (trx) => {
    await lockProjectQuota(trx, ctx.projectId);
    // The quotas volume backups use; a new backup reserves its instance's volume size.
    const limits = await projectQuotas(trx, deps.config, ctx.projectId);
    const used = await quotaUsage(trx, ctx.projectId);
    if (limits.backups >= 0 && used.backups + 1 > limits.backups) throw overLimit("Quota exceeded for resources: ['backups'].");
    if (limits.backup_gigabytes >= 0 && used.backup_gigabytes + instance.volume_size > limits.backup_gigabytes) {
      throw overLimit("Quota exceeded for resources: ['backup_gigabytes'].");
    }
    const [from, to] = TRANSITIONS.backup_start;
    const moved = await transitionInstance(trx, instance.id, from, { status: to });
    if (!moved) throw busy(instance.id, 'BACKUP');
    const inserted = await insertTroveBackup(trx, {
      id,
      project_id: ctx.projectId,
      user_id: ctx.userId,
      instance_id: instance.id,
      name: input.name,
      description: input.description ?? null,
      status: TroveBackupStatus.NEW,
      parent_id: parent?.id ?? null,
      datastore_type: DATASTORE.name,
      datastore_version: DATASTORE_VERSION.name,
      datastore_version_id: DATASTORE_VERSION.id,
      container: deps.store.defaultContainer,
      prefix: troveBackupPrefix(instance.id, id),
      host: instance.host_id,
    });
    await enqueueJob(trx, { kind: 'trove_backup', resourceId: id, hostId: instance.host_id });
    return inserted;
  });
  deps.wakeJobs?.();
  return row;
}
