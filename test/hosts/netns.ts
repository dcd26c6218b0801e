import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Hosts on one machine: one network namespace per host, each joined to a bridge in the root
 * namespace by a veth pair. The bridge carries the shared services (Postgres, S3) on its own
 * address; nothing is routed further, so traffic stays in the namespaces, the bridge and loopback.
 * Names start with `cbth` and addresses are 10.231.0.0/24 (this test's range).
 */
export const BRIDGE = 'cbth0';
export const BRIDGE_ADDRESS = '10.231.0.1';

export interface NetHost {
  name: string;
  /** The namespace (`ip netns exec <ns> ...`). */
  ns: string;
  address: string;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why this machine cannot run the test (null: it can): root, `ip netns`, Postgres' binaries and moto_server are needed. */
export function cannotRun(): string | null {
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return '`ip netns` is not available';
  }
  if (!postgresBin()) return 'no PostgreSQL server binaries under /usr/lib/postgresql/*/bin';
  try {
    execFileSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' });
  } catch {
    return 'moto_server is not installed';
  }
  return null;
}

/** The directory of the newest Debian PostgreSQL server binaries (initdb, pg_ctl), or null. */
export function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? `${base}/${versions[0]}/bin` : null;
}

const LOCK = '/run/cbth-three-hosts.pid';

/**
 * One run at a time on a machine (the names and addresses are fixed): takes the lock, or throws
 * naming the live run that holds it. A lock left by a dead run is taken over.
 */
export function lockRun(): void {
  try {
    const pid = Number(readFileSync(LOCK, 'utf8'));
    if (pid && pid !== process.pid) {
      process.kill(pid, 0); // throws when that process is gone
      throw new Error(`another three-host test run (pid ${pid}) holds ${LOCK}`);
    }
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('another')) throw err;
  }
  writeFileSync(LOCK, String(process.pid));
}

export function unlockRun(): void {
  try {
    if (Number(readFileSync(LOCK, 'utf8')) === process.pid) rmSync(LOCK);
  } catch {}
}

/** Removes what an earlier run may have left (a killed test cannot clean up after itself). */
export function removeNetwork(hosts: readonly string[]): void {
  for (const h of hosts) {
    try {
      ip('netns', 'del', `cbth-${h}`); // its veth end goes with it once no process is left in it
    } catch {}
    try {
      ip('link', 'del', `cbth-${h}0`); // else (a process of a killed run still in it) the pair is removed here
    } catch {}
  }
  try {
    ip('link', 'del', BRIDGE);
  } catch {}
}

/** Makes the bridge (with BRIDGE_ADDRESS) and one namespace per host name, host i at 10.231.0.(11+i). */
export function createNetwork(names: readonly string[]): NetHost[] {
  removeNetwork(names);
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
  return names.map((name, i) => {
    const ns = `cbth-${name}`;
    const address = `10.231.0.${11 + i}`;
    ip('netns', 'add', ns);
    ip('link', 'add', `${ns}0`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('link', 'set', `${ns}0`, 'master', BRIDGE, 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    return { name, ns, address };
  });
}

export interface HostProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs `cmd` inside `ns` (`ip netns exec` execs it: the child's pid is the command's own). */
export function spawnIn(ns: string | null, cmd: string, args: string[], env: Record<string, string>, cwd: string): HostProcess {
  const [file, argv] = ns ? ['ip', ['netns', 'exec', ns, cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d) => (text += String(d)));
  child.stderr!.on('data', (d) => (text += String(d)));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => text, exited };
}

/** True while the process has not exited. */
export function alive(p: HostProcess | undefined): boolean {
  return p !== undefined && p.child.exitCode === null && p.child.signalCode === null;
}
