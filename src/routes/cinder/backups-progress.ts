import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { backupChain } from '../../domain/backups/chain.js';
import { backupProgress } from '../../domain/backups/progress.js';
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
    phase: z
      .enum(['queued', 'starting', 'reading', 'uploading', 'restoring', 'verifying', 'finishing', 'done', 'failed', 'stalled', 'waiting'])
      .nullable()
      .describe(
        'What the operation is doing; stalled: its worker stopped renewing the lease (another takes it over); waiting: its host has no live worker (see waiting_reason); null: nothing ran yet',
      ),
    attempt: z.number().int().nullable().describe('The attempt of the job run these figures belong to (1 = first)'),
    bytes_read: z.number().describe('Bytes read from the source: the volume (backup) or stored objects as fetched (restore, verify)'),
    bytes_stored: z
      .number()
      .describe('Bytes written to the destination: objects in the store, compressed (backup), or the volume (restore)'),
    current_rate_bytes_per_sec: z.number().describe('Rate over the last seconds while the operation runs, else 0'),
    current_mib_per_sec: z.number().describe('The same in MiB/s, one decimal'),
    eta_seconds: z.number().int().nullable().describe('Estimated seconds left at the current rate while the operation runs, else null'),
    waiting_reason: z
      .string()
      .nullable()
      .describe(
        'With phase waiting: why, e.g. "waiting for host C: its last worker was seen at ..." (the job runs when that host is back)',
      ),
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

const MiB = 1024 * 1024;

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
        summary:
          'Backup progress (extension): status, operation, phase, percent, bytes done/total/read/stored, average and current rate, time left; verify result',
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
          phase: p.phase,
          attempt: p.attempt,
          bytes_read: p.bytesRead,
          bytes_stored: p.bytesStored,
          current_rate_bytes_per_sec: p.currentRateBytesPerSec,
          current_mib_per_sec: Math.round((p.currentRateBytesPerSec / MiB) * 10) / 10,
          eta_seconds: p.etaSeconds,
          waiting_reason: p.waitingReason,
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
