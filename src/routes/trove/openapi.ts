import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../app-deps.js';
import { TROVE_RESPONSES, documentedResponsesTransform } from '../../http/openapi-responses.js';
import { registerTroveApi } from './index.js';

/**
 * The Trove v1.0 OpenAPI document: the /v1.0 routes alone (hidden from the Cinder document),
 * read from a throwaway Fastify instance that only registers them (nothing listens or runs).
 */
export async function troveOpenApiDocument(deps: AppDeps): Promise<Record<string, unknown>> {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  try {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Trove-compatible Database API v1.0 (PostgreSQL 15 instances, flavors, datastores)',
          version: '1.0',
          description:
            'OpenStack Trove v1.0 subset. Instances are PostgreSQL 15 clusters run by the service; `port` in instance views is an extension.',
        },
        components: { securitySchemes: { token: { type: 'apiKey', in: 'header', name: 'X-Auth-Token' } } },
        security: [{ token: [] }],
      },
      transform: documentedResponsesTransform(TROVE_RESPONSES),
    });
    await registerTroveApi(app, deps, { hide: false });
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
