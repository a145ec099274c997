// Starts the real collector CLI as a child process on 127.0.0.1 and talks HTTP to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface Running {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  /** SIGTERM (or the given signal) and wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL (crash) and wait for exit. */
  kill9(): Promise<void>;
}

export function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-collector-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((res) => proc.once('exit', (code) => res(code)));
}

/** Runs `shadowmesh collector ARGS` (with `env` added to this process's) and resolves once it prints its address. */
export function startCollector(args: string[], t?: { after: (fn: () => Promise<unknown>) => void }, env?: NodeJS.ProcessEnv): Promise<Running> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'collector', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: env ? { ...process.env, ...env } : process.env,
  });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const running = new Promise<Running>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`collector did not start in time; stderr: ${err}`));
    }, 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({
          url: m[1]!,
          proc,
          stderr: () => err,
          async stop(signal: NodeJS.Signals = 'SIGTERM') {
            proc.kill(signal);
            return exited(proc);
          },
          async kill9() {
            proc.kill('SIGKILL');
            await exited(proc);
          },
        });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`collector exited with ${code} before listening; stderr: ${err}`));
    });
  });
  t?.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited(proc);
    }
  });
  return running;
}

/** Runs the CLI to completion (for start-up failures) and returns its exit code and stderr. */
export function runCollectorToExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'collector', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  return exited(proc).then((code) => {
    clearTimeout(timer);
    return { code, stderr: err };
  });
}

export interface RecordInput {
  id: string;
  /** Not only the valid roles: tests send bad ones on purpose. */
  role: string;
  route?: string;
  status?: number;
  latency_ms?: number;
  response_body?: string | null;
  [k: string]: unknown;
}

export function rec(r: RecordInput): Record<string, unknown> {
  return { v: 1, route: 'predict', method: 'POST', path: '/predict', status: 200, latency_ms: 10, ts_ms: 1_700_000_000_000, ...r };
}

export async function post(
  url: string,
  body: unknown,
  opts: { token?: string; contentType?: string } = {},
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${url}/v1/records`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function get(url: string, path: string, token?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

export async function stats(url: string, route?: string): Promise<any> {
  const r = await get(url, route ? `/v1/stats?route=${encodeURIComponent(route)}` : '/v1/stats');
  if (r.status !== 200) throw new Error(`stats answered ${r.status}`);
  return r.json;
}

/** Polls until `check` passes; the deadline only bounds the test, it is not what is asserted. */
export async function eventually<T>(fn: () => Promise<T>, check: (v: T) => boolean, deadlineMs = 10_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await fn();
    if (check(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}
