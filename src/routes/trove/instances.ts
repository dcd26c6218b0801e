import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import type { TroveInstanceRow } from '../../db/schema.js';
import { createInstanceFromBackup } from '../../domain/trove/backups/restore.js';
import { createInstance } from '../../domain/trove/instances/create.js';
import { deleteInstance } from '../../domain/trove/instances/delete.js';
import { getInstance, listProjectInstances, liveOperatingStatus } from '../../domain/trove/instances/read.js';
import { linkContext } from '../../http/links.js';
import { CreateInstanceBody, type CreateInstanceBodyType, InstanceParams, ListInstancesQuery } from './instances.schemas.js';
import { instanceView } from './instances.views.js';

const tags = ['instances'];
const PAGE_SIZE = 20; // Trove's instances_page_size

/** The request body as the domain's create input. */
export function createInput(body: CreateInstanceBodyType['instance']) {
  return {
    name: body.name,
    flavorRef: body.flavorRef === undefined ? '' : String(body.flavorRef),
    volumeSize: body.volume === undefined ? undefined : Number(body.volume.size),
    datastore: body.datastore,
    databases: (body.databases ?? []).map((d) => d.name),
    users: (body.users ?? []).map((u) => ({ name: u.name, password: u.password, databases: (u.databases ?? []).map((d) => d.name) })),
    replicaOf: body.replica_of,
  };
}

/** Instances (section 2): create 200, list, show, delete 202, and the instance's backups. */
export async function instanceRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const view = (req: FastifyRequest, row: TroveInstanceRow, detail: boolean) =>
    instanceView(row, {
      lc: linkContext(req, deps.config.PUBLIC_ENDPOINT),
      host: deps.config.TROVE_INSTANCE_HOST,
      operatingStatus: liveOperatingStatus(deps, row),
      detail,
    });

  r.post(
    '/instances',
    { schema: { summary: 'Create an instance (a PostgreSQL 15 cluster; 200)', tags, body: CreateInstanceBody } },
    async (req) => {
      const restore = req.body.instance.restorePoint;
      const row = restore
        ? await createInstanceFromBackup(deps, req.ctx, createInput(req.body.instance), restore.backupRef)
        : await createInstance(deps, req.ctx, createInput(req.body.instance));
      return { instance: view(req, row, true) };
    },
  );

  r.get(
    '/instances',
    { schema: { summary: 'List instances (include_clustered accepted)', tags, querystring: ListInstancesQuery } },
    async (req) => {
      const limit = req.query.limit === undefined ? PAGE_SIZE : Math.max(1, Number(req.query.limit));
      const rows = await listProjectInstances(deps, req.ctx, { limit, marker: req.query.marker });
      const body: Record<string, unknown> = { instances: rows.map((row) => view(req, row, false)) };
      if (rows.length === limit) {
        const lc = linkContext(req, deps.config.PUBLIC_ENDPOINT);
        body.links = [{ rel: 'next', href: `${lc.baseUrl}/v1.0/${req.ctx.projectId}/instances?limit=${limit}&marker=${rows.at(-1)!.id}` }];
      }
      return body;
    },
  );

  r.get(
    '/instances/:id',
    { schema: { summary: 'Show an instance (404 for an unknown id or a name)', tags, params: InstanceParams } },
    async (req) => ({
      instance: view(req, await getInstance(deps, req.ctx, req.params.id), true),
    }),
  );

  r.delete(
    '/instances/:id',
    { schema: { summary: 'Delete an instance: stops its cluster and removes its files (202)', tags, params: InstanceParams } },
    async (req, reply) => {
      await deleteInstance(deps, req.ctx, req.params.id);
      return reply.code(202).send();
    },
  );
}
