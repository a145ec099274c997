// Shared by the deployment tests: the repository root, YAML documents read
// strictly (a syntax error fails the test), and the filter's own verdict on a
// plugin configuration (proxy_on_configure in the host, as Envoy would call it).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { TestVM } from '../../src/host/testing.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const FILTER_WASM = `${REPO}build/shadowmesh.wasm`;
/** Tests that run the real filter fail, with this message, when the build is missing: they never skip. */
export function requireFilterWasm(): void {
  if (!existsSync(FILTER_WASM)) throw new Error(`${FILTER_WASM} is missing: run npm run build:wasm (tests of the real filter do not skip without it)`);
}

export type Manifest = Record<string, any>;

/** Every YAML document of a file under the repository, as plain data. */
export function yamlDocs(path: string): Manifest[] {
  const docs = parseAllDocuments(readFileSync(`${REPO}${path}`, 'utf8'));
  if (!Array.isArray(docs)) return [];
  return docs
    .map((d) => {
      assert.equal(d.errors.length, 0, `${path}: ${d.errors[0]?.message}`);
      return d.toJS({ maxAliasCount: 100 }) as Manifest | null;
    })
    .filter((d): d is Manifest => d !== null);
}

export interface ConfigureResult {
  readonly accepted: boolean;
  readonly errors: readonly string[];
}

/** Runs a plugin configuration (the text Envoy passes) through the filter's proxy_on_configure. */
export async function configureFilter(configuration: string, clusters: readonly string[] = []): Promise<ConfigureResult> {
  const vm = await TestVM.start({ wasm: FILTER_WASM, config: configuration, rootId: 'shadowmesh', clusters: [...clusters] });
  try {
    return { accepted: vm.configured, errors: vm.logsAt('error') };
  } finally {
    vm.close();
  }
}

/** Asserts the filter accepts a configuration, naming where it came from when it does not. */
export async function assertAccepted(where: string, configuration: string, clusters: readonly string[] = []): Promise<void> {
  const r = await configureFilter(configuration, clusters);
  assert.ok(r.accepted, `${where}: the filter refused its configuration: ${r.errors.join(' | ') || '(no error line)'}`);
  assert.deepEqual(r.errors, [], where);
}
