import { createServer } from 'node:net';
import type { Config } from '../../../config.js';
import type { Db } from '../../../db/schema.js';
import { usedPorts } from '../../../db/trove-instances-repository.js';
import { DomainError } from '../../common/errors.js';
import { portRange } from './runtime.js';

/** True when nothing listens on host:port now (another program, or another service's instance). */
function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * The lowest port of TROVE_INSTANCE_PORTS that no live instance of this host holds and
 * nothing listens on. The unique (host_id, port) index settles a race between two
 * creates; the caller retries on it. 503 when the range is exhausted.
 */
export async function pickPort(db: Db, config: Config, hostId: string, skip: ReadonlySet<number> = new Set()): Promise<number> {
  const taken = await usedPorts(db, hostId);
  const [first, last] = portRange(config);
  for (let port = first; port <= last; port++) {
    if (taken.has(port) || skip.has(port)) continue;
    if (await bindable(config.TROVE_INSTANCE_HOST, port)) return port;
  }
  throw new DomainError('unavailable', `No free port for a new instance in TROVE_INSTANCE_PORTS (${config.TROVE_INSTANCE_PORTS}).`);
}
