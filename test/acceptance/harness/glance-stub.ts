import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback stand-in for Glance's version discovery, and the paths clients asked it for. */
export interface GlanceStub {
  /** http://127.0.0.1:PORT/ : what the Keystone catalog lists as the `image` service. */
  url: string;
  /** Every "METHOD path" received, in order (the test asserts nothing else was needed). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Answers Glance version discovery only. OSC 6.0's `volume create` always builds the image
 * client (openstackclient/volume/v2/volume.py take_action), whose SDK proxy discovers the
 * catalog's `image` endpoint before any volume request; without one the command fails with
 * "public endpoint for image service not found". Nothing here serves images: any other path
 * is a 404, so a client that really used the image API would fail loudly.
 */
export async function startGlanceStub(): Promise<GlanceStub> {
  const requests: string[] = [];
  let base = '';
  const versions = () => ({
    versions: [{ id: 'v2.9', status: 'CURRENT', links: [{ rel: 'self', href: `${base}v2/` }] }],
  });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(`${req.method} ${path}`);
    const discovery = req.method === 'GET' && (path === '/' || path === '/versions' || path === '/v2' || path === '/v2/');
    // Glance answers its root with 300 Multiple Choices and the same document under /v2/.
    res.writeHead(discovery ? (path === '/' ? 300 : 200) : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(discovery ? versions() : { message: 'not a Glance: version discovery only' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
