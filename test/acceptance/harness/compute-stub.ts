import { type StubServer, startStubServer } from './stub-server.js';

/** A loopback stand-in for Nova's quota reads and server list, and the paths clients asked it for. */
export type ComputeStub = StubServer;

/** The catalog URL of the stub's compute endpoint (Nova's /v2.1 under the stub's root). */
/** The server list OSC's `volume list` reads (novaclient's servers.list()). */
export const SERVER_LIST = '/compute/v2.1/servers/detail';

export const computeEndpoint = (stub: ComputeStub): string => `${stub.url}compute/v2.1`;

/**
 * Answers Nova's quota reads with empty sets. OSC 6.0's `quota set` and `quota show` build the
 * compute client before anything else (openstackclient/common/quota.py take_action) and stop at
 * "public endpoint for compute service not found" without a compute endpoint in the catalog;
 * `quota show` also reads the compute quota (only EndpointNotFound is skipped). An empty set
 * adds nothing to the output, so every value shown is the volume service's. With a compute
 * endpoint listed, `openstack volume list` also reads the servers to name attachments (and
 * ignores any failure): an empty list leaves the ids it shows. Any other path (a write
 * included) is a 404, so a command that really changed compute quotas fails loudly.
 */
export function startComputeStub(): Promise<ComputeStub> {
  return startStubServer((method, path) => {
    if (method === 'GET' && path === SERVER_LIST) return { status: 200, body: { servers: [] } };
    const m = /^\/compute\/v2\.1\/(os-quota-sets|os-quota-class-sets)\/([^/]+)(\/defaults)?$/.exec(path);
    if (method !== 'GET' || !m || (m[1] === 'os-quota-class-sets' && m[3])) {
      return { status: 404, body: { itemNotFound: { code: 404, message: 'not a Nova: quota reads only' } } };
    }
    return { status: 200, body: m[1] === 'os-quota-sets' ? { quota_set: { id: m[2] } } : { quota_class_set: { id: m[2] } } };
  });
}
