// Production latency through the mirroring sidecar while the shadow or the
// collector misbehaves: healthy, shadow 2 s slow, shadow answering 500, shadow
// refusing connections, collector down. The same paced load (autocannon, a fixed
// rate) each time; the claim is zero production errors and p99 within 10% of the
// healthy run. The healthy run is repeated at the end to show the noise.
//
//   node --import tsx bench/sidecar/isolation.ts [--seconds S] [--rate R]
import { table } from '../collector/common.js';
import { load, startServers, startSidecar, type Load } from './rig.js';

const args = process.argv.slice(2);
const arg = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SECONDS = arg('--seconds', 8);
const RATE = arg('--rate', 200);
const CONNECTIONS = 8;

const servers = await startServers();
const p = servers.info;
const scenarios: { name: string; shadow: number; collector: number }[] = [
  { name: 'shadow healthy', shadow: p.shadow, collector: p.collector },
  { name: 'shadow 2 s slow', shadow: p.slow, collector: p.collector },
  { name: 'shadow answering 500', shadow: p.failing, collector: p.collector },
  { name: 'shadow refusing connections', shadow: p.refused, collector: p.collector },
  { name: 'collector down', shadow: p.shadow, collector: p.refused },
  { name: 'shadow healthy (again)', shadow: p.shadow, collector: p.collector },
];
const results: { name: string; r: Load }[] = [];
try {
  for (const s of scenarios) {
    const sidecar = await startSidecar('mirroring', { production: p.production, shadow: s.shadow, collector: s.collector });
    try {
      await load(sidecar.info.url, { seconds: 1, connections: CONNECTIONS, rate: RATE }); // warm-up
      results.push({ name: s.name, r: await load(sidecar.info.url, { seconds: SECONDS, connections: CONNECTIONS, rate: RATE }) });
    } finally {
      await sidecar.stop();
    }
  }
} finally {
  await servers.stop();
}
const healthy = results[0]!.r;
console.log(`isolation: production through the mirroring sidecar, autocannon ${RATE} req/s over ${CONNECTIONS} connections for ${SECONDS} s per scenario`);
console.log(
  table(
    ['scenario', 'requests', 'production errors + non-2xx', 'p50 ms', 'p99 ms', 'p99 / healthy p99'],
    results.map(({ name, r }) => [name, r.requests, r.errors + r.non2xx, r.p50.toFixed(1), r.p99.toFixed(1), (r.p99 / healthy.p99).toFixed(2)]),
  ),
);
