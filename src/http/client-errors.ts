import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { faultBody } from './faults.js';

/** A listener's error body for a status and a message (Cinder's fault, CBR's error_code/error_msg). */
export type ClientErrorBody = (status: number, message: string) => unknown;

/**
 * A Fastify `clientErrorHandler`: errors Node's HTTP parser raises before any request exists
 * (a header block over the limit, a malformed request line, a request that took too long)
 * answered with the listener's own error body instead of Fastify's, then the connection is
 * closed. Each answer carries a fresh request id in `requestIdHeader`, as the listener's other
 * responses do.
 */
export function clientErrorHandlerWith(
  render: ClientErrorBody,
  requestIdHeader: string,
): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
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
    const body = JSON.stringify(render(status, message));
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${requestIdHeader}: req-${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  };
}

/** The Cinder listener's: Cinder fault bodies ({"badRequest": {"code": 400, "message": ...}}). */
export const cinderClientErrorHandler = clientErrorHandlerWith(faultBody, 'X-OpenStack-Request-Id');
