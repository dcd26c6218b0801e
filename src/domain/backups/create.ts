import { currentStatus } from '../../db/sql-values.js';
import { randomUUID } from 'node:crypto';
import { knownContainers } from '../../db/backup-prefixes-repository.js';
import { countVolumeBackups, insertBackup, newestAvailableBackup } from '../../db/backups-repository.js';
import { containerNameProblem, containersOverlap } from '../../storage/container-names.js';
import { transitionSnapshot, findSnapshot } from '../../db/snapshots-repository.js';
import { transitionVolume, findVolume } from '../../db/volumes-repository.js';
import { enqueueJob } from '../../jobs/kinds.js';
import type { BackupRow, Db, NewBackupRow, SnapshotRow, VolumeRow } from '../../db/schema.js';
import { checkBackupName } from './names.js';
import { VOLUME_BACKUP_SOURCES } from './status.js';
import type { BackupApiDeps, BackupView } from './deps.js';
import { readScope } from '../common/scope.js';
import type { RequestContext } from '../common/context.js';
import { invalid, notFound } from '../common/errors.js';
import { checkMetadataCount } from '../common/metadata-limit.js';
import { authorize } from '../common/policy.js';
import { checkBackupQuota } from '../common/quotas.js';
import { volumeHostId } from '../volumes/host.js';

/** A validated create request (schema already applied; absent optional fields are null). */
export interface CreateBackupInput {
  volumeId: string;
  name: string | null;
  description: string | null;
  container: string | null;
  incremental: boolean;
  force: boolean;
  snapshotId: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
}

/** What other front ends (CBR) change in a create; Cinder's own create passes none. */
export interface CreateBackupOptions {
  /** CBR backups are bounded by their vault's capacity, not by Cinder's backup quota. */
  skipQuota?: boolean;
  /** `incremental` means "against the newest available backup if there is one, else full" (CBR). */
  fullWithoutParent?: boolean;
  /** Columns recorded beside the backup (CBR vault, checkpoint, policy, auto trigger). */
  columns?: Pick<NewBackupRow, 'vault_id' | 'checkpoint_id' | 'cbr_policy_id' | 'cbr_auto_trigger'>;
  /** Runs in the create transaction after the row is inserted (e.g. a capacity check); a throw rolls back. */
  inTransaction?: (trx: Db, row: BackupRow) => Promise<void>;
}

const volumeStatusMessage = (status: string) =>
  `Volume to be backed up must be available or in-use, but the current status is "${status}".`;

function checkVolume(volume: VolumeRow, force: boolean): void {
  if (!(VOLUME_BACKUP_SOURCES as readonly string[]).includes(volume.status)) throw invalid('volume', volumeStatusMessage(volume.status));
  if (volume.status === 'in-use' && !force) throw invalid('volume', 'Backing up an in-use volume must use the force flag.');
}

function checkSnapshot(snapshot: SnapshotRow, volume: VolumeRow): void {
  if (snapshot.volume_id !== volume.id) {
    throw invalid('volume', `Volume ${volume.id} does not match the volume ${snapshot.volume_id} of snapshot ${snapshot.id}.`);
  }
  if (snapshot.status !== 'available') {
    throw invalid('snapshot', `Snapshot to be backed up must be available, but the current status is "${snapshot.status}".`);
  }
}

/**
 * The container a create names must suit the configured store (400 otherwise). A posix
 * container may not lie inside another container's directory tree, nor hold one: each
 * container's listing would then show the other's backups as its own keys.
 */
async function checkContainer(deps: BackupApiDeps, name: string | null): Promise<void> {
  if (name === null) return;
  const problem = containerNameProblem(deps.config.BACKUP_STORE, name);
  if (problem) throw invalid('input received', `Container name ${JSON.stringify(name.slice(0, 100))} is not valid: ${problem}.`);
  if (deps.config.BACKUP_STORE !== 'posix') return;
  const others = new Set([deps.store.defaultContainer, ...(await knownContainers(deps.db))]);
  const clash = [...others].find((o) => o !== name && containersOverlap(o, name));
  if (clash !== undefined)
    throw invalid('input received', `Container name ${JSON.stringify(name)} is not valid: it overlaps container ${JSON.stringify(clash)}.`);
}

/**
 * POST /backups: Cinder's checks in order (cinder/backup/api.py create), then, in one transaction, the
 * quota check, parent choice, the `creating` row, the volume (or snapshot) to `backing-up`
 * and the job. Returns before any data moves.
 */
export async function createBackup(
  deps: BackupApiDeps,
  ctx: RequestContext,
  input: CreateBackupInput,
  opts: CreateBackupOptions = {},
): Promise<BackupView> {
  const { db, config } = deps;
  checkBackupName(config, input.name);
  await checkContainer(deps, input.container);
  const volume = await findVolume(db, input.volumeId, readScope(ctx));
  if (!volume) throw notFound('Volume', input.volumeId);
  authorize(ctx, 'backup:create', volume.project_id);
  checkMetadataCount(input.metadata);
  let snapshot: SnapshotRow | null = null;
  if (input.snapshotId) {
    snapshot = (await findSnapshot(db, input.snapshotId, readScope(ctx))) ?? null;
    if (!snapshot) throw notFound('Snapshot', input.snapshotId);
    checkSnapshot(snapshot, volume);
  } else {
    checkVolume(volume, input.force);
  }

  const id = randomUUID();
  const now = new Date();
  const row = await db.transaction().execute(async (trx) => {
    if (!opts.skipQuota) await checkBackupQuota(trx, config, ctx.projectId, volume.size);
    let parentId: string | null = null;
    if (input.incremental && opts.fullWithoutParent) {
      parentId = (await newestAvailableBackup(trx, volume.id, ctx.projectId, snapshot?.created_at ?? null))?.id ?? null;
    } else if (input.incremental) {
      const none = () => invalid('backup', 'No backups available to do an incremental backup.');
      if ((await countVolumeBackups(trx, volume.id, ctx.projectId)) === 0) throw none();
      const parent = await newestAvailableBackup(trx, volume.id, ctx.projectId, snapshot?.created_at ?? null);
      if (!parent) throw none();
      parentId = parent.id;
    }
    const created = await insertBackup(
      trx,
      {
        id,
        project_id: ctx.projectId,
        user_id: ctx.userId,
        volume_id: volume.id,
        availability_zone: input.availabilityZone ?? config.AVAILABILITY_ZONE,
        display_name: input.name,
        display_description: input.description,
        container: input.container,
        parent_id: parentId,
        status: 'creating',
        size: volume.size,
        snapshot_id: snapshot?.id ?? null,
        created_at: now,
        data_timestamp: snapshot?.created_at ?? now,
        host: null,
        service: null,
        service_metadata: null,
        fail_reason: null,
        temp_volume_id: null,
        temp_snapshot_id: null,
        restore_volume_id: null,
        encryption_key_id: null,
        ...opts.columns,
      },
      input.metadata,
    );
    if (opts.inTransaction) await opts.inTransaction(trx, created);
    if (snapshot) {
      const moved = await transitionSnapshot(trx, snapshot.id, ['available'], { status: 'backing-up' });
      if (!moved) throw invalid('snapshot', 'Snapshot to be backed up must be available.');
    } else {
      const sources = input.force ? VOLUME_BACKUP_SOURCES : (['available'] as const);
      // previous_status = the status this update replaces (SET sees the old row).
      const moved = await transitionVolume(trx, volume.id, sources, {
        status: 'backing-up',
        previous_status: currentStatus(),
      });
      if (!moved) throw invalid('volume', volumeStatusMessage('changed concurrently'));
    }
    await enqueueJob(trx, { kind: 'backup', resourceId: id, projectId: created.project_id, hostId: volumeHostId(volume) });
    return created;
  });
  return { row, metadata: input.metadata };
}
