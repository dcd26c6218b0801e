import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import { parseCinderBool } from '../../domain/common/cinder-bool.js';
import { invalid } from '../../domain/common/errors.js';
import { createVolumeFromBackup } from '../../domain/backups/volume-from-backup.js';
import { updateVolume } from '../../domain/volumes/actions.js';
import { createVolume } from '../../domain/volumes/create.js';
import { deleteVolume } from '../../domain/volumes/delete.js';
import { resourceListBody, VOLUME_LIST } from '../../domain/volumes/list-cached.js';
import { showVolume } from '../../domain/volumes/read.js';
import { linkContext } from '../../http/links.js';
import { atLeast } from '../../http/microversion.js';
import { parseOrThrow } from '../../http/validation.js';
import {
  CreateVolumeV30,
  CreateVolumeV313,
  CreateVolumeV347,
  CreateVolumeV353,
  DeleteVolumeQuery,
  IdParams,
  UpdateVolumeBody,
  UpdateVolumeV30,
  UpdateVolumeV353,
} from './volumes.schemas.js';
import { listBody, volumeDetail, volumeSummary } from './volumes.views.js';
import { JSON_TYPE } from './list-json.js';
import { listViewKey } from './list-key.js';
import { z } from 'zod';

const tags = ['volumes'];

// The documented body; the loose inner object lets the per-microversion parse see unknown keys.
const CreateVolumeDoc = z.object({
  volume: CreateVolumeV347.loose(),
  'OS-SCH-HNT:scheduler_hints': z.record(z.string(), z.unknown()).nullish(),
});

/** Volumes: list, detail list, show, create, update, delete. */
export async function volumesRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const lc = (req: FastifyRequest) => linkContext(req, deps.config.PUBLIC_ENDPOINT);
  const mv = (req: FastifyRequest) => (v: string) => atLeast(req, v);
  const query = (req: FastifyRequest) => req.query as Record<string, unknown>;
  const view = (req: FastifyRequest, extended: boolean) => ({ ctx: req.ctx, lc: lc(req), atLeast: mv(req), extended });

  // Rendered pages go through the page cache (domain/common/list-cache.ts): the same bytes as
  // Fastify's JSON.stringify of the same body (test/integration/volume-list-cache.test.ts).
  const listDeps = { db: deps.db, listCache: deps.listCache, maxLimit: deps.config.OSAPI_MAX_LIMIT };
  for (const detail of [false, true]) {
    const path = detail ? 'volumes/detail' : 'volumes';
    r.get(`/${path}`, { schema: { summary: detail ? 'List volumes with details' : 'List volumes', tags } }, async (req, reply) => {
      const l = lc(req);
      const body = await resourceListBody(listDeps, VOLUME_LIST, req.ctx, query(req), mv(req), {
        key: listViewKey(req, l, path, null),
        render: (page) => {
          const items = page.records.map((rec) => (detail ? volumeDetail(rec, view(req, true)) : volumeSummary(rec, l)));
          const lastId = page.records.at(-1)?.row.id ?? null;
          return JSON.stringify(listBody('volumes', items, { ...page, lastId }, { lc: l, path, query: query(req) }));
        },
      });
      return reply.type(JSON_TYPE).send(body);
    });
  }

  r.get('/volumes/:id', { schema: { summary: 'Show a volume', tags, params: IdParams } }, async (req) => {
    return { volume: volumeDetail(await showVolume(deps.db, req.ctx, req.params.id), view(req, true)) };
  });

  r.post('/volumes', { schema: { summary: 'Create a volume (202)', tags, body: CreateVolumeDoc } }, async (req, reply) => {
    const schema = atLeast(req, '3.53')
      ? CreateVolumeV353
      : atLeast(req, '3.47')
        ? CreateVolumeV347
        : atLeast(req, '3.13')
          ? CreateVolumeV313
          : CreateVolumeV30;
    const v = parseOrThrow(z.object({ volume: schema }).loose(), req.body).volume as z.output<typeof CreateVolumeV353>;
    if (v.multiattach === true) throw invalid('input received', 'multiattach volumes need a multiattach volume type; none exists here.');
    if (v.imageRef || v.image_id) throw invalid('input received', 'Creating a volume from an image is not supported by this service.');
    const input = {
      size: v.size ?? null,
      name: v.name !== undefined ? v.name : (v.display_name ?? null),
      description: v.description !== undefined ? v.description : (v.display_description ?? null),
      metadata: v.metadata ?? {},
      availabilityZone: v.availability_zone ?? null,
      snapshotId: v.snapshot_id ?? null,
      sourceVolid: v.source_volid ?? null,
    };
    const backupId = v.backup_id ?? null;
    // A volume from a backup is the backups feature's (it restores into the new volume).
    const rec =
      backupId !== null ? await createVolumeFromBackup(deps, req.ctx, { ...input, backupId }) : await createVolume(deps, req.ctx, input);
    return reply.code(202).send({ volume: volumeDetail(rec, view(req, false)) });
  });

  r.put('/volumes/:id', { schema: { summary: 'Update a volume', tags, params: IdParams, body: UpdateVolumeBody } }, async (req) => {
    const v = parseOrThrow(z.strictObject({ volume: atLeast(req, '3.53') ? UpdateVolumeV353 : UpdateVolumeV30 }), req.body).volume;
    await updateVolume(deps, req.ctx, req.params.id, {
      name: v.name !== undefined ? v.name : v.display_name,
      description: v.description !== undefined ? v.description : v.display_description,
      metadata: v.metadata ?? undefined,
    });
    return { volume: volumeDetail(await showVolume(deps.db, req.ctx, req.params.id), view(req, false)) };
  });

  r.delete(
    '/volumes/:id',
    { schema: { summary: 'Delete a volume (202)', tags, params: IdParams, querystring: DeleteVolumeQuery } },
    async (req, reply) => {
      const cascade = req.query.cascade !== undefined ? parseCinderBool(req.query.cascade, 'cascade') : false;
      // `force` exists from 3.23; below it is an ignored unknown parameter, as in Cinder.
      const force = atLeast(req, '3.23') && req.query.force !== undefined ? parseCinderBool(req.query.force, 'force') : false;
      await deleteVolume(deps, req.ctx, req.params.id, { cascade, force });
      return reply.code(202).send();
    },
  );
}
