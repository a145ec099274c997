// The in-process sidecar serving the repository's own envoy/envoy.yaml with the built
// filter (build/shadowmesh.wasm), its clusters resolved to loopback servers the test
// started: the fault tests' mesh. The sidecar, then the given servers, are closed
// after the test.
import { startSidecar, type RunningSidecar } from '../../src/sidecar/index.js';
import { FILTER_WASM, REPO, requireFilterWasm } from '../sidecar/helpers.js';

type TestContext = { after: (fn: () => Promise<void>) => void };

/** Where envoy.yaml's clusters go: a port on 127.0.0.1, or a host:port. */
export type Endpoint = number | string;

export interface EnvoyYamlClusters {
  production: Endpoint;
  shadow: Endpoint;
  collector: Endpoint;
  /** Without it the baseline cluster stays as envoy.yaml has it (its copies then fail). */
  baseline?: Endpoint;
}

const address = (e: Endpoint): string => (typeof e === 'number' ? `127.0.0.1:${e}` : e);

/**
 * Starts the sidecar over envoy/envoy.yaml (listener `ingress` and the admin listener
 * on free ports, logs dropped); `servers` are what the test started for it, closed
 * after the sidecar.
 */
export async function startSidecarFromEnvoyYaml(
  t: TestContext,
  clusters: EnvoyYamlClusters,
  servers: readonly { close(): Promise<void> }[] = [],
): Promise<RunningSidecar> {
  requireFilterWasm();
  const resolve: Record<string, string> = {
    production: address(clusters.production),
    shadow: address(clusters.shadow),
    ...(clusters.baseline === undefined ? {} : { baseline: address(clusters.baseline) }),
    collector: address(clusters.collector),
  };
  const sc = await startSidecar({
    envoyConfigPath: `${REPO}envoy/envoy.yaml`,
    wasmPath: FILTER_WASM,
    listenAddress: '127.0.0.1',
    listenerPorts: { ingress: 0 },
    adminPort: 0,
    resolve,
    log: () => {},
  });
  t.after(async () => {
    await sc.close();
    for (const s of servers) await s.close();
  });
  return sc;
}
