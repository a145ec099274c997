// The compose stack without Docker: the collector and the three models started
// with docker-compose.yml's own commands through the image's entry point
// (node bin/shadowmesh.js), addresses moved to 127.0.0.1 and free ports, and
// envoy/envoy.yaml (the bootstrap compose gives real Envoy) run by the local
// sidecar. Every request is answered by production v1, and the collector
// receives production, shadow and baseline sides for each.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { type RunningSidecar, startSidecar } from '../../src/sidecar/index.js';
import { FILTER_WASM, REPO, type Manifest, requireFilterWasm } from './support.js';

const compose = parseDocument(readFileSync(`${REPO}docker-compose.yml`, 'utf8'), { merge: true }).toJS() as Manifest;
const services = compose.services as Record<string, Manifest>;
const tmp = mkdtempSync(join(tmpdir(), 'shadowmesh-compose-'));
const REQUESTS = 20;

interface Running {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
}

/** The service's compose command, with what only makes sense inside a container moved to this machine. */
function localArgs(name: string): string[] {
  const args = [...(services[name]!.command as string[])];
  const mounts = new Map(((services[name]!.volumes ?? []) as string[]).map((v) => v.split(':') as [string, string]).map(([src, dst]) => [dst, src]));
  const set = (flag: string, value: string): void => {
    const i = args.indexOf(flag);
    if (i >= 0) args[i + 1] = value;
  };
  set('--host', '127.0.0.1');
  set('--port', '0');
  set('--db', join(tmp, `${name}.db`));
  const config = args.indexOf('--config');
  if (config >= 0) {
    const source = mounts.get(args[config + 1]!);
    assert.ok(source, `${name}: --config ${args[config + 1]} is a mounted file`);
    args[config + 1] = join(REPO, source!);
  }
  return args;
}

function start(name: string): Promise<Running> {
  const child = spawn(process.execPath, [join(REPO, 'bin/shadowmesh.js'), ...localArgs(name)], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no "listening on" line: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child, output: () => out });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}: ${out}`));
    });
  });
}

interface Side {
  production: number;
  shadow: number;
  baseline: number;
  pairs: number;
}

describe('the compose stack on the local sidecar', () => {
  before(requireFilterWasm);
  const running = new Map<string, Running>();
  let sidecar: RunningSidecar | undefined;

  before(async () => {
    for (const name of ['collector', 'production', 'shadow', 'baseline']) running.set(name, await start(name));
    const hostOf = (name: string): string => new URL(running.get(name)!.url).host;
    sidecar = await startSidecar({
      envoyConfigPath: `${REPO}envoy/envoy.yaml`,
      wasmPath: FILTER_WASM,
      listenAddress: '127.0.0.1',
      listenerPorts: { ingress: 0 },
      adminPort: 0,
      resolve: { production: hostOf('production'), shadow: hostOf('shadow'), baseline: hostOf('baseline'), collector: hostOf('collector') },
      log: () => {},
    });
  });

  after(async () => {
    await sidecar?.close();
    await Promise.all([...running.values()].map((r) => new Promise<void>((resolve) => {
      if (r.child.exitCode !== null) return resolve();
      r.child.once('exit', () => resolve());
      r.child.kill('SIGTERM');
    })));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('production answers every request; the collector gets production, shadow and baseline sides of each', async () => {
    const rows = (JSON.parse(readFileSync(`${REPO}models/holdout.json`, 'utf8')) as { rows: Array<Record<string, unknown>> }).rows.slice(0, REQUESTS);
    assert.equal(rows.length, REQUESTS);
    for (const { label: _label, ...input } of rows) {
      const res = await fetch(`${sidecar!.url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
      const body = (await res.json()) as { model_version?: string };
      assert.equal(res.status, 200);
      assert.equal(body.model_version, 'v1', 'the answer comes from production');
    }
    const collector = running.get('collector')!.url;
    let total: Side | undefined;
    for (let polls = 0; polls < 200; polls++) {
      total = ((await (await fetch(`${collector}/v1/stats`)).json()) as { total: Side }).total;
      if (total.pairs >= REQUESTS && total.baseline >= REQUESTS) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(
      { production: total!.production, shadow: total!.shadow, baseline: total!.baseline, pairs: total!.pairs },
      { production: REQUESTS, shadow: REQUESTS, baseline: REQUESTS, pairs: REQUESTS },
    );
    const verdict = (await (await fetch(`${collector}/v1/verdict`)).json()) as { decision: string; criteria: { min_pairs: number } };
    assert.equal(verdict.decision, 'hold', `${REQUESTS} pairs are fewer than the rules file's min_pairs`);
    assert.equal(verdict.criteria.min_pairs, 500, 'the collector runs with examples/rules.yaml');
  });
});
