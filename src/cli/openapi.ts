import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateCbrOpenApiDocument, generateOpenApiDocument, generateTroveOpenApiDocument } from './openapi-document.js';

/** `npm run openapi`: regenerates openapi/openapi.json (Cinder), openapi/trove.json and openapi/cbr.json (commit the results). */

// The package root: the nearest directory above this file with a package.json (works from src/ and dist/src/).
function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + import.meta.dirname);
    dir = up;
  }
  return dir;
}

async function run(): Promise<void> {
  const target = join(packageRoot(), 'openapi', 'openapi.json');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, await generateOpenApiDocument());
  process.stdout.write(`wrote ${target}\n`);
  const trove = join(packageRoot(), 'openapi', 'trove.json');
  writeFileSync(trove, await generateTroveOpenApiDocument());
  process.stdout.write(`wrote ${trove}\n`);
  const cbr = join(packageRoot(), 'openapi', 'cbr.json');
  writeFileSync(cbr, await generateCbrOpenApiDocument());
  process.stdout.write(`wrote ${cbr}\n`);
}

run().catch((err) => {
  process.stderr.write(`openapi generation failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
