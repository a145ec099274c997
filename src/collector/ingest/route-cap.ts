// --max-routes: the number of distinct route names the collector keeps is capped,
// so a sender that invents route names (by mistake or on purpose) cannot grow the
// collector's memory or the label cardinality of /metrics without bound. Routes
// already known keep being accepted; a record that would add one more route past
// the cap is rejected on its own, the rest of its batch is kept.

export const DEFAULT_MAX_ROUTES = 1000;

const CAP_ERROR = /^\/route: new route .* over the --max-routes cap/;

/** Whether a per-record ingest error is the cap's (for /metrics' reason label). */
export const isRouteCapError = (error: string): boolean => CAP_ERROR.test(error);

export class RouteCap {
  // Routes admitted whose first record may not have reached the stats yet (the
  // rest of its batch is still being validated, or it was a duplicate).
  private readonly admitted = new Set<string>();

  /** `known` is the live map of routes the collector holds (the stats book's). */
  constructor(
    readonly max: number,
    private readonly known: ReadonlyMap<string, unknown>,
  ) {}

  /** Null when a record of `route` may be kept, else the reason it is rejected. */
  check(route: string): string | null {
    if (this.known.has(route) || this.admitted.has(route)) return null;
    if (this.count() < this.max) {
      this.admitted.add(route);
      return null;
    }
    const name = JSON.stringify(route.length > 64 ? `${route.slice(0, 64)}…` : route);
    return `/route: new route ${name} would be one over the --max-routes cap of ${this.max}; records of the known routes are still accepted`;
  }

  /** Distinct routes held or admitted; only computed when an unknown route shows up. */
  private count(): number {
    for (const r of this.admitted) if (this.known.has(r)) this.admitted.delete(r);
    return this.known.size + this.admitted.size;
  }
}
