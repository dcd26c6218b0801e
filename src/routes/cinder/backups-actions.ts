import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { forceDeleteBackup, resetBackupStatus, verifyBackup } from '../../domain/backups/actions.js';
import { exportRecord, importRecord } from '../../domain/backups/records.js';
import type { BackupApiDeps } from '../../domain/backups/deps.js';
import { HttpFault } from '../../http/faults.js';
import { linkContext } from '../../http/links.js';
import { parseOrThrow } from '../../http/validation.js';
import { BackupActionBody, BackupIdParams, ImportRecordV30, ResetStatusBody } from './backups.schemas.js';
import { backupLinks, backupSummary } from './backups.views.js';

const tags = ['backups'];
const ACTIONS = ['os-reset_status', 'os-force_delete', 'os-verify'];
const ActionEnvelope = z.record(z.string(), z.unknown());
const VerifyArgument = z.record(z.string(), z.unknown()).nullable();

/** Checks the one-key action envelope with Cinder's messages before the per-action schema. */
function actionName(body: unknown): string {
  // No body at all (an empty one included) is named like the volume and snapshot actions do.
  if (body === undefined) parseOrThrow(ActionEnvelope, body);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpFault(400, 'badRequest', 'Malformed request body');
  const keys = Object.keys(body);
  if (keys.length !== 1) throw new HttpFault(400, 'badRequest', 'Malformed request body');
  if (!ACTIONS.includes(keys[0]!)) throw new HttpFault(400, 'badRequest', `There is no such action: ${keys[0]}`);
  return keys[0]!;
}

/** Backup actions (admin reset/force-delete, the os-verify extension) and export/import records. */
export async function backupActionRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const api: BackupApiDeps = { db: deps.db, config: deps.config, store: deps.store };
  const lc = (req: FastifyRequest) => linkContext(req, deps.config.PUBLIC_ENDPOINT);

  r.post(
    '/backups/:id/action',
    {
      schema: {
        summary: 'Backup action: os-reset_status, os-force_delete (admin); os-verify (extension: re-read and check every object)',
        tags,
        params: BackupIdParams,
        body: BackupActionBody,
      },
      // The schema documents the body; it is checked by hand, for Cinder's "no such action" message.
      attachValidation: true,
    },
    async (req, reply) => {
      const body = req.body as Record<string, unknown>;
      const action = actionName(body);
      if (action === 'os-reset_status') {
        const { status } = parseOrThrow(ResetStatusBody, body[action]);
        await resetBackupStatus(api, req.ctx, req.params.id, status);
      } else if (action === 'os-force_delete') {
        await forceDeleteBackup(api, req.ctx, req.params.id);
      } else {
        // The documented argument is an object or null: anything else is refused before any work.
        parseOrThrow(z.object({ 'os-verify': VerifyArgument }), body);
        await verifyBackup(api, req.ctx, req.params.id);
      }
      deps.wakeJobs?.();
      return reply.code(202).send();
    },
  );

  r.get(
    '/backups/:id/export_record',
    { schema: { summary: 'Export a backup record (admin)', tags, params: BackupIdParams } },
    async (req) => {
      const rec = await exportRecord(api, req.ctx, req.params.id);
      return { 'backup-record': { backup_service: rec.backupService, backup_url: rec.backupUrl } };
    },
  );

  r.post(
    '/backups/import_record',
    { schema: { summary: 'Import a backup record (admin, 201)', tags, body: ImportRecordV30 } },
    async (req, reply) => {
      const rec = req.body['backup-record'];
      const view = await importRecord(api, req.ctx, { backupService: rec.backup_service, backupUrl: rec.backup_url });
      deps.wakeJobs?.();
      return reply.code(201).send({ backup: backupSummary(backupLinks(lc(req)), view.row) });
    },
  );
}
