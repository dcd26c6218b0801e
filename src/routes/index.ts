import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';

/** A /v3 resource module: registered twice, with and without /{project_id}. */
export type ApiRouteModule = (app: FastifyInstance, deps: AppDeps) => Promise<void>;

/** Every /v3 resource module, in registration order (one line per module). */
export const apiRouteModules: ApiRouteModule[] = [];
