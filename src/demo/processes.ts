// Child processes the demo starts (the model servers, with the same
// `shadowmesh model` command a user runs) and stops again, also when the demo
// itself exits abruptly.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from './package-root.js';

/** How to run this CLI again: the built one from build/dist, or the sources through tsx. */
export function cliCommand(): string[] {
  const root = packageRoot();
  return fileURLToPath(import.meta.url).endsWith('.ts')
    ? [process.execPath, '--import', 'tsx', join(root, 'src', 'cli', 'main.ts')]
    : [process.execPath, join(root, 'bin', 'shadowmesh.js')];
}

/** Set for children started here: they exit when their stdin closes. */
export const EXIT_WITH_PARENT = 'SHADOWMESH_EXIT_WITH_PARENT';

export interface Child {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGTERM');
});

/** Starts `shadowmesh ARGS…` and resolves once it prints `listening on URL`. */
export function startCli(args: string[], name: string, timeoutMs = 60_000): Promise<Child> {
  const [cmd, ...pre] = cliCommand();
  // The child watches its stdin: when this process ends in any way (also SIGKILL),
  // the pipe closes and the child stops itself, so nothing is left behind.
  const child = spawn(cmd!, [...pre, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, [EXIT_WITH_PARENT]: '1' } });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise<Child>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not start within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, pid: child.pid!, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening: ${err.trim()}`));
    });
  });
}
