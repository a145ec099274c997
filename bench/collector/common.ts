// Shared pieces of the collector benchmarks: start the real CLI, post over a
// keep-alive agent, read the server process's RSS from /proc (its CPU time:
// ../proc-cpu.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** SHADOWMESH_BENCH_SERVER_STDOUT=FILE: each collector's stdout is appended there (with --trace-gc-nvp in SHADOWMESH_BENCH_NODE_ARGS: every thread's GC). */
const STDOUT_COPY = process.env.SHADOWMESH_BENCH_SERVER_STDOUT;

export interface Server {
  url: URL;
  proc: ChildProcess;
  /** The main thread's GC pauses (ms, by kind) printed since the last take, when started with --trace-gc. */
  takeGcPauses(): { kind: string; ms: number }[];
  stop(): Promise<void>;
}

/** `root`: the source tree whose collector runs (another checkout, for before/after in one run). */
export function startServer(args: string[], nodeArgs: string[] = [], root = ROOT): Promise<Server> {
  // Warnings and errors only: the start and stop lines would interleave with the tables.
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/cli/main.ts', 'collector', '--port', '0', '--log-level', 'warn', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((res, rej) => {
    let out = '';
    let listening = false;
    let mainIsolate: string | undefined;
    let gc: { kind: string; ms: number }[] = [];
    let partial = '';
    proc.stdout!.on('data', (d: Buffer) => {
      if (STDOUT_COPY) appendFileSync(STDOUT_COPY, d);
      // --trace-gc lines: only the main thread's isolate is kept, the first to collect
      // (it loads every module at start; the workers' isolates have other addresses).
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const m = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Minor Mark-Sweep)\b.*? MB, ([\d.]+) \/ [\d.]+ ms/.exec(line);
        if (m && (mainIsolate ??= m[1]) === m[1]) gc.push({ kind: m[2]!, ms: Number(m[3]) });
      }
      if (listening) return;
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        listening = true;
        res({
          url: new URL(m[1]!),
          proc,
          takeGcPauses: () => {
            const taken = gc;
            gc = [];
            return taken;
          },
          stop: () =>
            new Promise<void>((done) => {
              proc.once('exit', () => done());
              proc.kill('SIGTERM');
            }),
        });
      }
    });
    proc.once('exit', (code) => rej(new Error(`collector exited with ${code}`)));
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** `body` as bytes when the same body is sent often: a string is encoded again for every call. */
export function httpCall(url: URL, method: string, path: string, body?: string | Buffer): Promise<{ status: number; text: string }> {
  return new Promise((res, rej) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', rej);
    if (body) req.write(body);
    req.end();
  });
}

/**
 * A full collection of this process, now (node's --expose-gc, turned on here): after
 * building a workload, so that its garbage is not collected during a measured run,
 * where this process shares the cores with the collector.
 */
export function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
  return kb / 1024;
}

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(cells[0]!), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n');
}
