import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { issueUserToken } from '../http/auth/keystone-client.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The console's files live in dist/console (npm run build). Found by walking up from this module
 * to the package root, so the source (tests) and the build (dist/src/routes) find the same folder.
 */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'console');
}

/** The files served, read once: a fixed map by name, so no request path ever reaches the filesystem. */
function loadAssets(dir: string): Map<string, { body: Buffer; type: string }> {
  const assets = new Map<string, { body: Buffer; type: string }>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return assets;
}

export interface ConsoleOptions {
  dir: string;
  /** What the sign-in page asks for: a user and project (noauth) or Keystone credentials. */
  authStrategy: 'noauth' | 'keystone';
  /** Keystone mode: where the sign-in page's credentials are exchanged for a token. */
  keystoneUrl?: string | undefined;
}

const name255 = z.string().min(1).max(255);
const KeystoneSignIn = z.strictObject({ username: name255, password: z.string().min(1).max(4096), project: name255, domain: name255 });

/**
 * GET /console/...: the operator console's static files and its settings (no data, no auth: the
 * page calls the public API with the caller's own token, so it can do nothing a client cannot).
 */
export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions): Promise<void> {
  const assets = loadAssets(opts.dir);
  const hide = { schema: { hide: true } };
  const send = (name: string) => async (_req: unknown, reply: import('fastify').FastifyReply) => {
    const a = assets.get(name);
    if (!a) return reply.code(404).type('text/plain').send(`console file ${name} not found (was npm run build run?)`);
    return reply
      .type(a.type)
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
      .send(a.body);
  };
  app.get('/console', hide, async (_req, reply) => reply.redirect('/console/'));
  app.get('/console/', hide, send('index.html'));
  app.get('/console/settings.json', hide, async () => ({ auth_strategy: opts.authStrategy }));
  app.get<{ Params: { file: string } }>('/console/:file', hide, async (req, reply) => send(req.params.file)(req, reply));
  const keystoneUrl = opts.keystoneUrl;
  if (opts.authStrategy === 'keystone' && keystoneUrl) {
    // NOTE: Keystone is another origin for the page (no CORS there): the service makes the same
    // password request a client makes and hands the token back; it grants nothing by itself.
    app
      .withTypeProvider<ZodTypeProvider>()
      .post('/console/keystone-token', { schema: { hide: true, body: KeystoneSignIn } }, async (req, reply) => {
        const b = req.body;
        const r = await issueUserToken(
          keystoneUrl,
          { username: b.username, password: b.password, projectName: b.project, domainName: b.domain },
          10_000,
        );
        if (r.kind === 'refused') return reply.code(r.status).send({ message: r.message });
        return reply.code(201).send({ token: r.id, project_id: r.projectId, expires_at: new Date(r.expiresAt).toISOString() });
      });
  }
}
