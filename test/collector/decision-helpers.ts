// HTTP helpers for the decision features (feedback, verdict, control) of a running collector.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

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

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running `shadowmesh ARGS` process; `done` resolves when it exits. */
export function startCli(args: string[]): { done: Promise<CliRun>; stderr: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const done = new Promise<CliRun>((res) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr });
    }),
  );
  return { done, stderr: () => stderr };
}

export const runCli = (args: string[]): Promise<CliRun> => startCli(args).done;

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
