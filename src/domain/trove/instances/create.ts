import { randomUUID } from 'node:crypto';
import { lockProjectQuota } from '../../../db/quotas-repository.js';
import type { TroveInstanceRow } from '../../../db/schema.js';
import { countInstances, insertInstance } from '../../../db/trove-instances-repository.js';
import { enqueueJob } from '../../../jobs/kinds.js';
import type { RequestContext } from '../../common/context.js';
import { DomainError, overLimit } from '../../common/errors.js';
import { DATASTORE_VERSION, findDatastore, findDatastoreVersion, flavorForCreate } from '../catalog.js';
import { notImplemented } from '../errors.js';
import { pickPort } from './ports.js';
import { type TroveDeps, troveHostId } from './runtime.js';
import { InstanceStatus } from './status.js';

export interface NewUser {
  name: string;
  password: string;
  databases: string[];
}

export interface CreateInstanceInput {
  name: string;
  flavorRef: string;
  volumeSize?: number;
  datastore?: { type?: string; version?: string };
  databases: string[];
  users: NewUser[];
  replicaOf?: string;
}

/** The job that builds the instance; a restore passes its own (trove-backups). */
export interface BuildJob {
  kind: 'trove_instance_create' | 'trove_instance_restore';
  payload: Record<string, unknown>;
  restoreBackupId?: string;
}

const RESERVED_DATABASES = new Set(['postgres', 'template0', 'template1']);
const RESERVED_USERS = new Set(['postgres']);

/** Trove's checks before anything is stored (section 2.1), in its order. */
function validate(deps: TroveDeps, input: CreateInstanceInput): void {
  if (input.replicaOf !== undefined) throw notImplemented('Replication is not supported for the postgresql datastore.');
  if (input.datastore?.type !== undefined) findDatastore(input.datastore.type);
  if (input.datastore?.version !== undefined) findDatastoreVersion(input.datastore.version);
  flavorForCreate(deps.config, input.flavorRef);
  if (input.volumeSize === undefined) throw new DomainError('invalid', 'Volume size was not specified.');
  if (input.volumeSize > deps.config.TROVE_MAX_VOLUME_SIZE) {
    throw overLimit(
      `Volume quota exceeded. Requested ${input.volumeSize}GB, but the maximum volume size is ${deps.config.TROVE_MAX_VOLUME_SIZE}GB.`,
    );
  }
  const dbs = new Set<string>();
  for (const name of input.databases) {
    if (RESERVED_DATABASES.has(name)) throw new DomainError('invalid', `Database name '${name}' is reserved.`);
    if (dbs.has(name)) throw new DomainError('invalid', `Database '${name}' is given more than once.`);
    dbs.add(name);
  }
  const users = new Set<string>();
  for (const u of input.users) {
    if (RESERVED_USERS.has(u.name)) throw new DomainError('invalid', `User name '${u.name}' is reserved.`);
    if (users.has(u.name)) throw new DomainError('invalid', `User '${u.name}' is given more than once.`);
    users.add(u.name);
    for (const d of u.databases) if (RESERVED_DATABASES.has(d)) throw new DomainError('invalid', `Database name '${d}' is reserved.`);
  }
}

/**
 * Creates an instance: checks (400/404/413/501), the instances quota, a port on this
 * host, and the row in BUILD with the job that builds it, in one transaction. The
 * cluster itself is made by the job (initdb + start + databases and users), not here.
 */
export async function createInstance(
  deps: TroveDeps,
  ctx: RequestContext,
  input: CreateInstanceInput,
  job?: BuildJob,
): Promise<TroveInstanceRow> {
  validate(deps, input);
  // Databases named only in a user's grants are created too.
  const databases = [...new Set([...input.databases, ...input.users.flatMap((u) => u.databases)])];
  const hostId = troveHostId(deps.config);
  const tried = new Set<number>();
  for (let attempt = 0; ; attempt++) {
    const port = await pickPort(deps.db, deps.config, hostId, tried);
    try {
      const row = await deps.db.transaction().execute(async (trx) => {
        await lockProjectQuota(trx, ctx.projectId);
        const limit = deps.config.TROVE_QUOTA_INSTANCES;
        if (limit >= 0 && (await countInstances(trx, ctx.projectId)) + 1 > limit)
          throw overLimit("Quota exceeded for resources: ['instances'].");
        const inserted = await insertInstance(trx, {
          id: randomUUID(),
          project_id: ctx.projectId,
          user_id: ctx.userId,
          name: input.name,
          status: InstanceStatus.BUILD,
          flavor_id: input.flavorRef,
          volume_size: input.volumeSize!,
          datastore_version_id: DATASTORE_VERSION.id,
          host_id: hostId,
          port,
          restore_backup_id: job?.restoreBackupId ?? null,
        });
        await enqueueJob(trx, {
          kind: job?.kind ?? 'trove_instance_create',
          resourceId: inserted.id,
          payload: job?.payload ?? { databases, users: input.users },
          hostId,
        });
        return inserted;
      });
      deps.wakeJobs?.();
      return row;
    } catch (err) {
      // Another create took the same port between our pick and insert: pick again.
      if ((err as { code?: string }).code !== '23505' || attempt >= 5) throw err;
      tried.add(port);
    }
  }
}
