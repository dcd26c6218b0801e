import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { backupChain } from '../../domain/backups/chain.js';
import { backupProgress } from '../../domain/backups/reads.js';
import { cinderTimestamp } from '../../http/format.js';
import { BackupIdParams } from './backups.schemas.js';

const ProgressResponse = z.object({
  progress: z.object({
    backup_id: z.string(),
    status: z.string(),
    operation: z.string().nullable(),
    percent: z.number(),
    bytes_done: z.number(),
    bytes_total: z.number(),
    rate_bytes_per_sec: z.number(),
    started_at: z.string().nullable(),
    updated_at: z.string().nullable(),
    verified_at: z.string().nullable(),
    verify_result: z.string().nullable(),
    fail_reason: z.string().nullable(),
  }),
});

const ChainResponse = z.object({
  chain: z.object({
    backup_id: z.string(),
    volume_id: z.string(),
    needed_to_restore: z.array(z.string()),
    children: z.array(z.string()),
    backups: z.array(
      z.object({
        id: z.string(),
        parent_id: z.string().nullable(),
        name: z.string().nullable(),
        status: z.string(),
        size: z.number(),
        stored_bytes: z.number(),
        created_at: z.string(),
      }),
    ),
  }),
});

/**
 * Extensions (not Cinder): GET /backups/{id}/progress, the running (or last) backup, restore
 * or verify of a backup in bytes; GET /backups/{id}/chain, its incremental chain (parent links and
 * stored bytes). Kept off Cinder's backup object, which tempest checks strictly.
 */
export async function backupProgressRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/backups/:id/progress',
    {
      schema: {
        summary: 'Backup progress (extension): status, operation, percent, bytes done/total, rate; verify result',
        tags: ['extensions'],
        params: BackupIdParams,
        response: { 200: ProgressResponse },
      },
    },
    async (req) => {
      const p = await backupProgress(deps, req.ctx, req.params.id);
      return {
        progress: {
          backup_id: p.backupId,
          status: p.status,
          operation: p.operation,
          percent: p.percent,
          bytes_done: p.bytesDone,
          bytes_total: p.bytesTotal,
          rate_bytes_per_sec: p.rateBytesPerSec,
          started_at: cinderTimestamp(p.startedAt),
          updated_at: cinderTimestamp(p.updatedAt),
          verified_at: cinderTimestamp(p.verifiedAt),
          verify_result: p.verifyResult,
          fail_reason: p.failReason,
        },
      };
    },
  );
  app.withTypeProvider<ZodTypeProvider>().get(
    '/backups/:id/chain',
    {
      schema: {
        summary: "Backup chain (extension): the volume's backups with parent links, the ones a restore needs, the children",
        tags: ['extensions'],
        params: BackupIdParams,
        response: { 200: ChainResponse },
      },
    },
    async (req) => {
      const c = await backupChain(deps, req.ctx, req.params.id);
      return {
        chain: {
          backup_id: c.backupId,
          volume_id: c.volumeId,
          needed_to_restore: c.neededToRestore,
          children: c.children,
          backups: c.members.map((m) => ({
            id: m.id,
            parent_id: m.parent_id,
            name: m.display_name,
            status: m.status,
            size: m.size,
            stored_bytes: m.stored_bytes,
            created_at: cinderTimestamp(m.created_at),
          })),
        },
      };
    },
  );
}
