import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import rule of src/README.md, checked on every relative import in src/: each file
 * belongs to a layer (by path), each layer may import only the layers listed here, and
 * there is no import cycle. Only routes/, http/ and app.ts import fastify.
 */
const SRC = resolve(dirname(new URL(import.meta.url).pathname), '../../src');

const DOMAIN_BASE = ['domain/common', 'db', 'engine', 'storage', 'volumes', 'jobs', 'config'];
const ALLOWED: Record<string, readonly string[]> = {
  routes: ['http', 'domain/*', 'app-deps', 'config'],
  http: ['domain/common', 'config'],
  'domain/common': ['db', 'config'],
  'domain/volumes': DOMAIN_BASE,
  'domain/backups': [...DOMAIN_BASE, 'domain/volumes'],
  'domain/cbr': [...DOMAIN_BASE, 'domain/volumes', 'domain/backups'],
  'domain/trove': [...DOMAIN_BASE, 'domain/volumes', 'domain/backups'],
  jobs: ['db'],
  engine: ['storage'],
  storage: ['config'],
  volumes: ['config'],
  db: ['config'],
  config: [],
  'app-deps': ['*'],
  root: ['*'],
};
const FASTIFY_LAYERS = new Set(['routes', 'http', 'root']);

/** Edges that break the rule today, to be removed (each one names its fix). Keep this list empty. */
const KNOWN: ReadonlySet<string> = new Set([]);

/** What counts as SQL in domain code: kysely's sql tag, raw SQL, row locks, advisory locks, SQL statements in strings. */
const SQL_IN_DOMAIN: ReadonlyArray<[string, RegExp]> = [
  ["imports sql from 'kysely'", /import\s*\{[^}]*(?<!type\s)\bsql\b[^}]*\}\s*from\s*['"]kysely['"]/],
  ['uses the sql tag', /\bsql(<[^>]*>)?`/],
  ['builds a row lock (forUpdate/forShare/forNoKeyUpdate/forKeyShare)', /\.for(Update|Share|NoKeyUpdate|KeyShare)\(/],
  ['calls pg_advisory locks', /pg_(try_)?advisory/],
  ['holds a SQL statement in a string', /[`'"]\s*(SELECT\s[^`'"]*\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s)/],
];

function layerOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return file === 'config.ts' ? 'config' : file === 'app-deps.ts' ? 'app-deps' : 'root';
  if (parts[0] === 'cli') return 'root';
  if (parts[0] === 'domain') return `domain/${parts[1]}`;
  return parts[0]!;
}

function mayImport(from: string, to: string, e: Edge): boolean {
  if (from === to) return true;
  // Row types may cross into routes (views print rows); queries may not.
  if (from === 'routes' && e.typeOnly && e.to === 'db/schema.ts') return true;
  return (ALLOWED[from] ?? []).some((a) => a === '*' || a === to || (a === 'domain/*' && to.startsWith('domain/')));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return walk(p);
    return /\.ts$/.test(n) && !/\.(test|d)\.ts$/.test(n) ? [p] : [];
  });
}

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function importsOf(abs: string): { edges: Edge[]; fastify: boolean } {
  const text = readFileSync(abs, 'utf8');
  const edges: Edge[] = [];
  let fastify = false;
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    const spec = m[3]!;
    if (/^(fastify|@fastify\/)/.test(spec)) fastify = true;
    if (!spec.startsWith('.')) continue;
    const target = relative(SRC, resolve(dirname(abs), spec)).replace(/\.js$/, '.ts');
    if (target.startsWith('..')) continue;
    edges.push({ from: relative(SRC, abs), to: target, typeOnly: Boolean(m[2]) });
  }
  return { edges, fastify };
}

const files = walk(SRC);
const graph = new Map<string, Edge[]>();
const fastifyUsers: string[] = [];
for (const f of files) {
  const { edges, fastify } = importsOf(f);
  graph.set(relative(SRC, f), edges);
  if (fastify) fastifyUsers.push(relative(SRC, f));
}

describe('architecture: the import rule of src/README.md', () => {
  it('every import goes along an allowed edge', () => {
    const bad: string[] = [];
    for (const edges of graph.values()) {
      for (const e of edges) {
        const key = `${e.from} -> ${e.to}`;
        if (!mayImport(layerOf(e.from), layerOf(e.to), e) && !KNOWN.has(key)) {
          bad.push(
            `${key}  (${layerOf(e.from)} may not import ${layerOf(e.to)}; allowed: ${(ALLOWED[layerOf(e.from)] ?? []).join(', ') || 'nothing of ours'})`,
          );
        }
      }
    }
    expect(bad, `forbidden imports (see src/README.md):\n  ${bad.join('\n  ')}\n`).toEqual([]);
  });

  it('only routes/, http/ and the composition root import fastify', () => {
    const bad = fastifyUsers.filter((f) => !FASTIFY_LAYERS.has(layerOf(f)));
    expect(bad, `fastify imported outside routes/, http/, app.ts: ${bad.join(', ')}`).toEqual([]);
  });

  it('there is no import cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'open');
      stack.push(f);
      for (const e of graph.get(f) ?? []) {
        if (KNOWN.has(`${e.from} -> ${e.to}`)) continue;
        const s = state.get(e.to);
        if (s === 'open') cycles.push([...stack.slice(stack.indexOf(e.to)), e.to].join(' -> '));
        else if (s === undefined && graph.has(e.to)) visit(e.to);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles, `import cycles:\n  ${cycles.join('\n  ')}\n`).toEqual([]);
  });

  it('domain code keeps no SQL (queries, locks and SQL values live in src/db)', () => {
    const bad: string[] = [];
    for (const f of files) {
      const rel = relative(SRC, f);
      if (!rel.startsWith('domain/')) continue;
      // Comments may describe SQL; only code counts (a '//' inside a string only hides more text).
      const code = readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/[^\n]*/g, '');
      for (const [what, re] of SQL_IN_DOMAIN) if (re.test(code)) bad.push(`${rel}: ${what}`);
    }
    expect(bad, `SQL in src/domain (move it into a src/db repository):\n  ${bad.join('\n  ')}\n`).toEqual([]);
  });

  it('the known exceptions still exist (delete an entry once it is fixed)', () => {
    const all = new Set([...graph.values()].flat().map((e) => `${e.from} -> ${e.to}`));
    expect([...KNOWN].filter((k) => !all.has(k))).toEqual([]);
  });
});
