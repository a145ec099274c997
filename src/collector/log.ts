// The collector's structured log (pino, one JSON object a line, on stderr so that
// stdout keeps the one line a script reads: "listening on …"). What is logged:
// start, stop, configuration problems and internal errors (with the request id).
// Never record contents or tokens: request headers are not logged at all, and a
// database URL loses its password.
import { pino, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type CollectorLogger = Logger;

export function collectorLogger(level: LogLevel = 'info', fd = 2): CollectorLogger {
  return pino(
    {
      level,
      base: { pid: process.pid, component: 'collector' },
      // Defence in depth: nothing logs headers, and should something start to, tokens stay out.
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'token', 'readToken'], censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    // Synchronous: the last lines before an exit (a stop, a fatal problem) are not lost.
    pino.destination({ dest: fd, sync: true }),
  );
}

/** A logger that writes nothing (in-process collectors of tests and the demo). */
export function silentLogger(): CollectorLogger {
  return pino({ level: 'silent' });
}

/** The database as it may be logged: a postgres URL without its password. */
export function loggableDb(db: string): string {
  return db.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/i, '$1:[redacted]@');
}

/** An error as logged: its class, message and stack (never the input that caused it). */
export function internalErrorFields(err: unknown): { err: { type: string; message: string; stack?: string } } {
  // Bounded: a message should not carry input, and if one ever does, only a little of it.
  const cut = (s: string): string => (s.length > 300 ? s.slice(0, 300) + '…' : s);
  if (err instanceof Error) return { err: { type: err.name, message: cut(err.message), stack: err.stack?.split('\n').slice(1).join('\n') } };
  return { err: { type: typeof err, message: cut(String(err)) } };
}
