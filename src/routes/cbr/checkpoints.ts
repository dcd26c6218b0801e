import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { createCheckpoint } from '../../domain/cbr/checkpoints/create-checkpoint.js';
import { showCheckpointById } from '../../domain/cbr/checkpoints/show-checkpoint.js';
import { paramInvalid } from '../../domain/cbr/errors.js';
import { VOLUME_TYPE } from '../../domain/cbr/time.js';
import { CheckpointBody, CreateCheckpointBody } from './checkpoints.schemas.js';
import { ProjectParams, errorResponses } from './common.schemas.js';

const tags = ['checkpoints'];

/** C1 (back up a vault: one backup per volume, answered while protecting) and C2 (poll it). */
export async function checkpointRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/checkpoints',
    {
      schema: {
        tags,
        summary: 'Back up the volumes of a vault (a restore point)',
        params: ProjectParams,
        body: CreateCheckpointBody,
        response: { 200: CheckpointBody, ...errorResponses },
      },
    },
    async (req) => {
      const { vault_id, parameters: p = {} } = req.body.checkpoint;
      const details = p.resource_details ?? [];
      const wrong = details.find((d) => d.type !== VOLUME_TYPE);
      if (wrong) throw paramInvalid('checkpoint.parameters.resource_details.type', `${wrong.type} (only ${VOLUME_TYPE})`);
      const resources = p.resources || details.length ? [...new Set([...(p.resources ?? []), ...details.map((d) => d.id)])] : undefined;
      const checkpoint = await createCheckpoint(deps, req.ctx, {
        vaultId: vault_id,
        autoTrigger: p.auto_trigger ?? false,
        ...(resources ? { resources } : {}),
        ...(p.incremental !== undefined ? { incremental: p.incremental } : {}),
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
      });
      deps.wakeJobs?.();
      return { checkpoint };
    },
  );

  r.get(
    '/checkpoints/:checkpoint_id',
    {
      schema: {
        tags,
        summary: 'Show a restore point (404 once all its backups are deleted)',
        params: ProjectParams.extend({ checkpoint_id: z.string() }),
        response: { 200: CheckpointBody, ...errorResponses },
      },
    },
    async (req) => ({ checkpoint: await showCheckpointById(deps.db, req.ctx, req.params.checkpoint_id) }),
  );
}
