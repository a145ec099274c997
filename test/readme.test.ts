// Runs the README's commands as written, in order, against a real stack on
// 127.0.0.1: the blocks fenced as ```sh test (run to completion, exit 0),
// ```sh test-verdict (run to completion, exit code that of the decision it
// prints: the latency criterion is a timing, so the test does not insist on
// promote) and ```sh test-background (a server: started, awaited until it
// prints "listening on", stopped at the end). The documented ports are swapped for
// free ones, in the commands and in a copy of examples/envoy-local.yaml, and
// the commands run in a scratch directory so nothing lands in the checkout.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const DOCUMENTED_PORTS = [8700, 8001, 8002, 8003, 10000, 9901];

interface Block {
  kind: 'test' | 'test-verdict' | 'test-background';
  text: string;
}

export function readmeBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```sh (test|test-verdict|test-background)\n([\s\S]*?)^```$/gm)].map((m) => ({ kind: m[1] as Block['kind'], text: m[2]! }));
}

/** The JSON object that starts at `start` (curl prints no newline, so the next output follows on the same line). */
function jsonAt(text: string, start: number): unknown {
  if (start < 0) return null;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return JSON.parse(text.slice(start, i + 1));
  }
  return null;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const children: ChildProcess[] = [];
let scratch: string | undefined;
after(async () => {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          process.kill(-c.pid!, 'SIGTERM');
        }),
    ),
  );
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function run(cmd: string, cwd: string, background: boolean): Promise<{ code: number | null; out: string }> {
  const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', cmd], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (background) children.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (out += s));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`timed out: ${cmd}\n${out}`));
    }, 180_000);
    if (background) {
      child.stdout!.on('data', () => {
        if (/listening on http/.test(out)) {
          clearTimeout(timer);
          resolvePromise({ code: null, out });
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, out });
    });
  });
}

test('README: the shell blocks marked for testing run in order and do what the text says', async () => {
  assert.ok(existsSync(join(ROOT, 'build', 'dist', 'cli', 'main.js')) && existsSync(join(ROOT, 'build', 'shadowmesh.wasm')), 'needs npm run build');
  const blocks = readmeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.ok(blocks.length >= 8, `README has its runnable blocks (${blocks.length})`);

  const ports = new Map<number, number>();
  for (const p of DOCUMENTED_PORTS) ports.set(p, await freePort());
  const swap = (text: string): string => text.replace(new RegExp(`\\b(${DOCUMENTED_PORTS.join('|')})\\b`, 'g'), (p) => String(ports.get(Number(p))));

  scratch = mkdtempSync(join(tmpdir(), 'shadowmesh-readme-'));
  for (const name of ['bin', 'build', 'models', 'node_modules', 'package.json', 'src']) symlinkSync(join(ROOT, name), join(scratch, name));
  mkdirSync(join(scratch, 'examples'));
  copyFileSync(join(ROOT, 'examples', 'rules.yaml'), join(scratch, 'examples', 'rules.yaml'));
  writeFileSync(join(scratch, 'examples', 'envoy-local.yaml'), swap(readFileSync(join(ROOT, 'examples', 'envoy-local.yaml'), 'utf8')));

  const outputs: string[] = [];
  for (const block of blocks) {
    const cmd = swap(block.text);
    const r = await run(cmd, scratch, block.kind === 'test-background');
    if (block.kind === 'test') assert.equal(r.code, 0, `exit code of:\n${cmd}\n${r.out}`);
    if (block.kind === 'test-verdict') {
      const decision = /^route predict: (PROMOTE|HOLD|REJECT) /m.exec(r.out)?.[1];
      assert.ok(decision, `a decision printed by:\n${cmd}\n${r.out}`);
      assert.equal(r.code, { PROMOTE: 0, HOLD: 2, REJECT: 3 }[decision], `exit code of ${decision}`);
    }
    outputs.push(r.out);
  }
  const all = outputs.join('\n');
  // The request with its own id: production answered, and the debug header hands the id back.
  assert.match(all, /^HTTP\/1\.1 200/m);
  assert.match(all, /^x-shadow-correlation-id: my-first-request\r?$/m);
  assert.match(all, /"model_version":"v1"/);
  assert.match(all, /sent 600 held-out days to http:\/\/127\.0\.0\.1:\d+\/predict: 600 answered, 0 failed/);
  assert.match(all, /posted 300 true labels/);
  // The pair of that request, both sides present.
  const pair = jsonAt(all, all.indexOf('{"id":"my-first-request"')) as { production: unknown; shadow: unknown } | null;
  assert.ok(pair?.production && pair.shadow, 'GET /v1/pairs/my-first-request has both sides');
  // The counting criteria hold after the documented traffic (600 pairs, about 98% adjusted matches).
  const verdict = jsonAt(all, all.indexOf('{"decision"')) as { reasons: { criterion: string; ok: boolean | null }[] } | null;
  assert.ok(verdict, 'GET /v1/verdict printed');
  for (const c of ['min_pairs', 'min_join_rate', 'min_match_rate', 'max_error_rate_delta']) {
    assert.equal(verdict.reasons.find((x) => x.criterion === c)?.ok, true, `${c}: ${JSON.stringify(verdict.reasons)}`);
  }
  assert.match(all, /shadowmesh_pairs_total\{route="predict"\} \d+/);
  assert.match(all, /wasm\.shadowmesh\.metric\.shadowmesh_mirrored_total: \d+/);
  assert.ok(existsSync(join(scratch, '.shadowmesh', 'collector.db')), 'the collector keeps its data where the README says');
});
