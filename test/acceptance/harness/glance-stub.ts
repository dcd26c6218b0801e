import { type StubServer, startStubServer } from './stub-server.js';

/** A loopback stand-in for Glance's version discovery, and the paths clients asked it for. */
export type GlanceStub = StubServer;

/**
 * Answers Glance version discovery only. OSC 6.0's `volume create` always builds the image
 * client (openstackclient/volume/v2/volume.py take_action), whose SDK proxy discovers the
 * catalog's `image` endpoint before any volume request; without one the command fails with
 * "public endpoint for image service not found". Nothing here serves images: any other path
 * is a 404, so a client that really used the image API would fail loudly.
 */
export function startGlanceStub(): Promise<GlanceStub> {
  return startStubServer((method, path, base) => {
    const discovery = method === 'GET' && (path === '/' || path === '/versions' || path === '/v2' || path === '/v2/');
    if (!discovery) return { status: 404, body: { message: 'not a Glance: version discovery only' } };
    // Glance answers its root with 300 Multiple Choices and the same document under /v2/.
    const versions = [{ id: 'v2.9', status: 'CURRENT', links: [{ rel: 'self', href: `${base}v2/` }] }];
    return { status: path === '/' ? 300 : 200, body: { versions } };
  });
}
