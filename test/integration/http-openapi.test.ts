import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateOpenApiDocument } from '../../src/cli/openapi-document.js';
import { loadConfig, secretValues } from '../../src/config.js';
import { createTestApp } from '../helpers/app.js';

const COMMITTED = resolve(import.meta.dirname, '../../openapi/openapi.json');

describe('OpenAPI document', () => {
  it('the committed openapi/openapi.json equals a fresh generation (else: run `npm run openapi` and commit)', async () => {
    const fresh = await generateOpenApiDocument();
    const committed = readFileSync(COMMITTED, 'utf8');
    expect(committed === fresh, 'openapi/openapi.json is out of date: run `npm run openapi` and commit the result').toBe(true);
  });

  it('documents the conventions: versions, security scheme, microversion 3.70', () => {
    const doc = JSON.parse(readFileSync(COMMITTED, 'utf8'));
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe('3.70');
    expect(doc.paths['/']).toBeDefined();
    expect(doc.paths['/v3/']).toBeDefined();
    expect(doc.components.securitySchemes.token).toEqual({ type: 'apiKey', in: 'header', name: 'X-Auth-Token' });
    // The project-less twins and the document itself are not listed.
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v3/') && p !== '/v3/' && !p.startsWith('/v3/{project_id}/'))).toEqual([]);
    expect(doc.paths['/openapi.json']).toBeUndefined();
  });

  it('never contains configured secrets, even when generated from a config that has them', async () => {
    const config = loadConfig({
      S3_ENDPOINT: 'http://s3.internal.test:9000',
      S3_ACCESS_KEY_ID: 'AKIAOPENAPILEAKTEST',
      S3_SECRET_ACCESS_KEY: 'openapi-leak-s3-secret',
      KEYSTONE_PASSWORD: 'openapi-leak-keystone-password',
      NOAUTH_ADMIN_TOKEN: 'openapi-leak-admin-token',
      S3_SSE_CUSTOMER_KEY: 'b3BlbmFwaS1sZWFrLXNzZS1rZXktMzItYnl0ZXMtLS0=',
      DATABASE_URL: 'postgres://svc:openapi-leak-db-password@db.internal.test/cinder',
    });
    const doc = await generateOpenApiDocument(config);
    const committed = readFileSync(COMMITTED, 'utf8');
    for (const secret of [...secretValues(config), 'AKIAOPENAPILEAKTEST', 's3.internal.test', 'db.internal.test']) {
      expect(doc).not.toContain(secret);
      expect(committed).not.toContain(secret);
    }
  });

  it('GET /openapi.json serves the same document as the committed one (keys aside)', async () => {
    const t = await createTestApp();
    try {
      const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(res.statusCode).toBe(200);
      const served = res.json();
      const committed = JSON.parse(readFileSync(COMMITTED, 'utf8'));
      expect(served).toEqual(committed);
    } finally {
      await t.close();
    }
  });
});
