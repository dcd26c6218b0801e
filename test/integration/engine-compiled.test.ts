import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'engine-compiled-'));
  await symlink(join(repo, 'node_modules'), join(dir, 'node_modules'));
  await writeFile(join(dir, 'package.json'), '{"type":"module"}');
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

// The engine's worker entry must load as compiled .js (production, dist/) and not only as .ts under vitest.
describe('compiled engine', () => {
  it('backs up and restores through worker threads running the compiled chunk-worker.js', async () => {
    const files = [
      'src/engine/backup-engine.ts',
      'src/engine/chunk-worker.ts',
      'src/engine/seek-bzip.d.ts',
      'src/storage/memory-store.ts',
      'bench/volume-image.ts',
    ];
    const flags = [
      '--outDir',
      join(dir, 'dist'),
      '--rootDir',
      repo,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
    ];
    await run(join(repo, 'node_modules/.bin/tsc'), [...files.map((f) => join(repo, f)), ...flags], { cwd: repo });
    await writeFile(
      join(dir, 'run.mjs'),
      `import { readFile, writeFile } from 'node:fs/promises';
import { createBackupEngine } from './dist/src/engine/backup-engine.js';
import { MemoryObjectStore } from './dist/src/storage/memory-store.js';
import { writeVolumeImage } from './dist/bench/volume-image.js';
const size = 3 * 1024 * 1024 + 77;
await writeVolumeImage('src.img', size);
await writeFile('dst.img', Buffer.alloc(size, 0xaa));
const engine = createBackupEngine({ compression: 'zstd', objectSize: 1 << 20, blockSize: 4096, chunksInFlight: 3, uploadConcurrency: 2, workerThreads: 2 });
const store = new MemoryObjectStore();
const location = { container: 'c', prefix: 'p' };
const b = await engine.backup(store, { backupId: 'b', volumeId: 'v', name: null, description: null, createdAt: new Date(), location, source: { path: 'src.img', sizeBytes: size }, parent: null, volumeMeta: null });
await engine.restore(store, { chain: [location], target: { path: 'dst.img', sizeBytes: size }, targetIsNew: false });
const same = (await readFile('src.img')).equals(await readFile('dst.img'));
await engine.close();
console.log(JSON.stringify({ objects: b.objectCount, same }));
`,
    );
    const { stdout } = await run(process.execPath, ['run.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual({ objects: 4, same: true });
  });
});
