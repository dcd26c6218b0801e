import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { deleteCbrBackup, renameCbrBackup, restoreCbrBackup } from '../../domain/cbr/backups/backup-actions.js';
import { listCbrBackupsOf, showCbrBackup } from '../../domain/cbr/backups/list-backups.js';
import { BackupBody, BackupList, ListBackupsQuery, RestoreAccepted, RestoreBody, UpdateBackupBody } from './backups.schemas.js';
import { ProjectParams, errorResponses } from './common.schemas.js';

const tags = ['backups'];
const OneBackup = ProjectParams.extend({ backup_id: z.string() });

/** B1-B5: the backups checkpoints made (each also a Cinder backup of its volume). */
export async function backupRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/backups',
    {
      schema: {
        tags,
        summary: 'List backups (filters, sort, offset/limit or marker)',
        params: ProjectParams,
        querystring: ListBackupsQuery,
        response: { 200: BackupList, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const limit = q.limit ?? 1000;
      const offset = q.offset ?? 0;
      const { backups, count } = await listCbrBackupsOf(deps.db, req.ctx, {
        checkpointId: q.checkpoint_id,
        vaultId: q.vault_id,
        resourceId: q.resource_id,
        resourceName: q.resource_name,
        resourceType: q.resource_type,
        resourceAz: q.resource_az,
        status: q.status,
        name: q.name,
        imageType: q.image_type,
        parentId: q.parent_id,
        incremental: q.incremental,
        ownType: q.own_type,
        startTime: q.start_time,
        endTime: q.end_time,
        sort: q.sort,
        marker: q.marker,
        limit,
        offset,
      });
      return { backups, count, limit, offset };
    },
  );

  r.get(
    '/backups/:backup_id',
    { schema: { tags, summary: 'Show a backup', params: OneBackup, response: { 200: BackupBody, ...errorResponses } } },
    async (req) => ({ backup: await showCbrBackup(deps.db, req.ctx, req.params.backup_id) }),
  );

  r.put(
    '/backups/:backup_id',
    {
      schema: {
        tags,
        summary: 'Rename a backup',
        params: OneBackup,
        body: UpdateBackupBody,
        response: { 200: BackupBody, ...errorResponses },
      },
    },
    async (req) => ({ backup: await renameCbrBackup(deps.db, req.ctx, req.params.backup_id, req.body.backup.name) }),
  );

  r.delete(
    '/backups/:backup_id',
    {
      schema: {
        tags,
        summary: 'Delete a backup (poll until 404)',
        params: OneBackup,
        response: { 204: z.null().describe('Deleting: poll until 404'), ...errorResponses },
      },
    },
    async (req, reply) => {
      await deleteCbrBackup(deps, req.ctx, req.params.backup_id);
      deps.wakeJobs?.();
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/backups/:backup_id/restore',
    {
      schema: {
        tags,
        summary: 'Restore a backup into an existing volume (poll /operation-logs/{job_id})',
        params: OneBackup,
        body: RestoreBody,
        response: { 202: RestoreAccepted, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { volume_id, resource_id } = req.body.restore;
      const { jobId } = await restoreCbrBackup(deps, req.ctx, req.params.backup_id, {
        ...(volume_id !== undefined ? { volumeId: volume_id } : {}),
        ...(resource_id !== undefined ? { resourceId: resource_id } : {}),
      });
      deps.wakeJobs?.();
      return reply.code(202).send({ job_id: jobId });
    },
  );
}
