// A deliberately crude HTTP client over a raw socket: it writes the whole request
// (headers and body) before it looks at the answer, the way a batch uploader or a
// proxy does, and reports what came back and whether the connection was reset.
import { connect } from 'node:net';

export interface RawAnswer {
  /** Everything the server sent, as text. */
  text: string;
  status: number | null;
  /** The socket's error code, e.g. ECONNRESET or EPIPE, when there was one. */
  error: string | null;
}

export function rawRequest(url: string, head: string, body: Buffer | string | (Buffer | string)[], timeoutMs = 20_000): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const timer = setTimeout(() => socket.destroy(new Error('raw request timed out')), timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ text, status: m ? Number(m[1]) : null, error });
    });
    socket.on('connect', () => {
      socket.write(head);
      for (const part of Array.isArray(body) ? body : [body]) socket.write(part);
      // Half-close: the request is complete; the server answers and closes.
      socket.end();
    });
  });
}
