import { buildQueryString, type HttpHandler, HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import type { NodeHttpHandler, NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import type { HttpHandlerOptions } from '@smithy/types';
import { DirectHttpAgent, UnsupportedResponse } from './direct-http.js';

/**
 * The S3 client's HTTP handler: GetObject over plain HTTP goes through DirectHttpAgent, whose
 * bodies can be read straight into the caller's buffer; everything else, and every GET the
 * direct client cannot frame, goes through the SDK's own Node handler. The SDK still signs,
 * retries and parses errors as before: only the bytes on the wire take another road.
 * NOTE: HTTPS stays on the SDK's handler (`net`'s onread has no TLS counterpart).
 */
export class S3GetHandler implements HttpHandler<NodeHttpHandlerOptions> {
  readonly metadata: { handlerProtocol: string };
  private readonly direct: DirectHttpAgent;

  constructor(
    private readonly standard: NodeHttpHandler,
    maxSockets: number,
    private readonly timeoutMs: number,
  ) {
    this.metadata = standard.metadata;
    this.direct = new DirectHttpAgent(maxSockets);
  }

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    if (!isPlainGetObject(request)) return this.standard.handle(request, options);
    const query = buildQueryString(request.query ?? {});
    const hostname = request.hostname.startsWith('[') ? request.hostname.slice(1, -1) : request.hostname;
    try {
      const res = await this.direct.get({
        host: hostname,
        port: request.port ?? 80,
        path: query ? `${request.path}?${query}` : request.path,
        headers: request.headers,
        timeoutMs: options.requestTimeout ?? this.timeoutMs,
        signal: options.abortSignal as AbortSignal | undefined,
      });
      const response = new HttpResponse({ statusCode: res.statusCode, reason: res.reason, headers: res.headers, body: res.body });
      return { response };
    } catch (err) {
      if (err instanceof UnsupportedResponse) return this.standard.handle(request, options);
      throw err;
    }
  }

  updateHttpClientConfig(key: keyof NodeHttpHandlerOptions, value: NodeHttpHandlerOptions[typeof key]): void {
    this.standard.updateHttpClientConfig(key, value);
  }

  httpHandlerConfigs(): NodeHttpHandlerOptions {
    return this.standard.httpHandlerConfigs();
  }

  destroy(): void {
    this.standard.destroy();
    this.direct.destroy();
  }
}

/** The SDK marks GetObject with `x-id=GetObject`; a GET with credentials in the URL is left alone. */
function isPlainGetObject(request: HttpRequest): boolean {
  return (
    request.method === 'GET' &&
    request.protocol === 'http:' &&
    request.query?.['x-id'] === 'GetObject' &&
    request.username == null &&
    request.password == null &&
    !request.fragment
  );
}
