import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateOpenApiDocument, generateTroveOpenApiDocument } from '../../src/cli/openapi-document.js';

const TROVE = resolve(import.meta.dirname, '../../openapi/trove.json');

describe('Trove OpenAPI document', () => {
  it('the committed openapi/trove.json equals a fresh generation (else: run `npm run openapi` and commit)', async () => {
    const fresh = await generateTroveOpenApiDocument();
    expect(readFileSync(TROVE, 'utf8') === fresh, 'openapi/trove.json is out of date: run `npm run openapi` and commit the result').toBe(
      true,
    );
  });

  it('documents every /v1.0 resource, and the Cinder document lists none of them', async () => {
    const doc = JSON.parse(readFileSync(TROVE, 'utf8'));
    expect(doc.info.version).toBe('1.0');
    for (const p of [
      '/v1.0/{project_id}/instances',
      '/v1.0/{project_id}/instances/{id}',
      '/v1.0/{project_id}/flavors',
      '/v1.0/{project_id}/datastores/{ds}/versions',
    ]) {
      expect(doc.paths[p], p).toBeDefined();
    }
    const cinder = JSON.parse(await generateOpenApiDocument());
    expect(Object.keys(cinder.paths).filter((p) => p.startsWith('/v1.0'))).toEqual([]);
  });
});
