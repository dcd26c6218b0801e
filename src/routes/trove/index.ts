import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { registerBodyParsers } from '../../http/body-parsers.js';
import { registerTroveAuth } from '../../http/trove/auth.js';
import { registerTroveErrors } from './errors.js';
import { backupRoutes } from './backups.js';
import { datastoreRoutes } from './datastores.js';
import { flavorRoutes } from './flavors.js';
import { instanceRoutes } from './instances.js';
import { troveVersionRoutes } from './versions.js';

/** A /v1.0/{project_id} resource module. */
export type TroveRouteModule = (app: FastifyInstance, deps: AppDeps) => Promise<void>;

/** Every /v1.0/{project_id} module, in registration order (one line per module). */
export const troveRouteModules: TroveRouteModule[] = [flavorRoutes, datastoreRoutes, instanceRoutes, backupRoutes];

/**
 * The Trove v1.0 API on the main listener: its own error envelope, empty JSON bodies
 * accepted, the version document without auth, every resource under /{project_id}
 * behind auth. `hide` keeps its routes out of the Cinder OpenAPI document (the Trove
 * document is generated separately, openapi/trove.json).
 */
export async function registerTroveApi(app: FastifyInstance, deps: AppDeps, opts: { hide: boolean }): Promise<void> {
  await app.register(
    async (trove) => {
      if (opts.hide) {
        trove.addHook('onRoute', (route) => {
          route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
        });
      }
      registerTroveErrors(trove);
      registerBodyParsers(trove, { empty: {} });
      await trove.register(troveVersionRoutes, { publicEndpoint: deps.config.PUBLIC_ENDPOINT });
      await trove.register(
        async (scoped) => {
          registerTroveAuth(scoped, deps.auth);
          for (const mod of troveRouteModules) await scoped.register(async (m) => mod(m, deps));
        },
        { prefix: '/:project_id' },
      );
    },
    { prefix: '/v1.0' },
  );
}
