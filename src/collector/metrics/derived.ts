// Series whose values are read from the collector's own state at scrape time
// rather than counted a second time: they agree with /v1/stats by construction
// and come back after a restart, since that state is rebuilt from the database.
import { Counter, Gauge, type Registry } from 'prom-client';

export type Sample<L extends string> = readonly [labels: Record<L, string>, value: number];

export interface DerivedSpec<S, L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** The series' current values in scrape state `s`; a label set left out has no series. */
  read(s: S): Iterable<Sample<L>>;
}

/** A gauge set from `read` on every scrape. */
export function derivedGauge<S, L extends string>(registry: Registry, state: () => S, spec: DerivedSpec<S, L>): Gauge<L> {
  return new Gauge<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of spec.read(state())) this.set(labels as Partial<Record<L, string>>, value);
    },
  });
}

/** A counter whose total is read from `read` on every scrape (it only goes down if the data does, e.g. a new database). */
export function derivedCounter<S, L extends string>(registry: Registry, state: () => S, spec: DerivedSpec<S, L>): Counter<L> {
  return new Counter<L>({
    name: spec.name,
    help: spec.help,
    labelNames: spec.labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of spec.read(state())) this.inc(labels as Partial<Record<L, string>>, value);
    },
  });
}
