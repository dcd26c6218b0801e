import { currentStatus } from '../../db/sql-values.js';
import { randomUUID } from 'node:crypto';
import { replaceMetadata } from '../../db/resource-metadata.js';
import { transitionVolume, detachAttachments, insertAttachment, updateVolumeFields } from '../../db/volumes-repository.js';
import { GiB } from '../../volumes/volume-backend.js';
import type { RequestContext } from '../common/context.js';
import { invalid } from '../common/errors.js';
import { checkMetadataCount } from '../common/metadata-limit.js';
import { checkExtendQuota } from '../common/quotas.js';
import { authorize } from '../common/policy.js';
import { VOLUME_STATUSES, VOLUME_TRANSITIONS } from './status.js';
import { withVolumeWriteFence } from './fence.js';
import { type VolumeServiceDeps, getVolumeRow } from './read.js';

const T = VOLUME_TRANSITIONS;

/**
 * os-extend: `available` (or `in-use` from 3.42) -> extending -> back to the previous
 * status with the new size, or error_extending. Fenced against snapshot copies.
 */
export async function extendVolume(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  id: string,
  newSize: number,
  inUseAllowed: boolean,
): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, vol.status === 'in-use' ? 'volume:extend_attached_volume' : 'volume:extend', vol.project_id);
  const t = inUseAllowed ? T.extend_attached : T.extend;
  if (!(t.from as readonly string[]).includes(vol.status)) {
    const want = inUseAllowed ? 'available or in-use' : 'available';
    throw invalid('volume', `Volume ${id} status must be ${want} to extend, but current status is: ${vol.status}.`);
  }
  if (newSize <= vol.size) {
    throw invalid('input received', `New size for extend must be greater than current size. (current: ${vol.size}, extended: ${newSize}).`);
  }
  await withVolumeWriteFence(deps.db, id, async () => {
    const row = await deps.db.transaction().execute(async (trx) => {
      await checkExtendQuota(trx, deps.config, vol.project_id, newSize - vol.size);
      return transitionVolume(trx, id, t.from, { status: t.to, previous_status: currentStatus() });
    });
    if (!row) throw invalid('volume', `Volume ${id} status changed concurrently; it can no longer be extended.`);
    const back = row.previous_status ?? 'available';
    try {
      await deps.volumes.extendVolume(id, newSize * GiB);
    } catch {
      await transitionVolume(deps.db, id, T.extend_failed.from, { status: T.extend_failed.to });
      return;
    }
    await transitionVolume(deps.db, id, T.extend_done.from, { status: back, size: newSize, previous_status: 'extending' });
  });
}

export interface ResetVolumeStatus {
  status?: string;
  attachStatus?: 'attached' | 'detached';
  migrationStatus?: string | null;
}

/** os-reset_status (admin): sets status / attach_status / migration_status as asked. */
export async function resetVolumeStatus(deps: VolumeServiceDeps, ctx: RequestContext, id: string, body: ResetVolumeStatus): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume_extension:volume_admin_actions:reset_status', vol.project_id);
  if (body.status === undefined && body.attachStatus === undefined && body.migrationStatus === undefined) {
    throw invalid(null, 'Must specify status, attach_status or migration_status for update!');
  }
  const status = body.status?.toLowerCase();
  if (status !== undefined && !(VOLUME_STATUSES as readonly string[]).includes(status)) throw invalid(null, `Must specify a valid status`);
  await deps.db.transaction().execute(async (trx) => {
    const set: { status?: string; attach_status?: string; migration_status?: string | null } = {};
    if (status !== undefined) set.status = status;
    if (body.attachStatus !== undefined) set.attach_status = body.attachStatus;
    if (body.migrationStatus !== undefined) set.migration_status = body.migrationStatus;
    const row = await transitionVolume(trx, id, T.reset_status.from, set);
    if (!row) throw invalid('volume', `Volume ${id} changed concurrently; retry.`);
    if (body.attachStatus === 'detached') await detachAttachments(trx, id);
  });
}

export interface AttachInput {
  instanceUuid: string | null;
  hostName: string | null;
  mountpoint: string;
  mode: 'rw' | 'ro';
}

/** os-attach: available -> in-use with one attachment (no multiattach here). */
export async function attachVolume(deps: VolumeServiceDeps, ctx: RequestContext, id: string, input: AttachInput): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume:attach', vol.project_id);
  if (!input.instanceUuid && !input.hostName) throw invalid(null, 'Invalid request to attach volume to an invalid target');
  if (vol.readonly && input.mode === 'rw') throw invalid(null, `Invalid attaching mode 'rw' for volume ${id}.`);
  await deps.db.transaction().execute(async (trx) => {
    const row = await transitionVolume(trx, id, T.attach.from, { status: T.attach.to, attach_status: 'attached' });
    if (!row) throw invalid('volume', `Volume ${id} status must be available to attach, but current status is: ${vol.status}.`);
    await insertAttachment(trx, {
      id: randomUUID(),
      volume_id: id,
      instance_uuid: input.instanceUuid,
      attached_host: input.hostName,
      mountpoint: input.mountpoint,
      attach_mode: input.mode,
      attached_at: new Date(),
    });
  });
}

/** os-detach: in-use -> available, its attachments ended. */
export async function detachVolume(deps: VolumeServiceDeps, ctx: RequestContext, id: string, attachmentId: string | null): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume:detach', vol.project_id);
  await deps.db.transaction().execute(async (trx) => {
    const row = await transitionVolume(trx, id, T.detach.from, { status: T.detach.to, attach_status: 'detached' });
    if (!row) throw invalid('volume', `Volume ${id} status must be in-use to detach, but current status is: ${vol.status}.`);
    const n = await detachAttachments(trx, id, attachmentId ?? undefined);
    if (attachmentId && n === 0) throw invalid('volume', `Attachment ${attachmentId} is not an attachment of volume ${id}.`);
  });
}

/** os-update_readonly_flag: only for available volumes (Cinder's rule). */
export async function setReadonlyFlag(deps: VolumeServiceDeps, ctx: RequestContext, id: string, readonly: boolean): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume:update_readonly_flag', vol.project_id);
  const row = await transitionVolume(deps.db, id, ['available'], { readonly });
  if (!row) throw invalid('volume', `Volume ${id} status must be available to update readonly flag, but current status is: ${vol.status}.`);
}

/**
 * os-set_bootable (`openstack volume set --bootable`, `cinder set-bootable`): any status but
 * maintenance, as Cinder's volume_api.update; the policy is volume:update.
 */
export async function setBootable(deps: VolumeServiceDeps, ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume:update', vol.project_id);
  if (vol.status === 'maintenance') throw invalid('volume', 'The volume cannot be updated during maintenance.');
  await updateVolumeFields(deps.db, id, { bootable });
}

/** PUT /volumes/{id}: name/description; metadata (when given) replaces the user metadata. */
export async function updateVolume(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  id: string,
  patch: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
): Promise<void> {
  const vol = await getVolumeRow(deps.db, ctx, id);
  authorize(ctx, 'volume:update', vol.project_id);
  if (vol.status === 'maintenance') throw invalid('volume', 'The volume cannot be updated during maintenance.');
  checkMetadataCount(patch.metadata);
  await deps.db.transaction().execute(async (trx) => {
    const set: { display_name?: string | null; display_description?: string | null } = {};
    if (patch.name !== undefined) set.display_name = patch.name;
    if (patch.description !== undefined) set.display_description = patch.description;
    await updateVolumeFields(trx, id, set);
    if (patch.metadata !== undefined) await replaceMetadata(trx, 'volume_metadata', id, patch.metadata);
  });
}
