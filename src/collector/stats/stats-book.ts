// All routes' aggregates, and their total.
import { RouteStats, type RouteStatsSnapshot } from './route-stats.js';

export interface StatsAnswer {
  routes: Record<string, RouteStatsSnapshot>;
  total: RouteStatsSnapshot;
}

export class StatsBook {
  readonly routes = new Map<string, RouteStats>();

  route(name: string): RouteStats {
    let s = this.routes.get(name);
    if (!s) {
      s = new RouteStats();
      this.routes.set(name, s);
    }
    return s;
  }

  clear(): void {
    this.routes.clear();
  }

  /** With `only`, the answer is limited to that route (total = that route). */
  answer(only?: string): StatsAnswer {
    if (only !== undefined) {
      const s = (this.routes.get(only) ?? new RouteStats()).snapshot();
      return { routes: { [only]: s }, total: s };
    }
    const total = new RouteStats();
    const routes: Record<string, RouteStatsSnapshot> = {};
    for (const name of [...this.routes.keys()].sort()) {
      const r = this.routes.get(name)!;
      routes[name] = r.snapshot();
      total.absorb(r);
    }
    return { routes, total: total.snapshot() };
  }
}
