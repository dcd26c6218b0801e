import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { AppDeps } from './app-deps.js';
import { registerAuth } from './http/auth/auth-plugin.js';
import { registerBodyParsers } from './http/body-parsers.js';
import { cinderClientErrorHandler } from './http/client-errors.js';
import { registerInputGuards } from './http/input-guards.js';
import { frameworkErrorHandler, registerErrorHandling } from './http/error-handler.js';
import { registerMicroversions } from './http/microversion.js';
import { registerRateLimit } from './http/rate-limit.js';
import { registerRequestLog } from './http/request-log.js';
import { CINDER_RESPONSES, documentedResponsesTransform } from './http/openapi-responses.js';
import { pingDatabase } from './db/connection.js';
import { PageCache } from './domain/common/page-cache.js';
import { consoleRoutes, defaultConsoleDir } from './routes/console.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes, registerHttpMetrics } from './routes/metrics.js';
import { apiRouteModules } from './routes/cinder/index.js';
import { rootVersionsRoutes, v3VersionRoutes } from './routes/cinder/versions.js';
import { registerTroveApi } from './routes/trove/index.js';
import { troveOpenApiDocument } from './routes/trove/openapi.js';
import { cbrClientErrorHandler, cbrFrameworkErrorHandler } from './http/cbr/errors.js';
import { type CbrApiOptions, registerCbrApi } from './routes/cbr/index.js';

export const REDACTED_PATHS = [
  'req.headers["x-auth-token"]',
  'req.headers["x-subject-token"]',
  'req.headers.authorization',
  'headers["x-auth-token"]',
  'password',
  '*.password',
  'secretAccessKey',
  '*.secretAccessKey',
];

/** What both listeners share: logging (secrets redacted), request ids, body limit, routing. */
function serverOptions(deps: AppDeps): FastifyServerOptions {
  return {
    logger:
      deps.logger === false
        ? false
        : {
            level: deps.config.LOG_LEVEL,
            redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
            ...(typeof deps.logger === 'object' ? deps.logger : {}),
          },
    genReqId: () => `req-${randomUUID()}`,
    // One line per request instead of Fastify's two (registerRequestLog).
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    bodyLimit: deps.config.MAX_REQUEST_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 500 },
    clientErrorHandler: cinderClientErrorHandler,
  };
}

/**
 * Swagger UI at /docs for the listener's own document (/docs/json); its assets come from the
 * @fastify/swagger-ui package, never a CDN, and no online validator is called.
 */
async function registerDocsUi(app: FastifyInstance, more: Array<{ name: string; url: string }> = []): Promise<void> {
  const urls = more.length ? { urls: [{ name: 'this listener', url: '/docs/json' }, ...more] } : {};
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { validatorUrl: null, deepLinking: true, ...urls } });
}

/**
 * Builds the Fastify instance: conventions first (request ids, microversions, error
 * bodies), then the unauthenticated routes, then /v3 behind auth, each resource module
 * registered with and without /{project_id}; then Trove's /v1.0 (hidden from this document).
 */
export async function buildApp(appDeps: AppDeps): Promise<FastifyInstance> {
  // One page cache for both twins of each route (with and without /{project_id}).
  const deps: AppDeps = appDeps.listCache ? appDeps : { ...appDeps, listCache: new PageCache(appDeps.config.LIST_CACHE_BYTES) };
  const app = Fastify({ ...serverOptions(deps), frameworkErrors: frameworkErrorHandler });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  registerBodyParsers(app);
  registerRequestLog(app);
  registerInputGuards(app);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
    reply.header('x-compute-request-id', req.id);
  });
  registerErrorHandling(app);
  registerMicroversions(app);
  registerHttpMetrics(app, deps.metrics);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Cinder-compatible Block Storage API v3 (volumes, snapshots, backups)',
        version: '3.70',
        description:
          'OpenStack Cinder v3 API subset. Routes tagged "extensions" are not part of Cinder (volume data, backup progress, verify).',
      },
      components: { securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } } },
      security: [{ token: [] }],
    },
    transform: documentedResponsesTransform(CINDER_RESPONSES),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Trove's routes are hidden from this document; its own is built once, when first asked for.
  let troveDoc: Promise<Record<string, unknown>> | undefined;
  app.get('/docs/trove.json', { schema: { hide: true } }, async () => (troveDoc ??= troveOpenApiDocument(deps)));
  await registerDocsUi(app, [{ name: 'Trove v1.0', url: '/docs/trove.json' }]);

  await app.register(rootVersionsRoutes, { publicEndpoint: deps.config.PUBLIC_ENDPOINT });
  await app.register(healthRoutes, { ping: () => pingDatabase(deps.db) });
  await app.register(metricsRoutes, { registry: deps.metrics });
  await app.register(consoleRoutes, {
    dir: defaultConsoleDir(),
    authStrategy: deps.config.AUTH_STRATEGY,
    keystoneUrl: deps.config.KEYSTONE_URL,
  });

  await app.register(
    async (v3) => {
      registerAuth(v3, deps.auth);
      await registerRateLimit(v3, deps.config.RATE_LIMIT_PER_MINUTE);
      await v3.register(v3VersionRoutes, { publicEndpoint: deps.config.PUBLIC_ENDPOINT });
      for (const mod of apiRouteModules) {
        await v3.register(async (scoped) => mod(scoped, deps), { prefix: '/:project_id' });
        await v3.register(async (bare) => {
          // The project-less twin of every route: same behaviour, documented once.
          bare.addHook('onRoute', (route) => {
            route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
          });
          await mod(bare, deps);
        });
      }
    },
    { prefix: '/v3' },
  );
  await registerTroveApi(app, deps, { hide: true });
  if (deps.config.CBR_PORT !== 0) await app.register(async (cbr) => mountCbrApi(cbr, deps), { prefix: CBR_MOUNT });
  return app;
}

/** Where the Cinder listener also serves the CBR API (for the console, which may only call its own origin). */
export const CBR_MOUNT = '/cbr';

/**
 * The CBR listener's API, also under /cbr on this listener: the same routes, authentication
 * (AK/SK signing or X-Auth-Token, path project checked), error bodies and views, so the console
 * (same origin, no CORS) can call it with the user's own token. Hidden from this listener's
 * document (openapi/cbr.json describes it); off with CBR itself (CBR_PORT=0).
 */
async function mountCbrApi(cbr: FastifyInstance, deps: AppDeps): Promise<void> {
  cbr.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true } as typeof route.schema;
  });
  await registerCbrApi(cbr, deps);
}

/**
 * Builds the METRICS_PORT listener: /healthz and /metrics only, so a ROLE=worker process (which
 * serves no API) can be scraped and health-checked.
 */
export async function buildMetricsApp(deps: Pick<AppDeps, 'db' | 'metrics' | 'config' | 'logger'>): Promise<FastifyInstance> {
  const app = Fastify({ ...serverOptions(deps as AppDeps) });
  registerRequestLog(app);
  await app.register(healthRoutes, { ping: () => pingDatabase(deps.db) });
  await app.register(metricsRoutes, { registry: deps.metrics });
  return app;
}

/**
 * Builds the CBR listener's Fastify instance (CBR_PORT): the same deps as the Cinder one (one
 * database, store and volume backend), CBR's own error bodies and authentication, paths at
 * the root (/v3/{project_id}/vaults ...), and its own OpenAPI document at /openapi.json.
 */
export async function buildCbrApp(deps: AppDeps, options: CbrApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...serverOptions(deps), clientErrorHandler: cbrClientErrorHandler, frameworkErrors: cbrFrameworkErrorHandler });
  registerRequestLog(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'CBR-compatible Cloud Backup and Recovery API v3 (vaults of volumes)',
        version: '3',
        description:
          'Huawei Cloud CBR v3 subset for OS::Cinder::Volume resources, served on its own listener. A CBR backup is a Cinder backup of the volume.',
      },
      components: {
        securitySchemes: {
          aksk: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'SDK-HMAC-SHA256 request signing (X-Sdk-Date, X-Project-Id)',
          },
          token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' },
        },
      },
      security: [{ aksk: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerDocsUi(app);
  await registerCbrApi(app, deps, options);
  return app;
}
