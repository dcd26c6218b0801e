import type { TroveInstanceRow } from '../../../db/schema.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError } from '../../common/errors.js';
import { findDatastoreVersion } from '../catalog.js';
import { type CreateInstanceInput, createInstance } from '../instances/create.js';
import type { TroveDeps } from '../instances/runtime.js';
import { TroveBackupStatus, toGb } from './deps.js';
import { getTroveBackup } from './read.js';

/**
 * POST /instances with restorePoint.backupRef (section 5.3): the backup (404), COMPLETED (409),
 * the same datastore (400), no larger than volume.size (403); then a BUILD instance whose job
 * (trove_instance_restore) lays the backup's files into it and recovers. Databases and users
 * come from the backup, not from the request.
 */
export async function createInstanceFromBackup(
  deps: TroveDeps,
  ctx: RequestContext,
  input: CreateInstanceInput,
  backupRef: string,
): Promise<TroveInstanceRow> {
  const b = await getTroveBackup(deps, ctx, backupRef);
  if (b.status !== TroveBackupStatus.COMPLETED)
    throw new DomainError('conflict', `Backup ${b.id} is not completed (its status is ${b.status}).`);
  const wanted = input.datastore?.version !== undefined ? findDatastoreVersion(input.datastore.version).id : b.datastore_version_id;
  if ((input.datastore?.type !== undefined && input.datastore.type !== b.datastore_type) || wanted !== b.datastore_version_id) {
    throw new DomainError(
      'invalid',
      `The datastore from which the backup was taken, ${b.datastore_type} ${b.datastore_version}, does not match the destination datastore.`,
    );
  }
  const size = toGb(b.size_bytes ?? 0);
  if (input.volumeSize !== undefined && size > input.volumeSize) {
    throw new DomainError(
      'forbidden',
      `Backup is too large for given flavor or volume. Backup size: ${size} GBs. Available size: ${input.volumeSize} GBs.`,
    );
  }
  return createInstance(
    deps,
    ctx,
    { ...input, databases: [], users: [] },
    {
      kind: 'trove_instance_restore',
      payload: { backupId: b.id },
      restoreBackupId: b.id,
    },
  );
}
