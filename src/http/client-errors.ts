import type { Socket } from 'node:net';
import { faultBody } from './faults.js';

/**
 * Fastify's `clientErrorHandler`: errors Node's HTTP parser raises before any request
 * exists (a header block over the limit, a malformed request line) answered with a Cinder
 * fault body instead of Fastify's own, then the connection is closed.
 */
export function cinderClientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, text, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request line or headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request took too long to arrive.']
        : [400, 'Bad Request', 'Malformed request.'];
  const body = JSON.stringify(faultBody(status, message));
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
