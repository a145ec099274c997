// The latency histogram counts sides itself and hands prom-client the counts at
// scrape time: what /metrics shows must be exactly what prom-client's own histogram
// shows for the same observations (text and JSON), also after a reset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, LatencyHistogram } from '../../src/collector/metrics/latency-histogram.js';

const HELP = 'Latency of each stored side (request start to end of response as that side saw it), in seconds.';
const ROLES = ['production', 'shadow', 'baseline'] as const;

test('the same text and JSON as a prom-client histogram fed the same sides, and after reset()', async () => {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'shadowmesh_latency_seconds', help: HELP, labelNames: ['route', 'role'], buckets: LATENCY_BUCKETS_SECONDS, registers: [theirs] });
  const histogram = new LatencyHistogram(ours);
  assert.equal(await ours.metrics(), await theirs.metrics(), 'no series before any side');
  // Routes needing escapes; latencies on, below and above every bound.
  const routes = ['predict', 'rank "x"\\n', 'search'];
  const feed = (n: number) => {
    for (let i = 0; i < n; i++) {
      const route = routes[i % 3]!;
      const role = ROLES[(i * 7) % 3]!;
      const ms = i % 5 === 0 ? LATENCY_BUCKETS_SECONDS[i % LATENCY_BUCKETS_SECONDS.length]! * 1000 : ((i * 7919) % 20000) / 1.7;
      reference.observe({ route, role }, ms / 1000);
      histogram.side(route, role, ms);
    }
  };
  feed(5000);
  const text = await ours.metrics();
  assert.equal(text, await theirs.metrics());
  assert.match(text, /shadowmesh_latency_seconds_bucket\{le="0.001",route="predict",role="production"\} \d+/);
  assert.deepEqual(await ours.getMetricsAsJSON(), await theirs.getMetricsAsJSON());
  reference.reset();
  histogram.reset();
  assert.equal(await ours.metrics(), await theirs.metrics());
  feed(50);
  assert.equal(await ours.metrics(), await theirs.metrics(), 'counting again after reset()');
  assert.throws(() => histogram.side('predict', 'production', Number.NaN), TypeError);
});
