// K collector processes (`shadowmesh collector --db postgres://… --port 0`) sharing one
// PostgreSQL database, behind a round-robin balancer started here; a replica can be
// killed with SIGKILL, restarted (on a new port: the balancer follows) or added later.
import { startCollector, type Running } from '../collector/helpers.js';
import { startBalancer, type Balancer, type BalancerMode } from './balancer.js';

type AfterHook = { after: (fn: () => Promise<unknown>) => void };

export interface Replicas {
  db: string;
  /** The running replicas, in balancer order (a killed one stays until restarted). */
  replicas: Running[];
  balancer: Balancer;
  /** The balancer's URL: what the filter would be given. */
  url: string;
  urls(): string[];
  kill9(i: number): Promise<void>;
  /** Starts replica i again with the same flags; the balancer is pointed at it. */
  restart(i: number): Promise<Running>;
  /** Starts one more replica (it joins the balancer). */
  add(): Promise<Running>;
  /** SIGTERM to every replica, then closes the balancer; resolves to their exit codes. */
  stop(): Promise<(number | null)[]>;
}

export interface ReplicaOptions {
  count: number;
  db: string;
  args?: string[];
  mode?: BalancerMode;
}

export async function startReplicas(t: AfterHook, opts: ReplicaOptions): Promise<Replicas> {
  const args = ['--db', opts.db, ...(opts.args ?? [])];
  // One after the other: the first creates the schema, the others find it.
  const replicas: Running[] = [];
  for (let i = 0; i < opts.count; i++) replicas.push(await startCollector(args, t));
  const balancer = await startBalancer(replicas.map((r) => r.url), opts.mode ?? 'http');
  t.after(() => balancer.close());
  const urls = (): string[] => replicas.map((r) => r.url);
  return {
    db: opts.db,
    replicas,
    balancer,
    url: balancer.url,
    urls,
    async kill9(i) {
      await replicas[i]!.kill9();
    },
    async restart(i) {
      const r = await startCollector(args, t);
      replicas[i] = r;
      balancer.setUpstreams(urls());
      return r;
    },
    async add() {
      const r = await startCollector(args, t);
      replicas.push(r);
      balancer.setUpstreams(urls());
      return r;
    },
    async stop() {
      const codes = await Promise.all(replicas.map((r) => r.stop()));
      await balancer.close();
      return codes;
    },
  };
}
