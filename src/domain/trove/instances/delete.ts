import { transitionInstance } from '../../../db/trove-instances-repository.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import type { RequestContext } from '../../common/context.js';
import { unprocessable } from '../errors.js';
import { getInstance } from './read.js';
import type { TroveDeps } from './runtime.js';
import { OperatingStatus, TRANSITIONS } from './status.js';

/**
 * Deletes an instance (202): ACTIVE or ERROR -> SHUTDOWN and a job that stops the cluster
 * and removes its files. BUILD or BACKUP is 422, as Trove answers. Backups are kept.
 */
export async function deleteInstance(deps: TroveDeps, ctx: RequestContext, id: string): Promise<void> {
  const row = await getInstance(deps, ctx, id);
  const [from, to] = TRANSITIONS.delete;
  await deps.db.transaction().execute(async (trx) => {
    const moved = await transitionInstance(trx, row.id, from, { status: to, operating_status: OperatingStatus.NONE });
    if (!moved) throw unprocessable(`Instance ${row.id} is not ready. (Status is ${row.status}).`);
    await enqueueJob(trx, { kind: 'trove_instance_delete', resourceId: row.id, hostId: row.host_id });
  });
  deps.wakeJobs?.();
}
