import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import { restoreBackup } from '../../domain/backups/restore.js';
import { BackupIdParams, RestoreBackupV30 } from './backups.schemas.js';

/** POST /backups/{id}/restore (202): into volume_id, or into a new volume. */
export async function restoreRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/backups/:id/restore',
    { schema: { summary: 'Restore a backup (202)', tags: ['backups'], params: BackupIdParams, body: RestoreBackupV30 } },
    async (req, reply) => {
      const body = req.body.restore ?? {};
      const res = await restoreBackup({ db: deps.db, config: deps.config, store: deps.store }, req.ctx, req.params.id, {
        volumeId: body.volume_id ?? null,
        name: body.name ?? null,
      });
      deps.wakeJobs?.();
      return reply.code(202).send({ restore: { backup_id: res.backupId, volume_id: res.volumeId, volume_name: res.volumeName } });
    },
  );
}
