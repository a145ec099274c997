// Envoy's limits on a request's headers, with its defaults (HttpConnectionManager
// max_request_headers_kb = 60, common_http_protocol_options.max_headers_count = 100).
// Over either limit Envoy's HTTP/1 codec answers 431 and closes the connection; the
// request never reaches a filter. Node's own defaults differ (16 KiB, and beyond 2000
// headers it silently drops the rest), so the sidecar sets Envoy's.
import type { IncomingMessage, ServerOptions, ServerResponse } from 'node:http';

export const MAX_REQUEST_HEADERS_BYTES = 60 * 1024;
export const MAX_HEADERS_COUNT = 100;

/** Options for node's HTTP server: the size limit is enforced by its parser (431). */
export const headerLimitServerOptions: ServerOptions = { maxHeaderSize: MAX_REQUEST_HEADERS_BYTES };

/**
 * Answers 431 and returns true when the request has more headers than Envoy allows.
 * rawHeaders holds name, value, name, value, … as received.
 */
export function refuseTooManyHeaders(req: IncomingMessage, res: ServerResponse, serverName: string): boolean {
  if (req.rawHeaders.length / 2 <= MAX_HEADERS_COUNT) return false;
  const body = 'Request Header Fields Too Large';
  res.writeHead(431, { 'content-length': Buffer.byteLength(body), 'content-type': 'text/plain', server: serverName, connection: 'close' });
  res.end(body);
  // Nothing of this request goes anywhere: drop whatever body follows.
  req.resume();
  return true;
}
