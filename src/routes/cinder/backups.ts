import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import { updateBackup, deleteBackup } from '../../domain/backups/actions.js';
import { createBackup } from '../../domain/backups/create.js';
import { backupListBody } from '../../domain/backups/list-cached.js';
import { listBackupJsonFor, listBackupSummariesFor, listBackupViewsFor, showBackup } from '../../domain/backups/reads.js';
import type { BackupApiDeps } from '../../domain/backups/deps.js';
import { allowed } from '../../domain/common/policy.js';
import { linkContext, resourceLinkPrefixes } from '../../http/links.js';
import { atLeast, requireVersion } from '../../http/microversion.js';
import { parseOrThrow } from '../../http/validation.js';
import {
  BackupIdParams,
  CreateBackupV30,
  CreateBackupV343,
  CreateBackupV351,
  UpdateBackupV343,
  UpdateBackupV39,
} from './backups.schemas.js';
import { backupDetail, backupLinks, backupList, backupSummary, type DetailOptions, detailOptions } from './backups.views.js';
import { backupListRendering, type ListPath } from './backups-list.js';
import { JSON_TYPE, jsonListBody } from './list-json.js';

const tags = ['backups'];

/** Backups: list, detail list, show, create, update (3.9), delete. */
export async function backupsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const api: BackupApiDeps = { db: deps.db, config: deps.config, store: deps.store };
  const listDeps = { ...api, listCache: deps.listCache };
  const lc = (req: FastifyRequest) => linkContext(req, deps.config.PUBLIC_ENDPOINT);
  const detailOpts = (req: FastifyRequest) => detailOptions((v) => atLeast(req, v), allowed(req.ctx, 'backup:backup_project_attribute'));
  const query = (req: FastifyRequest) => req.query as Record<string, unknown>;

  // NOTE: LIST_RENDERING=postgres has Postgres render list items (db/backup-views-json.ts): less
  // CPU here, more in Postgres. Both answer the same bytes (test/integration/backup-list-json.test.ts).
  const sqlRendered = deps.config.LIST_RENDERING === 'postgres';
  const jsonPage = async (req: FastifyRequest, reply: FastifyReply, path: 'backups' | 'backups/detail', detail: DetailOptions | null) => {
    const l = lc(req);
    const { self, bookmark } = resourceLinkPrefixes(l, 'backups');
    const view = { detail, selfPrefix: self, bookmarkPrefix: bookmark };
    const page = await listBackupJsonFor(api, req.ctx, query(req), (v) => atLeast(req, v), view);
    return reply.type(JSON_TYPE).send(jsonListBody('backups', page.items, page, { lc: l, path, query: query(req) }));
  };

  // NOTE: LIST_CACHE_BYTES > 0: pages are served from the page cache while the project's list
  // version is unchanged (domain/common/list-cache.ts), the same bytes as without it.
  const cached = deps.listCache?.enabled === true;
  const cachedPage = async (req: FastifyRequest, reply: FastifyReply, path: ListPath, detail: DetailOptions | null) => {
    const rendering = backupListRendering(req, deps.config.LIST_RENDERING, lc(req), path, detail);
    const body = await backupListBody(listDeps, req.ctx, query(req), (v) => atLeast(req, v), rendering);
    return reply.type(JSON_TYPE).send(body);
  };

  r.get('/backups', { schema: { summary: 'List backups', tags } }, async (req, reply) => {
    if (cached) return cachedPage(req, reply, 'backups', null);
    if (sqlRendered) return jsonPage(req, reply, 'backups', null);
    const page = await listBackupSummariesFor(api, req.ctx, query(req), (v) => atLeast(req, v));
    return backupList(lc(req), page, 'backups', query(req), backupSummary);
  });

  r.get('/backups/detail', { schema: { summary: 'List backups with details', tags } }, async (req, reply) => {
    const opts = detailOpts(req);
    if (cached) return cachedPage(req, reply, 'backups/detail', opts);
    if (sqlRendered) return jsonPage(req, reply, 'backups/detail', opts);
    const page = await listBackupViewsFor(api, req.ctx, query(req), (v) => atLeast(req, v), opts);
    return backupList(lc(req), page, 'backups/detail', query(req), (links, row) => backupDetail(links, row, opts));
  });

  r.get('/backups/:id', { schema: { summary: 'Show a backup', tags, params: BackupIdParams } }, async (req) => {
    const opts = detailOpts(req);
    const row = await showBackup(api, req.ctx, req.params.id, opts);
    return { backup: backupDetail(backupLinks(lc(req)), row, opts) };
  });

  r.post('/backups', { schema: { summary: 'Create a backup (202)', tags, body: CreateBackupV351 } }, async (req, reply) => {
    const schema = atLeast(req, '3.51') ? CreateBackupV351 : atLeast(req, '3.43') ? CreateBackupV343 : CreateBackupV30;
    const b = parseOrThrow(schema, req.body).backup as typeof req.body.backup;
    const view = await createBackup(api, req.ctx, {
      volumeId: b.volume_id,
      name: b.name ?? null,
      description: b.description ?? null,
      container: b.container ?? null,
      incremental: b.incremental ?? false,
      force: b.force ?? false,
      snapshotId: b.snapshot_id ?? null,
      metadata: b.metadata ?? {},
      availabilityZone: b.availability_zone ?? null,
    });
    deps.wakeJobs?.();
    return reply.code(202).send({ backup: backupSummary(backupLinks(lc(req)), view.row) });
  });

  r.put(
    '/backups/:id',
    { schema: { summary: 'Update a backup (3.9)', tags, params: BackupIdParams, body: UpdateBackupV343 } },
    async (req) => {
      requireVersion(req, '3.9');
      const b = parseOrThrow(atLeast(req, '3.43') ? UpdateBackupV343 : UpdateBackupV39, req.body).backup as typeof req.body.backup;
      const view = await updateBackup(api, req.ctx, req.params.id, b);
      return { backup: backupSummary(backupLinks(lc(req)), view.row) };
    },
  );

  r.delete('/backups/:id', { schema: { summary: 'Delete a backup (202)', tags, params: BackupIdParams } }, async (req, reply) => {
    await deleteBackup(api, req.ctx, req.params.id);
    deps.wakeJobs?.();
    return reply.code(202).send();
  });
}
