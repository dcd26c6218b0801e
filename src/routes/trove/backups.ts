import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { createTroveBackup } from '../../domain/trove/backups/create.js';
import { deleteTroveBackup } from '../../domain/trove/backups/delete.js';
import { troveBackupListBody, troveInstanceBackupListBody } from '../../domain/trove/backups/list-cached.js';
import { getTroveBackup } from '../../domain/trove/backups/read.js';
import { linkContext } from '../../http/links.js';
import { JSON_TYPE } from '../cinder/list-json.js';
import { troveBackupListRendering, troveBackupView } from './backups.views.js';
import { nonEmptyString, uuidString } from './instances.schemas.js';

const tags = ['backups'];
const PAGE_SIZE = 20; // Trove's backups_page_size

const CreateBackupBody = z.object({
  backup: z.object({
    name: nonEmptyString,
    instance: uuidString.optional(),
    description: nonEmptyString.optional(),
    parent_id: uuidString.optional(),
    incremental: z.number().int().min(0).max(1).optional(),
  }),
});
const Params = z.object({ project_id: z.string(), id: z.string() });
const ListQuery = z.object({
  instance_id: z.string().optional(),
  datastore: z.string().optional(),
  project_id: z.string().optional(),
  all_projects: z.string().optional(),
  limit: z
    .string()
    .regex(/^[0-9]+$/)
    .optional(),
  marker: z
    .string()
    .regex(/^[0-9]+$/)
    .optional(),
});

const truthy = (v: string | undefined) => v !== undefined && /^(1|t|true|on|y|yes)$/i.test(v);

/** Database backups (section 1): list, show, create 202, delete 202, and an instance's backups. */
export async function backupRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  // Lists go through the page cache (domain/common/list-cache.ts), the same bytes as Fastify's
  // JSON.stringify of the same body (test/integration/trove-list-cache.test.ts).
  const lc = (req: FastifyRequest) => linkContext(req, deps.config.PUBLIC_ENDPOINT);
  const pageOf = (q: { limit?: string; marker?: string }) => ({
    limit: q.limit === undefined ? PAGE_SIZE : Math.max(1, Number(q.limit)),
    offset: q.marker === undefined ? 0 : Number(q.marker),
  });

  r.get(
    '/backups',
    { schema: { summary: 'List database backups (newest first; marker is an offset)', tags, querystring: ListQuery } },
    async (req, reply) => {
      const q = req.query;
      const list = { instanceId: q.instance_id, datastore: q.datastore, projectId: q.project_id, allProjects: truthy(q.all_projects) };
      const rendering = troveBackupListRendering(req, lc(req), 'backups', { ...q });
      const body = await troveBackupListBody(deps, req.ctx, { ...list, ...pageOf(q) }, rendering);
      return reply.type(JSON_TYPE).send(body);
    },
  );

  r.get(
    '/backups/:id',
    { schema: { summary: 'Show a database backup (404 for an unknown id or a name)', tags, params: Params } },
    async (req) => ({
      backup: troveBackupView(await getTroveBackup(deps, req.ctx, req.params.id)),
    }),
  );

  r.post(
    '/backups',
    { schema: { summary: 'Create a database backup, full or incremental (202)', tags, body: CreateBackupBody } },
    async (req, reply) => {
      const b = req.body.backup;
      const row = await createTroveBackup(deps, req.ctx, {
        name: b.name,
        instance: b.instance,
        description: b.description,
        parentId: b.parent_id,
        incremental: b.incremental,
      });
      return reply.code(202).send({ backup: troveBackupView(row) });
    },
  );

  r.delete(
    '/backups/:id',
    { schema: { summary: 'Delete a database backup and its incremental children (202)', tags, params: Params } },
    async (req, reply) => {
      await deleteTroveBackup(deps, req.ctx, req.params.id);
      return reply.code(202).send();
    },
  );

  r.get(
    '/instances/:id/backups',
    { schema: { summary: "List an instance's database backups", tags, params: Params, querystring: ListQuery } },
    async (req, reply) => {
      const rendering = (id: string) => troveBackupListRendering(req, lc(req), `instances/${id}/backups`, {});
      const body = await troveInstanceBackupListBody(deps, req.ctx, req.params.id, pageOf(req.query), rendering);
      return reply.type(JSON_TYPE).send(body);
    },
  );
}
