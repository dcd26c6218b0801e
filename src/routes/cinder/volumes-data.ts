import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { AppDeps } from '../../app-deps.js';
import { openVolumeData, volumeDataSize, writeVolumeData } from '../../domain/volumes/data.js';
import { withBodyTimeouts } from '../../http/body-timeouts.js';
import { HttpFault, UNSUPPORTED_MEDIA_TYPE } from '../../http/faults.js';
import { IdParams } from './volumes.schemas.js';

const tags = ['extensions'];
/** Bodies are streamed to the file, never buffered; the data route has no body limit of its own. */
const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** Parses `Range: bytes=a-b | a- | -n` against `size`; null = whole volume. 400 garbage, 416 unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (header === undefined) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new HttpFault(400, 'badRequest', `Invalid Range header: ${header}`);
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw new HttpFault(416, '', 'Requested range not satisfiable.');
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) throw new HttpFault(400, 'badRequest', `Invalid Range header: ${header}`);
  }
  if (start >= size) throw new HttpFault(416, '', 'Requested range not satisfiable.');
  return { start, end };
}

/** Parses `Content-Range: bytes a-b/*` (or `/total`); null = from offset 0. Garbage or b < a: 400. */
export function parseContentRange(header: string | undefined): { start: number; length: number } | null {
  if (header === undefined) return null;
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim());
  if (!m) throw new HttpFault(400, 'badRequest', `Invalid Content-Range header: ${header}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || !Number.isSafeInteger(end)) throw new HttpFault(400, 'badRequest', `Invalid Content-Range header: ${header}`);
  return { start, length: end - start + 1 };
}

/**
 * GET/PUT /volumes/{id}/data (extension, not Cinder): stream a volume's bytes out
 * (Range aware: 206 + Content-Range, 416 unsatisfiable) or in (optional Content-Range).
 */
export async function volumeDataRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Scoped to this module: the raw request stream goes to the handler untouched.
  app.addContentTypeParser('application/octet-stream', { bodyLimit: NO_LIMIT }, (_req, payload, done) => done(null, payload));
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/volumes/:id/data',
    { schema: { summary: "Read a volume's bytes (extension; Range supported)", tags, params: IdParams } },
    async (req, reply) => {
      const size = await volumeDataSize(deps, req.ctx, req.params.id);
      let range: { start: number; end: number } | null;
      try {
        range = parseRange(req.headers.range, size);
      } catch (err) {
        if (err instanceof HttpFault && err.statusCode === 416) reply.header('Content-Range', `bytes */${size}`);
        throw err;
      }
      const start = range?.start ?? 0;
      const end = range?.end ?? size - 1;
      const stream = await openVolumeData(deps, req.ctx, req.params.id, start, end);
      reply
        .header('Accept-Ranges', 'bytes')
        .header('Content-Length', String(end - start + 1))
        .type('application/octet-stream');
      if (range) reply.code(206).header('Content-Range', `bytes ${start}-${end}/${size}`);
      return reply.send(stream);
    },
  );

  r.put(
    '/volumes/:id/data',
    {
      bodyLimit: NO_LIMIT,
      schema: {
        summary: 'Write bytes into a volume (extension; optional Content-Range: bytes a-b/*)',
        tags,
        params: IdParams,
        headers: z.object({ 'content-range': z.string().optional() }).loose(),
      },
    },
    async (req, reply) => {
      if (!req.headers['content-type']?.startsWith('application/octet-stream')) {
        throw new HttpFault(415, 'badMediaType', UNSUPPORTED_MEDIA_TYPE);
      }
      const cr = parseContentRange(req.headers['content-range']);
      const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : null;
      if (cr && declared !== null && declared !== cr.length)
        throw new HttpFault(400, 'badRequest', 'Content-Length does not match Content-Range.');
      const body = withBodyTimeouts(req.body as Readable, {
        idleMs: deps.config.DATA_UPLOAD_IDLE_TIMEOUT_SECONDS * 1000,
        totalMs: deps.config.DATA_UPLOAD_TIMEOUT_SECONDS * 1000,
      });
      let written: number;
      try {
        written = await writeVolumeData(deps, req.ctx, req.params.id, cr?.start ?? 0, cr?.length ?? declared, body);
      } catch (err) {
        // The rest of the body may be unread: close the connection after the answer.
        reply.header('connection', 'close');
        throw err;
      } finally {
        body.destroy();
      }
      reply.header('X-Bytes-Written', String(written));
      return reply.code(204).send();
    },
  );
}
