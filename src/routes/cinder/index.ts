import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { backupProgressRoutes } from './backups-progress.js';
import { backupActionRoutes } from './backups-actions.js';
import { backupsRoutes } from './backups.js';
import { limitsRoutes } from './limits.js';
import { quotaClassSetsRoutes } from './quota-class-sets.js';
import { quotaSetsRoutes } from './quota-sets.js';
import { restoreRoutes } from './backups-restore.js';
import { snapshotsRoutes } from './snapshots.js';
import { volumeDataRoutes } from './volumes-data.js';
import { volumeActionRoutes } from './volumes-actions.js';
import { metadataRoutes } from './volumes-metadata.js';
import { volumesRoutes } from './volumes.js';

/** A /v3 resource module: registered twice, with and without /{project_id}. */
export type ApiRouteModule = (app: FastifyInstance, deps: AppDeps) => Promise<void>;

/** Every /v3 resource module, in registration order (one line per module). */
export const apiRouteModules: ApiRouteModule[] = [
  backupsRoutes,
  backupActionRoutes,
  restoreRoutes,
  backupProgressRoutes,
  limitsRoutes,
  quotaSetsRoutes,
  quotaClassSetsRoutes,
  volumesRoutes,
  volumeActionRoutes,
  metadataRoutes('volume'),
  volumeDataRoutes,
  snapshotsRoutes,
  metadataRoutes('snapshot'),
];
