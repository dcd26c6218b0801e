import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { attachVolume, detachVolume, extendVolume, resetVolumeStatus, setBootable, setReadonlyFlag } from '../../domain/volumes/actions.js';
import { setImageMetadata, showImageMetadata, unsetImageMetadata } from '../../domain/volumes/image-metadata.js';
import { deleteVolume } from '../../domain/volumes/delete.js';
import { HttpFault } from '../../http/faults.js';
import { atLeast } from '../../http/microversion.js';
import { parseOrThrow } from '../../http/validation.js';
import {
  ActionBody,
  AttachAction,
  BootableAction,
  DetachAction,
  ExtendAction,
  IdParams,
  ReadonlyAction,
  ResetVolumeStatusAction,
  SetImageMetadataAction,
  UnsetImageMetadataAction,
} from './volumes.schemas.js';

/** The one key of an action body, else Cinder's 400s (malformed body / no such action). */
export function actionOf<K extends string>(body: Record<string, unknown>, known: readonly K[]): { name: K; args: unknown } {
  const keys = Object.keys(body);
  if (keys.length !== 1) throw new HttpFault(400, 'badRequest', 'Malformed request body');
  const name = keys[0]!;
  if (!(known as readonly string[]).includes(name)) throw new HttpFault(400, 'badRequest', `There is no such action: ${name}`);
  return { name: name as K, args: body[name] };
}

/** Parses `{"<action>": args}` so that validation messages name the action's fields. */
export function parseAction<S extends z.ZodType>(name: string, schema: S, args: unknown): z.output<S> {
  return parseOrThrow(z.object({ [name]: schema }), { [name]: args })[name] as z.output<S>;
}

const ACTIONS = [
  'os-extend',
  'os-reset_status',
  'os-force_delete',
  'os-attach',
  'os-detach',
  'os-update_readonly_flag',
  'os-set_bootable',
  'os-set_image_metadata',
  'os-unset_image_metadata',
  'os-show_image_metadata',
] as const;

/**
 * POST /volumes/{id}/action: extend, reset status, force delete, attach, detach, readonly flag
 * (202, empty), bootable flag (200, empty: Cinder's _set_bootable has no 202 decorator), image
 * metadata: set and show 200 {"metadata": {...}}, unset 200 empty (domain/volumes/image-metadata.ts).
 */
export async function volumeActionRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/volumes/:id/action',
    { schema: { summary: `Volume actions: ${ACTIONS.join(', ')} (202)`, tags: ['volumes'], params: IdParams, body: ActionBody } },
    async (req, reply) => {
      const { name, args } = actionOf(req.body, ACTIONS);
      const id = req.params.id;
      switch (name) {
        case 'os-extend':
          await extendVolume(deps, req.ctx, id, parseAction(name, ExtendAction, args).new_size, atLeast(req, '3.42'));
          break;
        case 'os-reset_status': {
          const a = parseAction(name, ResetVolumeStatusAction, args);
          await resetVolumeStatus(deps, req.ctx, id, {
            status: a.status,
            attachStatus: a.attach_status,
            migrationStatus: a.migration_status,
          });
          break;
        }
        case 'os-force_delete':
          await deleteVolume(deps, req.ctx, id, {
            cascade: false,
            force: true,
            forceRule: 'volume_extension:volume_admin_actions:force_delete',
          });
          break;
        case 'os-attach': {
          const a = parseAction(name, AttachAction, args);
          await attachVolume(deps, req.ctx, id, {
            instanceUuid: a.instance_uuid ?? null,
            hostName: a.host_name ?? null,
            mountpoint: a.mountpoint,
            mode: a.mode ?? 'rw',
          });
          break;
        }
        case 'os-detach':
          await detachVolume(deps, req.ctx, id, parseAction(name, DetachAction, args)?.attachment_id ?? null);
          break;
        case 'os-update_readonly_flag':
          await setReadonlyFlag(deps, req.ctx, id, parseAction(name, ReadonlyAction, args).readonly);
          break;
        case 'os-set_bootable':
          await setBootable(deps, req.ctx, id, parseAction(name, BootableAction, args).bootable);
          return reply.code(200).send();
        case 'os-set_image_metadata': {
          const pairs = parseAction(name, SetImageMetadataAction, args).metadata;
          return reply.code(200).send({ metadata: await setImageMetadata(deps.db, req.ctx, id, pairs) });
        }
        case 'os-unset_image_metadata':
          await unsetImageMetadata(deps.db, req.ctx, id, parseAction(name, UnsetImageMetadataAction, args).key);
          return reply.code(200).send();
        case 'os-show_image_metadata':
          return reply.code(200).send({ metadata: await showImageMetadata(deps.db, req.ctx, id) });
      }
      return reply.code(202).send();
    },
  );
}
