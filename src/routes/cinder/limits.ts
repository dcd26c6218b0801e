import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { allowed, authorize } from '../../domain/common/policy.js';
import { projectQuotas, quotaUsage } from '../../domain/common/quotas.js';
import { atLeast } from '../../http/microversion.js';

/** GET /limits (cinder/api/v3/limits.py): the ten absolute keys; admins may ask for project_id (>= 3.39). */
export async function limitsRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get('/limits', { schema: { summary: 'Show absolute limits and usage', tags: ['limits'] } }, async (req) => {
    const q = req.query as Record<string, unknown>;
    const asked = typeof q.project_id === 'string' && atLeast(req, '3.39') && req.ctx.isAdmin ? q.project_id : req.ctx.projectId;
    authorize(req.ctx, 'limits_extension:used_limits', asked);
    const limits = await projectQuotas(deps.db, deps.config, asked);
    const used = allowed(req.ctx, 'limits_extension:used_limits', asked) ? await quotaUsage(deps.db, asked) : null;
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: limits.volumes,
          maxTotalSnapshots: limits.snapshots,
          maxTotalVolumeGigabytes: limits.gigabytes,
          maxTotalBackups: limits.backups,
          maxTotalBackupGigabytes: limits.backup_gigabytes,
          totalVolumesUsed: used?.volumes ?? 0,
          totalGigabytesUsed: used?.gigabytes ?? 0,
          totalSnapshotsUsed: used?.snapshots ?? 0,
          totalBackupsUsed: used?.backups ?? 0,
          totalBackupGigabytesUsed: used?.backup_gigabytes ?? 0,
        },
      },
    };
  });
}
