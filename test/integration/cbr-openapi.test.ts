import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateCbrOpenApiDocument, generateOpenApiDocument } from '../../src/cli/openapi-document.js';

const CBR = resolve(import.meta.dirname, '../../openapi/cbr.json');

describe('CBR OpenAPI document', () => {
  it('the committed openapi/cbr.json equals a fresh generation (else: run `npm run openapi` and commit)', async () => {
    const fresh = await generateCbrOpenApiDocument();
    expect(readFileSync(CBR, 'utf8') === fresh, 'openapi/cbr.json is out of date: run `npm run openapi` and commit the result').toBe(true);
  });

  it('documents the CBR routes at the root of its listener, with both credentials; the Cinder document has none of them', async () => {
    const doc = JSON.parse(readFileSync(CBR, 'utf8'));
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['aksk', 'token']);
    expect(doc.paths['/v3/{project_id}/protectables/{protectable_type}/instances']).toBeDefined();
    for (const p of Object.keys(doc.paths)) expect(p).toMatch(/^\/v3\/\{project_id\}\//);
    const cinder = JSON.parse(await generateOpenApiDocument());
    expect(Object.keys(cinder.paths).filter((p) => /\/(vaults|protectables|checkpoints|operation-logs|policies)/.test(p))).toEqual([]);
  });
});
