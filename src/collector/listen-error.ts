// Why the collector could not open its port, in words an operator acts on.
const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use (another collector? pick another --port)',
  EACCES: 'permission denied (ports below 1024 need privileges; pick another --port)',
  EADDRNOTAVAIL: 'the address is not available on this machine (check --host)',
  ENOTFOUND: 'the host name does not resolve (check --host)',
};

export function describeListenError(err: unknown, host: string, port: number): string {
  const code = (err as { code?: string }).code ?? '';
  const reason = REASONS[code] ?? (err as Error).message.split('\n')[0];
  return `cannot listen on ${host}:${port}: ${reason}`;
}
