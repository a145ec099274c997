// One scenario's wasm-memory check in its own process, so the filter bench can run the
// scenarios side by side (run.ts starts one per scenario, as many at once as there are
// cores): prints one JSON line, a MemoryResult.
//
//   node --import tsx bench/filter/memory.ts 'shadowmesh, mirrored GET' 1000000
import { memoryAfter, memoryScenarios, scenarios } from './rig.js';

const [name, count] = process.argv.slice(2);
const n = Number(count);
if (!name || !Number.isInteger(n) || n <= 0) {
  console.error('usage: memory.ts SCENARIO REQUESTS (a positive integer)');
  process.exit(2);
}
const picked = memoryScenarios(await scenarios()).find((s) => s.name === name);
if (!picked) {
  console.error(`memory.ts: no memory scenario named ${JSON.stringify(name)}`);
  process.exit(2);
}
console.log(JSON.stringify(await memoryAfter(picked, n)));
