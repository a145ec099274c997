// Sidecar throughput and added latency, measured with autocannon over loopback:
// straight to the production model (no sidecar), then through the sidecar with no
// filter, with the filter only tagging (and recording), and with the filter
// mirroring every request to a shadow model. Servers and sidecar are separate
// processes; this process only generates load. The servers and the three sidecars start
// side by side before any load (each is a Node process that takes a second or two to
// come up), and each sidecar stops once its target is measured.
//
//   node --import tsx bench/sidecar/run.ts [--seconds S] [--warmup S] [--connections C] [--rate R]
import { benchArgs, count } from '../args.js';
import { table } from '../collector/common.js';
import { load, REQUEST_BODY, startServers, startSidecar, type FilterMode, type Load, type Proc } from './rig.js';

const {
  seconds: SECONDS,
  warmup: WARMUP,
  connections: CONNECTIONS,
  rate: RATE,
} = benchArgs({
  usage: '[--seconds S] [--warmup S] [--connections C] [--rate R]',
  flags: {
    seconds: { type: 'number', default: 5 },
    warmup: { type: 'number', default: 1 },
    connections: count(16),
    // Latency is compared at a fixed rate every target sustains, not at saturation.
    rate: { type: 'number', default: 200 },
  },
});

const t0 = performance.now();
const servers = await startServers();
const ports = servers.info;
const modes: FilterMode[] = ['none', 'tagging', 'mirroring'];
const starting = modes.map((mode) => startSidecar(mode, { production: ports.production, shadow: ports.shadow, collector: ports.collector }));
const started = await Promise.allSettled(starting);
const sidecars = new Map<FilterMode, Proc<{ url: string }>>();
started.forEach((r, i) => r.status === 'fulfilled' && sidecars.set(modes[i]!, r.value));
const startSeconds = (performance.now() - t0) / 1000;
const rows: (string | number)[][] = [];
let direct: Load | undefined;
try {
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const targets: (FilterMode | 'direct')[] = ['direct', ...modes];
  for (const target of targets) {
    const sidecar = target === 'direct' ? null : sidecars.get(target)!;
    const url = sidecar ? sidecar.info.url : `http://127.0.0.1:${ports.production}`;
    try {
      await load(url, { seconds: WARMUP, connections: CONNECTIONS }); // warm-up (JIT, pools)
      const full = await load(url, { seconds: SECONDS, connections: CONNECTIONS });
      const paced = await load(url, { seconds: SECONDS, connections: 4, rate: RATE });
      if (target === 'direct') direct = paced;
      const label = target === 'direct' ? 'production model, no sidecar' : target === 'none' ? 'sidecar, no filter' : target === 'tagging' ? 'sidecar + filter, tagging only' : 'sidecar + filter, mirroring';
      rows.push([
        label,
        full.requestsPerSecond.toFixed(0),
        full.p99.toFixed(1),
        paced.p50.toFixed(2),
        paced.p99.toFixed(2),
        target === 'direct' ? '—' : (paced.p50 - direct!.p50).toFixed(2),
        target === 'direct' ? '—' : (paced.p99 - direct!.p99).toFixed(2),
        full.errors + full.non2xx + paced.errors + paced.non2xx,
      ]);
    } finally {
      await sidecar?.stop();
    }
  }
} finally {
  await Promise.all([...sidecars.values()].map((s) => s.stop()));
  await servers.stop();
}
console.log(
  `sidecar: autocannon POST /predict (${Buffer.byteLength(REQUEST_BODY)} B JSON), after ${WARMUP} s of warm-up ${CONNECTIONS} connections at full speed for ${SECONDS} s, ` +
    `then ${RATE} req/s over 4 connections for ${SECONDS} s; servers and sidecars up in ${startSeconds.toFixed(1)} s`,
);
console.log(table(['target', 'req/s (full speed)', 'p99 ms (full speed)', `p50 ms at ${RATE}/s`, `p99 ms at ${RATE}/s`, 'added p50 ms', 'added p99 ms', 'errors + non-2xx'], rows));
