// docker-compose.yml and the Dockerfile, checked without a Docker engine: the
// file parses, every path it mounts exists once the project is built, the
// services line up with envoy/envoy.yaml, the collector and models run in the
// image built with its own `npm ci` (no host node_modules), and the
// observability profile's Prometheus config passes promtool.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { loadEnvoyConfig } from '../../src/sidecar/index.js';
import { FILTER_WASM, REPO, type Manifest, requireFilterWasm, yamlDocs } from './support.js';

const compose = parseDocument(readFileSync(`${REPO}docker-compose.yml`, 'utf8'), { merge: true, strict: true }).toJS() as Manifest;
const services = compose.services as Record<string, Manifest>;

interface Mount {
  service: string;
  source: string;
  target: string;
  bind: boolean;
}

/** Short volume syntax "SRC:TARGET[:MODE]": a source starting with . or / is a bind mount, else a named volume. */
function mounts(): Mount[] {
  return Object.entries(services).flatMap(([service, s]) =>
    ((s.volumes ?? []) as string[]).map((v) => {
      const [source, target] = v.split(':') as [string, string];
      return { service, source, target, bind: source.startsWith('.') || source.startsWith('/') };
    }),
  );
}

const repoPath = (source: string): string => join(REPO, source);

function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('docker-compose.yml', () => {
  it('has envoy, the three models, the collector, and the observability profile', () => {
    for (const name of ['envoy', 'production', 'shadow', 'baseline', 'collector']) {
      assert.ok(services[name], name);
      assert.equal(services[name]!.profiles, undefined, `${name} starts with a plain docker compose up`);
    }
    assert.deepEqual(services.prometheus!.profiles, ['observability']);
    assert.deepEqual(services.grafana!.profiles, ['observability']);
  });

  it('every bind-mounted path exists in the repository after a build', () => {
    requireFilterWasm();
    const missing = mounts().filter((m) => m.bind && !existsSync(repoPath(m.source)));
    assert.deepEqual(missing.map((m) => `${m.service}: ${m.source}`), []);
    const named = new Set(Object.keys(compose.volumes ?? {}));
    for (const m of mounts().filter((x) => !x.bind)) assert.ok(named.has(m.source), `${m.service}: volume ${m.source} is declared`);
  });

  it('never mounts the repository or a node_modules into a container', () => {
    for (const m of mounts()) {
      assert.notEqual(m.source.replace(/\/$/, ''), '.', `${m.service} mounts the whole repository`);
      assert.doesNotMatch(m.source, /node_modules/, `${m.service}: ${m.source}`);
    }
  });

  it('the collector and the models run the image built from the Dockerfile', () => {
    for (const name of ['collector', 'production', 'shadow', 'baseline']) {
      const s = services[name]!;
      assert.deepEqual(s.build, { context: '.', dockerfile: 'Dockerfile' }, name);
      assert.equal(s.user, undefined, `${name} runs as the image's non-root user`);
    }
  });

  it('the models are `shadowmesh model` v1, v2 and v1 again on the ports envoy.yaml routes to', () => {
    const bootstrap = loadEnvoyConfig(`${REPO}envoy/envoy.yaml`, { wasmPath: FILTER_WASM_OR_ANY });
    const expected: Record<string, string> = { production: 'v1', shadow: 'v2', baseline: 'v1' };
    for (const [name, version] of Object.entries(expected)) {
      const cmd = services[name]!.command as string[];
      assert.equal(cmd[0], 'model', name);
      assert.equal(cmd[cmd.indexOf('--version') + 1], version, name);
      assert.equal(cmd[cmd.indexOf('--host') + 1], '0.0.0.0', `${name} listens beyond the container's loopback`);
      const ep = bootstrap.clusters.get(name)!.endpoints[0]!;
      assert.equal(ep.address, name, `cluster ${name} resolves the compose service name`);
      assert.equal(cmd[cmd.indexOf('--port') + 1], String(ep.port), `${name} listens where envoy.yaml sends it`);
    }
  });

  it('the collector listens on all interfaces with the mounted rules file and a volume for its database', () => {
    const cmd = services.collector!.command as string[];
    assert.equal(cmd[0], 'collector');
    assert.equal(cmd[cmd.indexOf('--host') + 1], '0.0.0.0');
    const config = cmd[cmd.indexOf('--config') + 1]!;
    const rules = mounts().find((m) => m.service === 'collector' && m.target === config);
    assert.ok(rules, `--config ${config} is a mounted file`);
    assert.equal(rules!.source, './examples/rules.yaml');
    const db = cmd[cmd.indexOf('--db') + 1]!;
    assert.ok(mounts().some((m) => m.service === 'collector' && !m.bind && db.startsWith(`${m.target}/`)), `--db ${db} lives on a named volume`);
    const bootstrap = loadEnvoyConfig(`${REPO}envoy/envoy.yaml`, { wasmPath: FILTER_WASM_OR_ANY });
    assert.equal(String(bootstrap.clusters.get('collector')!.endpoints[0]!.port), cmd[cmd.indexOf('--port') + 1]);
  });

  it('Envoy is the official image at a pinned version, with envoy.yaml and the .wasm where the bootstrap expects them', () => {
    for (const name of ['envoy', 'envoy-mirror']) {
      const s = services[name]!;
      assert.match(s.image, /^envoyproxy\/envoy:v\d+\.\d+\.\d+$/, `${name}: ${s.image}`);
      const config = (s.command as string[])[(s.command as string[]).indexOf('-c') + 1]!;
      const bootstrapMount = mounts().find((m) => m.service === name && m.target === config)!;
      assert.ok(bootstrapMount, `${name}: -c ${config} is mounted`);
      const text = readFileSync(repoPath(bootstrapMount.source), 'utf8');
      const filenames = [...text.matchAll(/filename: (\S+)/g)].map((m) => m[1]!);
      assert.ok(filenames.length > 0);
      for (const f of filenames) {
        const wasm = mounts().find((m) => m.service === name && m.target === f);
        assert.equal(wasm?.source, './build/shadowmesh.wasm', `${name}: ${f} is the built filter`);
      }
    }
  });

  it('Prometheus scrapes the collector and Envoy admin, and loads the mounted alert rules', () => {
    const prom = mounts().filter((m) => m.service === 'prometheus');
    const configMount = prom.find((m) => m.target === '/etc/prometheus/prometheus.yml')!;
    const [config] = yamlDocs(configMount.source.replace(/^\.\//, ''));
    const targets = (config!.scrape_configs as Manifest[]).map((j) => ({ path: j.metrics_path, targets: j.static_configs[0].targets }));
    assert.deepEqual(targets, [
      { path: '/metrics', targets: ['collector:8700'] },
      { path: '/stats/prometheus', targets: ['envoy:9901'] },
    ]);
    for (const rule of config!.rule_files as string[]) {
      const target = rule.startsWith('/') ? rule : `/etc/prometheus/${rule}`;
      const m = prom.find((x) => x.target === target);
      assert.equal(m?.source, './observability/prometheus/alerts.yaml', `rule file ${rule} is mounted`);
    }
  });

  it('promtool accepts the Prometheus config with the rules laid out as in the container', {
    skip: !promtoolAvailable() ? 'promtool is not installed' : !existsSync(`${REPO}observability/prometheus/alerts.yaml`) ? 'observability/prometheus/alerts.yaml is not there yet' : false,
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'shadowmesh-prom-'));
    try {
      copyFileSync(`${REPO}deploy/compose/prometheus.yml`, join(dir, 'prometheus.yml'));
      copyFileSync(`${REPO}observability/prometheus/alerts.yaml`, join(dir, 'alerts.yaml'));
      const out = execFileSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      assert.match(out, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Grafana is provisioned with the Prometheus data source and the mounted dashboard', () => {
    const g = mounts().filter((m) => m.service === 'grafana');
    const prov = g.find((m) => m.target === '/etc/grafana/provisioning')!;
    const [ds] = yamlDocs(`${prov.source.replace(/^\.\//, '')}/datasources/prometheus.yaml`);
    assert.equal(ds!.datasources[0].url, 'http://prometheus:9090');
    const [dash] = yamlDocs(`${prov.source.replace(/^\.\//, '')}/dashboards/shadowmesh.yaml`);
    const dir = dash!.providers[0].options.path as string;
    const json = g.find((m) => m.target.startsWith(`${dir}/`) && m.target.endsWith('.json'));
    assert.equal(json?.source, './observability/grafana/shadowmesh.json');
  });
});

// The bootstrap names /etc/shadowmesh/shadowmesh.wasm; any existing file stands in for it here.
const FILTER_WASM_OR_ANY = existsSync(FILTER_WASM) ? FILTER_WASM : `${REPO}package.json`;

describe('Dockerfile', () => {
  const text = readFileSync(`${REPO}Dockerfile`, 'utf8');
  const stages = text.split(/^FROM /m).slice(1).map((s) => `FROM ${s}`);

  it('is multi-stage: npm ci and the build in one stage, a runtime stage copying from it', () => {
    assert.ok(stages.length >= 2, 'at least two stages');
    assert.match(stages[0]!, /^FROM \S+ AS build$/m);
    assert.match(stages[0]!, /^RUN npm ci\b/m);
    assert.match(stages[0]!, /npm run build/);
    assert.match(stages[0]!, /npm prune --omit=dev/);
    const runtime = stages.at(-1)!;
    assert.match(runtime, /^COPY --from=build /m);
    assert.doesNotMatch(runtime, /^RUN npm (ci|install)\b/m);
  });

  it('runs as a non-root user', () => {
    const users = [...stages.at(-1)!.matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    assert.ok(users.length > 0, 'the runtime stage sets USER');
    assert.ok(!['root', '0'].includes(users.at(-1)!), `USER ${users.at(-1)}`);
  });

  it('the build context leaves out the host node_modules and build output', () => {
    const ignored = readFileSync(`${REPO}.dockerignore`, 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['node_modules', 'build', '.git']) assert.ok(ignored.includes(p), p);
  });

  it('the pruned image has every package the CLI loads at start (static imports are dependencies, not devDependencies)', () => {
    const pkg = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')) as { dependencies: Record<string, string> };
    const files = (readdirSync(`${REPO}src`, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 10);
    const missing = new Set<string>();
    for (const f of files) {
      const text = readFileSync(`${REPO}src/${f}`, 'utf8');
      const specifiers = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'([^']+)'/gms)].map((m) => m[1]!),
        ...[...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]!),
        // Static imports load when the CLI starts, whatever the subcommand; a lazy
        // import() of a dev-only package inside one subcommand (the demo's) is allowed.
        ...[...text.matchAll(/\brequire\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specifiers) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!pkg.dependencies[name]) missing.add(`${name} (src/${f})`);
      }
    }
    assert.deepEqual([...missing], [], 'npm prune --omit=dev would remove these');
  });

  it('starts the CLI, so compose commands are shadowmesh subcommands', () => {
    assert.match(text, /^ENTRYPOINT \["node", "bin\/shadowmesh\.js"\]$/m);
  });
});
