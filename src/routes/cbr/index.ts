import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { registerCbrAuth } from '../../http/cbr/auth.js';
import { registerCbrErrors } from '../../http/cbr/errors.js';
import { registerBodyParsers } from '../../http/body-parsers.js';
import { registerInputGuards } from '../../http/input-guards.js';
import { backupRoutes } from './backups.js';
import { checkpointRoutes } from './checkpoints.js';
import { operationLogRoutes } from './operation-logs.js';
import { policyRoutes } from './policies.js';
import { protectableRoutes } from './protectables.js';
import { vaultRoutes } from './vaults.js';

/** A /v3/{project_id} module of the CBR listener. */
export type CbrRouteModule = (app: FastifyInstance, deps: AppDeps) => Promise<void>;

/** Every /v3/{project_id} module of the CBR listener, in registration order (one line per module). */
export const cbrRouteModules: CbrRouteModule[] = [
  vaultRoutes,
  protectableRoutes,
  checkpointRoutes,
  backupRoutes,
  policyRoutes,
  operationLogRoutes,
];

export interface CbrApiOptions {
  /** Epoch ms for the X-Sdk-Date check; tests move it. */
  now?: () => number;
}

/**
 * The CBR v3 API at the root of its own listener: CBR's error bodies and X-Request-Id, empty
 * JSON bodies accepted (the SDKs send Content-Type on GET and DELETE), every resource under
 * /v3/{project_id} behind AK/SK signing or X-Auth-Token.
 */
export async function registerCbrApi(app: FastifyInstance, deps: AppDeps, options: CbrApiOptions = {}): Promise<void> {
  registerCbrErrors(app);
  registerBodyParsers(app, { empty: {} });
  registerInputGuards(app);
  await app.register(
    async (scoped) => {
      registerCbrAuth(scoped, {
        strategy: deps.auth,
        keys: deps.config.CBR_ACCESS_KEYS,
        bodyLimit: deps.config.MAX_REQUEST_BODY_BYTES,
        ...(options.now ? { now: options.now } : {}),
      });
      for (const mod of cbrRouteModules) await scoped.register(async (m) => mod(m, deps));
    },
    { prefix: '/v3/:project_id' },
  );
}
