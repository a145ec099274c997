// Every Kubernetes manifest the project ships (envoy/istio/, deploy/gates/ and
// the Operator rule file from observability/) is validated against the schemas
// of Kubernetes, Istio, the Prometheus Operator and Argo Rollouts, with the
// kubernetes-models libraries; every plugin configuration they embed is run
// through the filter's own proxy_on_configure; and the pieces refer to each
// other correctly (selectors, Services behind Istio cluster names, Secrets).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { WasmPlugin } from '@kubernetes-models/istio/extensions.istio.io/v1alpha1/WasmPlugin';
import { EnvoyFilter } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter';
import { DestinationRule } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { VirtualService } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { type Manifest, REPO, assertAccepted, requireFilterWasm, yamlDocs } from './support.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: any) => Validatable;

/** The schema each shipped apiVersion/kind is checked against. */
const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'extensions.istio.io/v1alpha1/WasmPlugin': WasmPlugin,
  'networking.istio.io/v1alpha3/EnvoyFilter': EnvoyFilter,
  'networking.istio.io/v1beta1/DestinationRule': DestinationRule,
  'networking.istio.io/v1beta1/VirtualService': VirtualService,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'argoproj.io/v1alpha1/AnalysisTemplate': AnalysisTemplate,
  'argoproj.io/v1alpha1/Rollout': Rollout,
};
/** Kinds no kubernetes-models library covers; checked by hand below. */
const UNMODELLED = new Set(['flagger.app/v1beta1/MetricTemplate']);

const FILES = [
  ...readdirSync(`${REPO}envoy/istio`).filter((f) => f.endsWith('.yaml')).map((f) => `envoy/istio/${f}`),
  ...readdirSync(`${REPO}deploy/gates`).filter((f) => f.endsWith('.yaml')).map((f) => `deploy/gates/${f}`),
  ...(existsSync(`${REPO}observability/prometheus/prometheusrule.yaml`) ? ['observability/prometheus/prometheusrule.yaml'] : []),
].sort();

interface Located {
  file: string;
  doc: Manifest;
}
const ALL: Located[] = FILES.flatMap((file) => yamlDocs(file).map((doc) => ({ file, doc })));
const typeOf = (d: Manifest): string => `${d.apiVersion}/${d.kind}`;
/** The one manifest of that kind and name (in that file, when alternatives share a name). */
const named = (kind: string, name: string, file?: string): Manifest => {
  const found = ALL.filter((x) => x.doc.kind === kind && x.doc.metadata?.name === name && (!file || x.file === `envoy/istio/${file}`));
  assert.equal(found.length, 1, `${kind} ${name}${file ? ` in ${file}` : ''} is shipped once`);
  return found[0]!.doc;
};
const ofKind = (kind: string): Manifest[] => ALL.filter((x) => x.doc.kind === kind).map((x) => x.doc);

function validate(doc: Manifest): void {
  const Model = MODELS[typeOf(doc)];
  assert.ok(Model, `${typeOf(doc)} has a schema`);
  new Model(doc).validate();
}

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('manifests against the Kubernetes, Istio, Prometheus Operator and Argo Rollouts schemas', () => {
  it('cover every file, every kind has a schema or a hand check', () => {
    assert.ok(FILES.length >= 10, FILES.join(', '));
    for (const { file, doc } of ALL) {
      assert.ok(MODELS[typeOf(doc)] || UNMODELLED.has(typeOf(doc)), `${file}: ${typeOf(doc)}`);
      assert.ok(doc.metadata?.name, `${file}: ${doc.kind} has a name`);
    }
  });

  for (const { file, doc } of ALL.filter((x) => MODELS[typeOf(x.doc)])) {
    it(`${file}: ${doc.kind} ${doc.metadata?.name} is valid`, () => validate(doc));
  }

  // The schemas must be able to say no: each mutation below breaks one rule a
  // cluster would enforce, and validate() refuses it.
  const BROKEN: Array<[string, () => Manifest]> = [
    ['a Deployment with replicas as text', () => ({ ...named('Deployment', 'shadowmesh-collector'), spec: { ...named('Deployment', 'shadowmesh-collector').spec, replicas: 'three' } })],
    ['a Deployment without a selector', () => {
      const d = structuredClone(named('Deployment', 'model-v1'));
      delete d.spec.selector;
      return d;
    }],
    ['a Service with a port number out of range', () => {
      const s = structuredClone(named('Service', 'shadowmesh-collector'));
      s.spec.ports[0].port = 'http';
      return s;
    }],
    ['a WasmPlugin with an unknown phase', () => ({ ...named('WasmPlugin', 'shadowmesh'), spec: { ...named('WasmPlugin', 'shadowmesh').spec, phase: 'LATE' } })],
    ['a VirtualService with a mirror percentage as text', () => {
      const v = structuredClone(ALL.find((x) => x.file.endsWith('/virtualservice.yaml'))!.doc);
      v.spec.http[0].mirrorPercentage.value = 'ten';
      return v;
    }],
    ['an EnvoyFilter patch with an unknown operation', () => {
      const e = structuredClone(named('EnvoyFilter', 'shadowmesh'));
      e.spec.configPatches[0].patch.operation = 'PREPEND';
      return e;
    }],
    ['a ServiceMonitor without endpoints list', () => ({ ...named('ServiceMonitor', 'shadowmesh-collector'), spec: { ...named('ServiceMonitor', 'shadowmesh-collector').spec, endpoints: { port: 'http' } } })],
    ['an AnalysisTemplate metric without a name', () => {
      const a = structuredClone(named('AnalysisTemplate', 'shadowmesh-verdict'));
      delete a.spec.metrics[0].name;
      return a;
    }],
    ['a PodDisruptionBudget with a selector that is a string', () => ({ ...named('PodDisruptionBudget', 'shadowmesh-collector'), spec: { minAvailable: 2, selector: 'app=collector' } })],
  ];
  for (const [what, make] of BROKEN) {
    it(`refuses ${what}`, () => {
      assert.throws(() => validate(make()), (err: Error) => err.name === 'ValidationError' || /must/.test(err.message));
    });
  }
});

describe('embedded plugin configurations, through the filter\'s proxy_on_configure', () => {
  for (const { file, doc } of ALL.filter((x) => x.doc.kind === 'WasmPlugin')) {
    it(`${file}: WasmPlugin ${doc.metadata.name}`, async () => {
      requireFilterWasm();
      assert.equal(doc.spec.pluginName, 'shadowmesh');
      await assertAccepted(`${file} ${doc.metadata.name}`, JSON.stringify(doc.spec.pluginConfig), clustersOf(doc.spec.pluginConfig));
    });
  }
  const wasmPatches = (doc: Manifest): Manifest[] => (doc.spec.configPatches as Manifest[]).filter((p) => p.applyTo === 'HTTP_FILTER');
  for (const { file, doc } of ALL.filter((x) => x.doc.kind === 'EnvoyFilter' && wasmPatches(x.doc).length > 0)) {
    it(`${file}: EnvoyFilter ${doc.metadata.name}`, async () => {
      requireFilterWasm();
      for (const patch of wasmPatches(doc)) {
        const config = patch.patch.value.typed_config.config;
        assert.equal(config.configuration['@type'], 'type.googleapis.com/google.protobuf.StringValue');
        assert.equal(config.failure_policy, 'FAIL_OPEN');
        assert.equal(config.fail_open, undefined, 'Envoy refuses fail_open beside failure_policy');
        const cfg = JSON.parse(config.configuration.value as string) as Manifest;
        await assertAccepted(`${file} ${doc.metadata.name}`, config.configuration.value, clustersOf(cfg));
      }
    });
  }
});

function clustersOf(cfg: Manifest): string[] {
  return ['shadow_cluster', 'baseline_cluster', 'collector_cluster', 'mesh_mirror_cluster'].map((k) => cfg[k]).filter((v): v is string => typeof v === 'string');
}

/** "outbound|PORT|SUBSET|NAME.NAMESPACE.svc.cluster.local" → the Service, port and subset it means. */
function serviceBehind(cluster: string): { name: string; namespace: string; port: number; subset: string } {
  const m = /^outbound\|(\d+)\|([a-z0-9-]*)\|([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local$/.exec(cluster);
  assert.ok(m, `${cluster} is an Istio outbound cluster name`);
  return { port: Number(m![1]), subset: m![2]!, name: m![3]!, namespace: m![4]! };
}

describe('the manifests fit together', () => {
  const deployments = ofKind('Deployment');
  const podLabels = (name: string): Record<string, string> => deployments.find((d) => d.metadata.name === name)!.spec.template.metadata.labels;

  it('every cluster a plugin configuration names is a shipped Service and port', () => {
    const configs = [
      ...ofKind('WasmPlugin').map((w) => w.spec.pluginConfig as Manifest),
      ...ofKind('EnvoyFilter').flatMap((e) => (e.spec.configPatches as Manifest[]).filter((p) => p.applyTo === 'HTTP_FILTER').map((p) => JSON.parse(p.patch.value.typed_config.config.configuration.value) as Manifest)),
    ];
    for (const cfg of configs) {
      for (const cluster of clustersOf(cfg)) {
        const { name, namespace, port, subset } = serviceBehind(cluster);
        const svc = ofKind('Service').find((s) => s.metadata.name === name && s.metadata.namespace === namespace);
        assert.ok(svc, `Service ${namespace}/${name} for ${cluster}`);
        assert.ok((svc!.spec.ports as Manifest[]).some((p) => p.port === port), `${cluster}: port ${port}`);
        if (subset) {
          const dr = ofKind('DestinationRule').find((d) => d.spec.host === `${name}.${namespace}.svc.cluster.local`);
          assert.ok((dr?.spec.subsets as Manifest[] | undefined)?.some((x) => x.name === subset), `${cluster}: subset ${subset} is in a DestinationRule`);
        }
      }
    }
  });

  it('each Service selects the pods it is meant to', () => {
    const selected = (svc: string): string[] => {
      const s = named('Service', svc);
      return deployments.filter((d) => d.metadata.namespace === s.metadata.namespace && matches(s.spec.selector, d.spec.template.metadata.labels)).map((d) => d.metadata.name);
    };
    assert.deepEqual(selected('model'), ['model-v1', 'model-v2'], 'v1 and v2 behind one Service');
    assert.deepEqual(selected('model-shadow'), ['model-v2']);
    assert.deepEqual(selected('model-baseline'), ['model-baseline']);
    assert.deepEqual(selected('shadowmesh-collector'), ['shadowmesh-collector']);
  });

  it('the filter-driven filter runs on v1 only: never on the shadow or the baseline (their copies would be recorded twice)', () => {
    for (const sel of [named('WasmPlugin', 'shadowmesh').spec.selector.matchLabels, named('EnvoyFilter', 'shadowmesh').spec.workloadSelector.labels]) {
      const on = deployments.filter((d) => d.metadata.namespace === 'models' && matches(sel, d.spec.template.metadata.labels)).map((d) => d.metadata.name);
      assert.deepEqual(on, ['model-v1']);
    }
  });

  it('mesh-mirror: the VirtualService mirrors to a DestinationRule subset, the shadow-side WasmPlugin runs on exactly those pods', () => {
    const vs = named('VirtualService', 'model', 'virtualservice.yaml');
    const dr = named('DestinationRule', 'model');
    const subset = (dr.spec.subsets as Manifest[]).find((s) => s.name === vs.spec.http[0].mirror.subset);
    assert.ok(subset, 'mirror subset exists');
    // Envoy picks a mirror percentage at random per stream: only 100% lets every recorded production side pair.
    assert.equal(vs.spec.http[0].mirrorPercentage.value, 100);
    assert.equal(named('WasmPlugin', 'shadowmesh-callers', 'wasmplugin-mirror.yaml').spec.pluginConfig.sample_percent ?? 100, 100);
    const mirrored = deployments.filter((d) => matches({ ...named('Service', 'model').spec.selector, ...subset!.labels }, d.spec.template.metadata.labels));
    assert.deepEqual(mirrored.map((d) => d.metadata.name), ['model-v2']);
    const shadowSide = named('WasmPlugin', 'shadowmesh-shadow', 'wasmplugin-mirror.yaml');
    assert.ok(matches(shadowSide.spec.selector.matchLabels, podLabels('model-v2')));
    assert.equal(shadowSide.spec.pluginConfig.role, 'shadow');
    assert.equal(named('WasmPlugin', 'shadowmesh-callers', 'wasmplugin-mirror.yaml').spec.pluginConfig.shadow_cluster, undefined, 'callers only tag and record');
    for (const [name, mode] of [['shadowmesh-callers', 'CLIENT'], ['shadowmesh-shadow', 'SERVER']] as const) {
      assert.equal(named('WasmPlugin', name, 'wasmplugin-mirror.yaml').spec.match[0].mode, mode);
    }
  });

  it('sampled mesh-mirror: Envoy mirrors exactly what the callers\' filter marks, on the VirtualService\'s route', () => {
    const vs = named('VirtualService', 'model', 'mesh-mirror-sampled.yaml');
    assert.equal(vs.spec.http[0].mirror, undefined, 'no random mirror beside the filter\'s');
    assert.equal(vs.spec.http[0].mirrorPercentage, undefined);
    const ef = named('EnvoyFilter', 'shadowmesh-mirror', 'mesh-mirror-sampled.yaml');
    const callers = named('WasmPlugin', 'shadowmesh-callers', 'mesh-mirror-sampled.yaml');
    const patch = ef.spec.configPatches[0];
    assert.equal(patch.applyTo, 'HTTP_ROUTE');
    assert.equal(patch.match.context, 'SIDECAR_OUTBOUND');
    const svc = named('Service', 'model');
    assert.equal(patch.match.routeConfiguration.vhost.name, `${vs.spec.hosts[0]}:${svc.spec.ports[0].port}`, 'Istio names the outbound vhost host:port');
    assert.equal(patch.match.routeConfiguration.vhost.route.name, vs.spec.http[0].name);
    assert.equal(patch.patch.operation, 'MERGE');
    assert.deepEqual(patch.patch.value.route.request_mirror_policies, [{ cluster_header: callers.spec.pluginConfig.mesh_mirror_cluster_header }]);
    assert.deepEqual(ef.spec.workloadSelector.labels, callers.spec.selector.matchLabels, 'the route is patched where the filter runs');
    assert.ok(callers.spec.pluginConfig.sample_percent < 100);
    assert.equal(serviceBehind(callers.spec.pluginConfig.mesh_mirror_cluster).subset, 'v2');
  });

  it('WasmPlugins pull an OCI image and fail open (Istio\'s current failStrategy values)', () => {
    for (const w of ofKind('WasmPlugin')) {
      assert.match(w.spec.url, /^oci:\/\//);
      assert.ok(['FAIL_OPEN', 'FAIL_CLOSE', 'FAIL_RELOAD'].includes(w.spec.failStrategy), w.spec.failStrategy);
      assert.equal(w.spec.failStrategy, 'FAIL_OPEN');
    }
  });

  it('the collector: 3 replicas, PostgreSQL URL from a Secret expanded into --db, a PDB that allows one down', () => {
    const d = named('Deployment', 'shadowmesh-collector');
    assert.equal(d.spec.replicas, 3);
    const c = d.spec.template.spec.containers[0];
    const args = c.args as string[];
    const db = args[args.indexOf('--db') + 1]!;
    const ref = /^\$\(([A-Z_]+)\)$/.exec(db);
    assert.ok(ref, `--db ${db} is expanded from the environment`);
    const env = (c.env as Manifest[]).find((e) => e.name === ref![1]);
    assert.ok(env?.valueFrom?.secretKeyRef?.name && env.valueFrom.secretKeyRef.key, `${ref![1]} comes from a Secret`);
    assert.equal(env!.value, undefined, 'never a literal URL');
    assert.equal(args[args.indexOf('--host') + 1], '0.0.0.0');
    const config = args[args.indexOf('--config') + 1]!;
    assert.ok((c.volumeMounts as Manifest[]).some((m) => config.startsWith(`${m.mountPath}/`)), '--config is mounted');
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(d.spec.template.spec.securityContext.runAsNonRoot, true);

    const pdb = named('PodDisruptionBudget', 'shadowmesh-collector');
    assert.ok(matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
    assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < d.spec.replicas, 'a drain can proceed, one at a time');

    const sm = named('ServiceMonitor', 'shadowmesh-collector');
    const svc = named('Service', 'shadowmesh-collector');
    assert.ok(matches(sm.spec.selector.matchLabels, svc.metadata.labels));
    assert.ok((svc.spec.ports as Manifest[]).some((p) => p.name === sm.spec.endpoints[0].port));
    assert.equal(sm.spec.endpoints[0].path, '/metrics');
  });

  it('every container runs as non-root with a read-only root filesystem', () => {
    for (const d of deployments) {
      assert.equal(d.spec.template.spec.securityContext?.runAsNonRoot, true, d.metadata.name);
      for (const c of d.spec.template.spec.containers as Manifest[]) {
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false, d.metadata.name);
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, d.metadata.name);
      }
    }
  });

  it('the models run `shadowmesh model` with the version their label says, on the port their Service targets', () => {
    for (const d of deployments.filter((x) => x.metadata.namespace === 'models')) {
      const c = d.spec.template.spec.containers[0];
      const args = c.args as string[];
      assert.equal(args[0], 'model');
      assert.equal(args[args.indexOf('--version') + 1], d.spec.template.metadata.labels.version, d.metadata.name);
      assert.equal(args[args.indexOf('--port') + 1], String(c.ports[0].containerPort));
    }
  });
});

describe('CI/CD gates', () => {
  it('the Argo AnalysisTemplate: web metric on /v1/verdict; promote succeeds, reject fails, hold is inconclusive', () => {
    const a = named('AnalysisTemplate', 'shadowmesh-verdict');
    const m = a.spec.metrics[0];
    assert.match(m.provider.web.url, /\/v1\/verdict\?route=\{\{args\.route\}\}$/);
    assert.equal(m.provider.web.jsonPath, '{$.decision}');
    assert.equal(m.successCondition, 'result == "promote"');
    assert.equal(m.failureCondition, 'result == "reject"');
    assert.equal(m.failureLimit, 0, 'one reject fails the analysis');
    assert.ok(m.inconclusiveLimit < m.count, 'enough holds end the analysis as Inconclusive');
    const args = (a.spec.args as Manifest[]).map((x) => x.name);
    for (const used of (m.provider.web.url as string).matchAll(/\{\{args\.([a-z-]+)\}\}/g)) assert.ok(args.includes(used[1]), used[1]);
  });

  it('the Rollout example runs that analysis', () => {
    const r = named('Rollout', 'model');
    const step = (r.spec.strategy.canary.steps as Manifest[]).find((s) => s.analysis);
    assert.equal(step!.analysis.templates[0].templateName, 'shadowmesh-verdict');
  });

  it('the Flagger MetricTemplate queries the verdict gauge for reject', () => {
    const t = named('MetricTemplate', 'shadowmesh-verdict-reject');
    assert.equal(t.apiVersion, 'flagger.app/v1beta1');
    assert.equal(t.spec.provider.type, 'prometheus');
    assert.match(t.spec.provider.address, /^https?:\/\//);
    assert.match(t.spec.query, /shadowmesh_verdict\{route="\{\{ variables\.route \}\}", decision="reject"\}/);
  });
});
