import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config.js';

const ROOT = resolve(import.meta.dirname, '../..');
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasCompose) console.warn('docker-compose is not installed: skipping the compose validation (.ci/run installs it)');

/** The `environment:` keys of one service, read from the file as written. */
function serviceEnvironment(text: string, service: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(`  ${service}:`);
  expect(start, `service ${service} in docker-compose.yml`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && /^ {0,2}\S/.test(l));
  const block = lines.slice(start, end < 0 ? undefined : end);
  const envStart = block.indexOf('    environment:');
  const keys: string[] = [];
  for (const line of block.slice(envStart + 1)) {
    const m = /^ {6}([A-Z][A-Z0-9_]*):/.exec(line);
    if (!m) break;
    keys.push(m[1]!);
  }
  return keys;
}

describe('docker-compose.yml', () => {
  it.skipIf(!hasCompose)("validates with Debian's `docker-compose config -q` (skipped when docker-compose is missing)", () => {
    const run = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const services = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '--services'], { cwd: ROOT, encoding: 'utf8' });
    expect(services.trim().split('\n').sort()).toEqual(['cinder-backup', 'postgres', 's3', 's3-init']);
  });

  it('wires the service by configuration variables only: Postgres URL, S3 on a pinned versitygw with its bucket made at start', () => {
    const text = readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8');
    const env = serviceEnvironment(text, 'cinder-backup');
    expect(env.filter((k) => !CONFIG_VARIABLES.includes(k))).toEqual([]);
    expect(env).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'BACKUP_STORE', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']),
    );
    expect(text).toMatch(/BACKUP_STORE: s3/);
    expect(text).toMatch(/S3_ENDPOINT: http:\/\/s3:7070/);
    expect(text).toMatch(/DATABASE_URL: postgres:\/\/[^@]+@postgres:5432\//);
    expect(text).toMatch(/s3api create-bucket --bucket/);
    // Every image pinned by version: no :latest, no bare name.
    for (const m of text.matchAll(/^\s+image: (\S+)$/gm)) expect(m[1], m[1]).toMatch(/:(?!latest$)[\w.-]+$/);
    expect(text).not.toMatch(/minio\//);
    expect(text).not.toMatch(/^name:/m); // docker-compose 1.29 rejects a top-level name
  });

  it('the image runs Node 22 as a non-root user', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });
});
