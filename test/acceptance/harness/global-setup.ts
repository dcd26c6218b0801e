import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Builds the service once (npm run build) and installs the Debian clients when missing,
 * so every acceptance file can start `node dist/src/main.js` and call /usr/bin/cinder,
 * /usr/bin/openstack, /usr/bin/trove and /usr/bin/psql (never the pyenv shims earlier on PATH), and Debian's
 * chromium for the console's browser tests.
 */
export function setup(): void {
  const root = resolve(import.meta.dirname, '../../..');
  const tools = ['/usr/bin/cinder', '/usr/bin/openstack', '/usr/bin/trove', '/usr/bin/psql', '/usr/bin/chromium'];
  if (!tools.every((t) => existsSync(t))) {
    const packages = ['python3-cinderclient', 'python3-openstackclient', 'python3-troveclient', 'postgresql-client', 'chromium'];
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
  }
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit', timeout: 300_000 });
}
