import { createReadStream, createWriteStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { findVolume } from '../../db/volumes-repository.js';
import type { VolumeRow } from '../../db/schema.js';
import { GiB } from '../../volumes/volume-backend.js';
import type { RequestContext } from '../common/context.js';
import { DomainError, invalid, notFound } from '../common/errors.js';
import { authorize } from '../common/policy.js';
import { VOLUME_DATA_ACCESSIBLE } from './status.js';
import type { VolumeServiceDeps } from './read.js';
import type { VolumeUploads } from './uploads.js';

/**
 * The volume data extension (not Cinder): stream a volume's bytes out, or write bytes
 * in at an offset. Only `available` volumes of the caller's own project (admins too:
 * the data of another project is never reachable through this route). Never buffers
 * a whole volume; never reads or writes outside [0, size).
 */

async function accessibleVolume(deps: VolumeServiceDeps, ctx: RequestContext, id: string): Promise<VolumeRow> {
  const vol = await findVolume(deps.db, id, { projectId: ctx.projectId });
  if (!vol) throw notFound('Volume', id);
  authorize(ctx, 'volume:data', vol.project_id);
  if (!(VOLUME_DATA_ACCESSIBLE as readonly string[]).includes(vol.status)) {
    throw invalid('volume', `Volume ${id} status must be available to read or write its data, but current status is: ${vol.status}.`);
  }
  return vol;
}

/** Size in bytes of a volume the caller may read (for Range handling before opening). */
export async function volumeDataSize(deps: VolumeServiceDeps, ctx: RequestContext, id: string): Promise<number> {
  return (await accessibleVolume(deps, ctx, id)).size * GiB;
}

/** A stream of bytes [start, end] (inclusive) of the volume; the caller checked the range. */
export async function openVolumeData(
  deps: VolumeServiceDeps,
  ctx: RequestContext,
  id: string,
  start: number,
  end: number,
): Promise<Readable> {
  await accessibleVolume(deps, ctx, id);
  return createReadStream(deps.volumes.volumePath(id), { start, end, highWaterMark: 1024 * 1024 });
}

/**
 * Writes `body` at `offset`. `expected` (from Content-Range/Content-Length) is the exact
 * byte count when known; otherwise at most size - offset bytes are accepted. Fenced
 * against copies and restores (409 while one runs); admitted by `deps.uploads` (413 past
 * the project's or the process's limit of concurrent uploads). Returns the bytes written;
 * 400 when the body runs past the volume's end or differs from `expected`.
 */
export async function writeVolumeData(
  deps: VolumeServiceDeps & { uploads: VolumeUploads },
  ctx: RequestContext,
  id: string,
  offset: number,
  expected: number | null,
  body: Readable,
): Promise<number> {
  const size = (await accessibleVolume(deps, ctx, id)).size * GiB;
  const limit = expected ?? size - offset;
  if (offset < 0 || offset > size || offset + limit > size)
    throw invalid(null, `The range starting at ${offset} does not fit in the volume (${size} bytes).`);
  return deps.uploads.run(ctx.projectId, id, async () => {
    // Again under the fence: a restore or copy may have taken the volume since the first check.
    await accessibleVolume(deps, ctx, id);
    let written = 0;
    const guard = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        if (written > limit) cb(new DomainError('invalid', `The body is longer than the ${limit} bytes that fit in the range.`));
        else cb(null, chunk);
      },
    });
    // r+: write in place, keep the file's size and the holes around the range.
    // Tracked: the range's blocks are marked changed before the first byte lands (CBT).
    await deps.volumes.trackWrite(id, offset, limit, () =>
      pipeline(body, guard, createWriteStream(deps.volumes.volumePath(id), { flags: 'r+', start: offset })),
    );
    if (expected !== null && written !== expected)
      throw invalid(null, `The body held ${written} bytes but the range announced ${expected}.`);
    return written;
  });
}
