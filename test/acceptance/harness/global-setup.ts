import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Builds the service once (npm run build) and installs the Debian clients when missing,
 * so every acceptance file can start `node dist/src/main.js` and call /usr/bin/cinder
 * and /usr/bin/openstack (never the pyenv shims earlier on PATH).
 */
export function setup(): void {
  const root = resolve(import.meta.dirname, '../../..');
  if (!existsSync('/usr/bin/cinder') || !existsSync('/usr/bin/openstack')) {
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'python3-cinderclient', 'python3-openstackclient'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
  }
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', timeout: 300_000 });
}
