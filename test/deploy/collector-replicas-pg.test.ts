// envoy/istio/collector.yaml run for real, as far as this machine can: the
// Deployment's container arguments, with $(VAR) expanded from its env the way the
// kubelet does (the Secret's URL pointing at a throw-away PostgreSQL cluster) and
// the ConfigMap's rules file, start `replicas` collector processes; a per-request
// round-robin balancer stands in for the Service (Istio balances HTTP per request);
// the probes and the ServiceMonitor's path answer on every replica, sides sent to
// different replicas pair, and a disruption the PodDisruptionBudget allows leaves
// the rest serving. Only the listen address (loopback, any free port) is changed.
// Skipped, with the reason, where PostgreSQL cannot be started.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBalancer } from '../support/balancer.js';
import { pgClusterPerFile, pgSkip } from '../support/pg-test-cluster.js';
import { get, post, rec, startCollector, type Running } from '../collector/helpers.js';
import { statsEverywhere } from '../collector/pg-helpers.js';
import { type Manifest, yamlDocs } from './support.js';

const cluster = pgClusterPerFile();

const FILE = 'envoy/istio/collector.yaml';
const docs = yamlDocs(FILE);
const one = (kind: string): Manifest => {
  const found = docs.filter((d) => d.kind === kind && d.metadata?.name === 'shadowmesh-collector');
  assert.equal(found.length, 1, `${FILE}: one ${kind} shadowmesh-collector`);
  return found[0]!;
};

/** The kubelet's expansion of $(VAR) in args: only variables the container defines; $$ escapes. */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in env ? env[name]! : m));
}

/** Where the manifest's ConfigMaps come from (the kubectl commands in the file's header). */
const CONFIGMAP_SOURCES: Record<string, Record<string, string>> = { 'shadowmesh-rules': { 'rules.yaml': 'examples/rules.yaml' } };

test('the collector manifest: its arguments start the replicas on PostgreSQL, the Service spreads over them, a PDB-allowed disruption leaves the rest serving', { skip: pgSkip }, async (t) => {
  const deployment = one('Deployment');
  const pdb = one('PodDisruptionBudget');
  const service = one('Service');
  const monitor = one('ServiceMonitor');
  const pod = deployment.spec.template.spec;
  const c = pod.containers[0];
  const dbUrl = await cluster().createDatabase('collector_manifest');
  const secrets: Record<string, Record<string, string>> = { 'shadowmesh-postgres': { url: dbUrl } };

  const env: Record<string, string> = {};
  for (const e of c.env as Manifest[]) {
    const ref = e.valueFrom?.secretKeyRef;
    assert.ok(ref, `${e.name} comes from a Secret`);
    const value = secrets[ref.name]?.[ref.key];
    assert.ok(value !== undefined, `Secret ${ref.name} key ${ref.key} is the one the header tells you to create`);
    env[e.name] = value;
  }
  const mountFile = (path: string): string => {
    for (const m of c.volumeMounts as Manifest[]) {
      if (!path.startsWith(`${m.mountPath}/`)) continue;
      const volume = (pod.volumes as Manifest[]).find((v) => v.name === m.name);
      const source = CONFIGMAP_SOURCES[volume?.configMap?.name]?.[path.slice(m.mountPath.length + 1)];
      if (source) return source;
    }
    return path;
  };
  let args = (c.args as string[]).map((a) => expand(a, env));
  assert.equal(args[0], 'collector');
  args = args.slice(1);
  const flag = (name: string): number => {
    const i = args.indexOf(name);
    assert.ok(i >= 0, `${name} is set`);
    return i + 1;
  };
  assert.equal(args[flag('--db')], dbUrl, 'the Secret\'s URL reaches --db');
  const containerPort = Number(args[flag('--port')]);
  assert.equal((c.ports as Manifest[]).find((p) => p.name === 'http')?.containerPort, containerPort, 'the collector listens on the named container port');
  // Loopback and a free port each: three pods' worth of processes on one machine.
  args[flag('--host')] = '127.0.0.1';
  args[flag('--port')] = '0';
  args[flag('--config')] = mountFile(args[flag('--config')]!);

  const replicas: Running[] = [];
  for (let i = 0; i < deployment.spec.replicas; i++) replicas.push(await startCollector(args, t));
  const urls = replicas.map((r) => r.url);
  const lb = await startBalancer(urls, 'http');
  t.after(() => lb.close());
  assert.equal(service.spec.ports[0].appProtocol, 'http', 'balanced per request, as the stand-in does');

  for (const u of urls) {
    for (const probe of [c.readinessProbe, c.livenessProbe]) assert.equal((await get(u, probe.httpGet.path)).status, 200, `${probe.httpGet.path} on ${u}`);
    const metrics = await fetch(`${u}${monitor.spec.endpoints[0].path}`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /shadowmesh_records_total/);
  }

  // One side of each id through the Service: per-request round robin puts the two
  // sides of most ids on different replicas.
  for (let i = 0; i < 12; i++) {
    assert.equal((await post(lb.url, [rec({ id: `m${i}`, role: 'production', route: 'predict' })])).json.accepted, 1);
    assert.equal((await post(lb.url, [rec({ id: `m${i}`, role: 'shadow', route: 'predict' })])).json.accepted, 1);
  }
  assert.ok(lb.served().every((n) => n >= 4), `every replica took batches: ${lb.served().join(', ')}`);
  await statsEverywhere(urls, (s) => s.total.pairs === 12 && s.total.pending === 0);

  // As many replicas go away as the budget allows (a drain); the Service keeps working.
  const allowed = deployment.spec.replicas - pdb.spec.minAvailable;
  assert.ok(allowed >= 1);
  assert.ok(deployment.spec.strategy.rollingUpdate.maxUnavailable <= allowed, 'a rolling update stays within the budget');
  for (let i = 0; i < allowed; i++) await replicas[i]!.kill9();
  const rest = urls.slice(allowed);
  assert.ok(rest.length >= pdb.spec.minAvailable);
  lb.setUpstreams(rest);
  assert.equal((await post(lb.url, [rec({ id: 'after-drain', role: 'production', route: 'predict' }), rec({ id: 'after-drain', role: 'shadow', route: 'predict' })])).json.accepted, 2);
  const s = await statsEverywhere(rest, (x) => x.total.pairs === 13);
  assert.equal(s.total.production, 13);
  for (const r of replicas.slice(allowed)) assert.equal(await r.stop(), 0);
});
