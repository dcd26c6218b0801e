import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import type { TroveBackupRow } from '../../db/schema.js';
import { createTroveBackup } from '../../domain/trove/backups/create.js';
import { deleteTroveBackup } from '../../domain/trove/backups/delete.js';
import { toGb } from '../../domain/trove/backups/deps.js';
import { getTroveBackup, listTroveBackupsFor } from '../../domain/trove/backups/read.js';
import { getInstance } from '../../domain/trove/instances/read.js';
import { linkContext } from '../../http/links.js';
import { troveTimestamp } from '../../http/trove/format.js';
import { nonEmptyString, uuidString } from './instances.schemas.js';

const tags = ['backups'];
const PAGE_SIZE = 20; // Trove's backups_page_size

/** Section 1.3, keys in Trove's order. */
export function troveBackupView(row: TroveBackupRow): Record<string, unknown> {
  const done = row.status === 'COMPLETED';
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    locationRef: done ? `${row.container}/${row.prefix}_manifest` : null,
    instance_id: row.instance_id,
    created: troveTimestamp(row.created_at),
    updated: troveTimestamp(row.updated_at),
    size: row.size_bytes === null ? null : toGb(row.size_bytes),
    status: row.status,
    parent_id: row.parent_id,
    project_id: row.project_id,
    datastore: { type: row.datastore_type, version: row.datastore_version, version_id: row.datastore_version_id },
  };
}

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
  const page = (
    req: FastifyRequest,
    rows: TroveBackupRow[],
    limit: number,
    offset: number,
    path: string,
    query: Record<string, string | undefined>,
  ) => {
    const body: Record<string, unknown> = { backups: rows.map(troveBackupView) };
    if (rows.length === limit) {
      const lc = linkContext(req, deps.config.PUBLIC_ENDPOINT);
      const qs = new URLSearchParams(
        Object.entries({ ...query, limit: String(limit), marker: String(offset + limit) }).filter(
          (e): e is [string, string] => e[1] !== undefined,
        ),
      );
      body.links = [{ rel: 'next', href: `${lc.baseUrl}/v1.0/${req.ctx.projectId}/${path}?${qs.toString()}` }];
    }
    return body;
  };

  r.get(
    '/backups',
    { schema: { summary: 'List database backups (newest first; marker is an offset)', tags, querystring: ListQuery } },
    async (req) => {
      const q = req.query;
      const limit = q.limit === undefined ? PAGE_SIZE : Math.max(1, Number(q.limit));
      const offset = q.marker === undefined ? 0 : Number(q.marker);
      const rows = await listTroveBackupsFor(deps, req.ctx, {
        instanceId: q.instance_id,
        datastore: q.datastore,
        projectId: q.project_id,
        allProjects: truthy(q.all_projects),
        limit,
        offset,
      });
      return page(req, rows, limit, offset, 'backups', { ...q });
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
    async (req) => {
      const instance = await getInstance(deps, req.ctx, req.params.id);
      const limit = req.query.limit === undefined ? PAGE_SIZE : Math.max(1, Number(req.query.limit));
      const offset = req.query.marker === undefined ? 0 : Number(req.query.marker);
      const rows = await listTroveBackupsFor(
        deps,
        { ...req.ctx, isAdmin: true },
        {
          instanceId: instance.id,
          allProjects: req.ctx.isAdmin,
          projectId: req.ctx.isAdmin ? undefined : req.ctx.projectId,
          limit,
          offset,
        },
      );
      return page(req, rows, limit, offset, `instances/${instance.id}/backups`, {});
    },
  );
}
