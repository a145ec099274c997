// Talks to a running collector for the CLI's verdict, pause and resume. Every
// failure becomes a CliError with one line a person reads.
export class CliError extends Error {}

export interface ClientOptions {
  url: string;
  token?: string;
  timeoutMs?: number;
}

/** Network failures (collector down, refused, timed out), as opposed to answers. */
export class UnreachableError extends CliError {}

export async function requestJson(o: ClientOptions, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<unknown> {
  let base: URL;
  try {
    base = new URL(o.url);
  } catch {
    throw new CliError(`--url ${o.url} is not a URL`);
  }
  const target = new URL(path, base.href.endsWith('/') ? base.href : base.href + '/');
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(target, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new UnreachableError(`cannot reach the collector at ${o.url}: ${why}`);
  }
  const text = await res.text();
  if (res.status === 401) throw new CliError(`the collector at ${o.url} refused the token (401)${o.token ? '' : '; pass --token'}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`the collector at ${o.url} answered ${res.status} with a body that is not JSON`);
  }
  if (res.status !== 200) {
    const error = (json as { error?: unknown } | null)?.error;
    throw new CliError(`the collector answered ${res.status}${typeof error === 'string' ? `: ${error}` : ''}`);
  }
  return json;
}
