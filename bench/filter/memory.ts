// One scenario's wasm-memory check in its own process, so the filter bench can run the
// scenarios side by side (run.ts starts one per scenario, as many at once as there are
// cores): prints one JSON line, a MemoryResult.
//
//   node --import tsx bench/filter/memory.ts 'shadowmesh, mirrored GET' 1000000
import { benchArgs, numberArg, UsageError } from '../args.js';
import { memoryAfter, memoryScenarios, scenarios } from './rig.js';

const { positionals: [name, n] } = benchArgs({
  usage: 'SCENARIO REQUESTS',
  flags: {},
  positionals: (p): [string, number] => {
    if (p.length !== 2 || !p[0]) throw new UsageError('a scenario name and a number of requests');
    return [p[0], numberArg('REQUESTS', p[1]!, 'integer', 1)];
  },
});
const picked = memoryScenarios(await scenarios()).find((s) => s.name === name);
if (!picked) {
  console.error(`memory.ts: no memory scenario named ${JSON.stringify(name)}`);
  process.exit(2);
}
console.log(JSON.stringify(await memoryAfter(picked, n)));
