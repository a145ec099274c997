// HTTP helpers for the decision features (feedback, verdict, control) of a running collector.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export async function send(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: string; contentType?: string } = {},
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export const feedback = (url: string, items: unknown, opts: { token?: string; contentType?: string } = {}) =>
  send(url, 'POST', '/v1/feedback', items, opts);

export function writeConfig(dir: string, config: unknown, name = 'config.json'): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(config));
  return file;
}
