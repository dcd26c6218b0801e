import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../src/app-deps.js';
import { formatVersion } from '../../src/http/microversion.js';
import { apiRouteModules } from '../../src/routes/cinder/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** A hex project id (Cinder's project_id_regex) and a second one for mismatch cases. */
export const PROJECT = '5f1c0e9b2d6a4c7e8f90a1b2c3d4e5f6';
export const OTHER_PROJECT = 'abcdef0123456789abcdef0123456789';

const ProbeBody = z.strictObject({
  probe: z.strictObject({ name: z.string().max(10), size: z.number().int().min(1) }),
});

/**
 * A test-only /v3 resource: echoes the caller, the negotiated version and a validated
 * body, so the conventions can be tested before (and independently of) real resources.
 */
async function probeRoutes(app: FastifyInstance, _deps: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const echo = (req: {
    ctx: { userId: string; projectId: string; isAdmin: boolean; roles: readonly string[] };
    apiVersion: { major: number; minor: number };
  }) => ({
    user: req.ctx.userId,
    project: req.ctx.projectId,
    is_admin: req.ctx.isAdmin,
    roles: req.ctx.roles,
    version: formatVersion(req.apiVersion),
  });
  r.get('/test-probe', { schema: { hide: true } }, async (req) => echo(req));
  r.post('/test-probe', { schema: { hide: true, body: ProbeBody } }, async (req) => ({ ...echo(req), probe: req.body.probe }));
  r.get('/test-probe/boom', { schema: { hide: true } }, async () => {
    throw new Error('secret internal detail');
  });
}

/**
 * The real app (real Postgres, noauth) with the probe resource registered under /v3 and
 * /v3/{project_id}. The probe is added to the route list only while this app is built.
 */
export async function createProbeApp(env: Record<string, string> = {}, overrides: Partial<AppDeps> = {}): Promise<TestApp> {
  apiRouteModules.push(probeRoutes);
  try {
    return await createTestApp(env, overrides);
  } finally {
    apiRouteModules.splice(apiRouteModules.indexOf(probeRoutes), 1);
  }
}
