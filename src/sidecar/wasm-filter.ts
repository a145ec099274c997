// Runs an envoy.filters.http.wasm filter in the project's proxy-wasm host.
import type { WasmFilterConfig } from './config/model.js';
import type { FilterWithStats, SidecarEnvironment } from './index.js';

export async function loadWasmFilter(config: WasmFilterConfig, _env: SidecarEnvironment): Promise<FilterWithStats> {
  throw new Error(`${config.yamlPath}: the proxy-wasm host (src/host) is not available yet`);
}
