import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs OpenStack Cinder's own chunked backup drivers through scripts/cinder/cinder_driver.py
 * (Debian's python3-cinder, driven standalone). Shared by the benchmark and the interop test.
 */

/** The repository root, found from this module (bench/ in source, dist/bench/ when built). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, 'package.json')); i++) dir = dirname(dir);
  return dir;
}

export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface CinderStatus {
  available: boolean;
  zstd: boolean;
  reason: string;
}

/** Whether Debian's python3-cinder (and python3-zstd) can be imported; never installs anything. */
export function cinderStatus(): CinderStatus {
  const probe = (mod: string): boolean =>
    existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore', timeout: 60_000 }).status === 0;
  const available = probe('cinder.backup.drivers.s3, cinder.backup.drivers.posix');
  return {
    available,
    zstd: available && probe('zstd'),
    reason: available
      ? 'python3-cinder importable'
      : `python3-cinder is not importable by ${DEBIAN_PYTHON}: run scripts/cinder/install-cinder.sh (apt-get install python3-cinder python3-zstd)`,
  };
}

/** Installs python3-cinder via scripts/cinder/install-cinder.sh (apt); returns the status after. */
export function installCinder(): CinderStatus {
  spawnSync('sh', [join(repoRoot(), 'scripts/cinder/install-cinder.sh')], { stdio: 'inherit', timeout: 900_000 });
  return cinderStatus();
}

/** What the script prints for one command. */
export interface CinderRun {
  command: string;
  elapsed: number; // seconds inside the driver call
  container: string;
  prefix: string;
  object_count: number;
  parent_id: string | null;
  size_gib: number;
  service: string;
  record: string; // base64 export record (§3.12)
  peak_rss_bytes: number;
  cpu_seconds: number;
}

/** Options shared by every command. */
export interface CinderTarget {
  driver: 's3' | 'posix';
  state: string;
  s3Endpoint?: string;
  bucket?: string;
  posixPath?: string;
}

function targetArgs(t: CinderTarget): string[] {
  const a = ['--driver', t.driver, '--state', t.state];
  if (t.s3Endpoint) a.push('--s3-endpoint', t.s3Endpoint);
  if (t.bucket) a.push('--bucket', t.bucket);
  if (t.posixPath) a.push('--posix-path', t.posixPath);
  return a;
}

/** Runs one command of cinder_driver.py; rejects with its stderr tail on failure. */
export function runCinder(
  command: 'backup' | 'restore' | 'delete' | 'export-record',
  target: CinderTarget,
  args: string[],
): Promise<CinderRun> {
  const script = join(repoRoot(), 'scripts/cinder/cinder_driver.py');
  const argv = [script, command, ...targetArgs(target), ...args];
  return new Promise((resolve, reject) => {
    execFile(DEBIAN_PYTHON, argv, { maxBuffer: 64 * 1024 * 1024, timeout: 3_600_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`cinder_driver.py ${command} failed: ${err.message}\n${stderr.slice(-2000)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as CinderRun);
      } catch {
        reject(new Error(`cinder_driver.py ${command}: unparsable output ${stdout.slice(-500)}`));
      }
    });
  });
}
