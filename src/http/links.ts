import type { FastifyRequest } from 'fastify';

/** What views need to build Cinder's self/bookmark links and next-page hrefs. */
export interface LinkContext {
  /** scheme://host[:port][/prefix], no trailing slash, no /v3. */
  baseUrl: string;
  /** The project id when the request URL carried it (links then carry it too). */
  projectId: string | null;
}

export function linkContext(req: FastifyRequest, publicEndpoint?: string): LinkContext {
  const forwardedHost = req.headers['x-forwarded-host'];
  const host = (Array.isArray(forwardedHost) ? forwardedHost.at(-1) : forwardedHost)?.split(',').at(-1)?.trim() || req.host;
  const baseUrl = (publicEndpoint ?? `${req.protocol}://${host}`).replace(/\/+$/, '').replace(/\/v\d+(\.\d+)?$/, '');
  const projectId = (req.params as Record<string, string | undefined>)?.project_id ?? null;
  return { baseUrl, projectId };
}

function collectionUrl(lc: LinkContext, version: string | null, collection: string): string {
  const parts = [lc.baseUrl, version, lc.projectId, collection].filter((p): p is string => !!p);
  return parts.join('/');
}

export type Links = Array<{ rel: string; href: string }>;

/** Cinder's two links: self (with /v3) and bookmark (without). */
export function resourceLinks(lc: LinkContext, collection: string, id: string): Links {
  return resourceLinker(lc, collection)(id);
}

/** What the self and bookmark hrefs of a collection's items start with (the id follows). */
export function resourceLinkPrefixes(lc: LinkContext, collection: string): { self: string; bookmark: string } {
  return { self: `${collectionUrl(lc, 'v3', collection)}/`, bookmark: `${collectionUrl(lc, null, collection)}/` };
}

/** resourceLinks for the items of one page: the collection URLs are built once. */
export function resourceLinker(lc: LinkContext, collection: string): (id: string) => Links {
  const { self, bookmark } = resourceLinkPrefixes(lc, collection);
  return (id) => [
    { rel: 'self', href: self + id },
    { rel: 'bookmark', href: bookmark + id },
  ];
}

/**
 * The `<collection>_links` next href: every original query parameter kept, marker set
 * to the last item's id. `path` is e.g. "backups" or "backups/detail".
 */
export function nextLink(lc: LinkContext, path: string, query: Record<string, unknown>, lastId: string): Links {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === 'marker' || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
  }
  params.set('marker', lastId);
  return [{ rel: 'next', href: `${collectionUrl(lc, 'v3', path)}?${params.toString()}` }];
}
