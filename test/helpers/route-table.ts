import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  /** Fastify's pattern, e.g. /v3/:project_id/volumes/:id */
  path: string;
}

/**
 * Every registered route and method of an app, read from `printRoutes` (the router's own
 * tree, so routes hidden from the OpenAPI document are included). HEAD twins are left out.
 */
export function routeTable(app: FastifyInstance): RouteEntry[] {
  const out: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[└├]── (\S+)(?: \(([^)]*)\))?/u.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(path);
    for (const method of (m[3] ?? '').split(', ').filter((x) => x && x !== 'HEAD')) out.push({ method, path });
  }
  return out;
}

/** A route pattern with its `:params` filled from `values` (unknown names get `fallback`). */
export function fillPath(path: string, values: Record<string, string>, fallback: string): string {
  return path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => values[name] ?? fallback);
}
