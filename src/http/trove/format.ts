import type { LinkContext } from '../links.js';

/** Trove's timestamps: naive UTC, seconds precision, no zone ("2014-10-30T12:30:00"). */
export function troveTimestamp(date: Date): string;
export function troveTimestamp(date: Date | null | undefined): string | null;
export function troveTimestamp(date: Date | null | undefined): string | null {
  return date ? date.toISOString().slice(0, 19) : null;
}

export type TroveLinks = Array<{ rel: string; href: string }>;

/** Trove's self (with /v1.0/<project>) and bookmark (without) links of a resource. */
export function troveLinks(lc: LinkContext, collection: string, id: string): TroveLinks {
  const project = lc.projectId ? `/${lc.projectId}` : '';
  return [
    { rel: 'self', href: `${lc.baseUrl}/v1.0${project}/${collection}/${id}` },
    { rel: 'bookmark', href: `${lc.baseUrl}${project}/${collection}/${id}` },
  ];
}
