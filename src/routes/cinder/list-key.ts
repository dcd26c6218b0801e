import type { FastifyRequest } from 'fastify';
import type { LinkContext } from '../../http/links.js';
import { formatVersion } from '../../http/microversion.js';

/**
 * The route's part of a cached list page's key (domain/common/list-cache.ts): every input of
 * its body besides the rows and the caller: path, microversion, link base, the raw query (the
 * next link keeps it) and the view's own options.
 */
export function listViewKey(req: FastifyRequest, lc: LinkContext, path: string, view: unknown): string {
  return JSON.stringify([path, formatVersion(req.apiVersion), lc, req.query, view]);
}
