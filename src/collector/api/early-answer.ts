// Answers given before the request body was read (413 from content-length, 401 from
// onRequest, or a limit hit mid-stream) must reach a client that writes its whole
// body before it reads. Closing the socket while request bytes are still arriving
// makes the kernel send a reset, and a reset discards the answer the client has not
// read yet. So the connection is kept open after such an answer and the rest of the
// body is read and thrown away; only a client that keeps sending beyond a bound (in
// bytes or time) is cut off, and by then the answer has long been flushed.
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';

export interface EarlyAnswerLimits {
  /** Bytes read and discarded after the answer before the connection is closed. */
  drainBytes: number;
  /** How long the rest of the body may take before the connection is closed. */
  drainMs: number;
}

export const DEFAULT_EARLY_ANSWER_LIMITS: EarlyAnswerLimits = { drainBytes: 64 * 1024 * 1024, drainMs: 10_000 };

export function registerEarlyAnswerDrain(app: FastifyInstance, limits: EarlyAnswerLimits = DEFAULT_EARLY_ANSWER_LIMITS): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.raw.complete && reply.getHeader('connection') === 'close') {
      // Node would end the socket as soon as the answer is written; let it drain instead.
      reply.removeHeader('connection');
    }
    return payload;
  });
  app.addHook('onResponse', async (req) => {
    if (!req.raw.complete) boundDrain(req.raw, limits);
  });
}

/** Node reads and discards the unread body of a finished exchange; this only bounds it. */
function boundDrain(req: IncomingMessage, limits: EarlyAnswerLimits): void {
  const socket = req.socket;
  const startBytes = socket.bytesRead;
  const deadline = Date.now() + limits.drainMs;
  const timer = setInterval(() => {
    if (socket.destroyed || req.complete) return stop();
    if (socket.bytesRead - startBytes > limits.drainBytes || Date.now() > deadline) {
      socket.destroy();
      stop();
    }
  }, 100);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    req.off('end', stop);
    socket.off('close', stop);
  };
  req.once('end', stop);
  socket.once('close', stop);
}
