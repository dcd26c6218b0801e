import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataDirBusyError, acquireDirLock } from '../../src/db/embedded-lock.js';

function tmpLock(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lock-'));
  return { dir, path: join(dir, 'postgres.lock') };
}

describe('embedded cluster lock under DATA_DIR', () => {
  it('records pid, host and port, and a second holder is refused with both named', () => {
    const { dir, path } = tmpLock();
    const lock = acquireDirLock(path, dir, 'host-a');
    lock.setPort(54321);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, host: 'host-a', port: 54321 });
    // Another live process on this host holds it: pretend to be it by writing its pid.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
    try {
      writeFileSync(path, JSON.stringify({ pid: other.pid, host: 'host-a', port: 54321, since: 'then' }));
      let err: unknown;
      try {
        acquireDirLock(path, dir, 'host-a');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataDirBusyError);
      expect((err as Error).message).toContain(`pid ${other.pid} on host host-a`);
      expect((err as Error).message).toContain('127.0.0.1:54321');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over a stale lock whose pid is gone', async () => {
    const { dir, path } = tmpLock();
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => gone.on('exit', r));
    writeFileSync(path, JSON.stringify({ pid: gone.pid, host: 'host-a', since: 'then' }));
    const lock = acquireDirLock(path, dir, 'host-a');
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('a holder on another host counts as live (its pid cannot be probed from here)', () => {
    const { dir, path } = tmpLock();
    writeFileSync(path, JSON.stringify({ pid: 999999, host: 'host-b', since: 'then' }));
    expect(() => acquireDirLock(path, dir, 'host-a')).toThrow(/pid 999999 on host host-b/);
  });

  it('release leaves a lock that another process took over', () => {
    const { dir, path } = tmpLock();
    const lock = acquireDirLock(path, dir, 'host-a');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'host-z', since: 'then' }));
    lock.release();
    expect(existsSync(path)).toBe(true);
  });
});
