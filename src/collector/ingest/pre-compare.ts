// The prepare thread's own memory of the last lone sides it saw, parsed: when a
// record's partner is among them, the pair is compared right there, where both
// parsed records already are, and only the (small) outcome goes to the joiner.
// The joiner stays the judge of what pairs with what: it uses the outcome only when
// the partner it joins is the very side (same number) this was compared against,
// and compares itself otherwise.
import type { CollectorConfig } from '../config.js';
import { comparePair } from '../compare/compare-pair.js';
import { predictionSample } from '../compare/prediction.js';
import { excusablePaths } from '../noise/excusable-paths.js';
import type { ShadowRecord } from '../types.js';
import type { PairFinder, PreparedPair } from './prepare.js';

/** As many as the joiner keeps in hand (~16 MiB of parsed ~1 KB records at most). */
export const DEFAULT_PRE_COMPARE_SIDES = 4096;

export class PreComparer {
  private readonly held = new Map<string, { wseq: number; record: ShadowRecord }>();
  private next: number;

  /** Numbers start above `base`, so two generations of preparers never share one. */
  constructor(
    private readonly config: CollectorConfig,
    base = 0,
    readonly max = DEFAULT_PRE_COMPARE_SIDES,
  ) {
    this.next = base;
  }

  readonly find: PairFinder = (r) => {
    const wseq = ++this.next;
    if (r.role === 'baseline') return { wseq };
    const partnerKey = `${r.role === 'production' ? 'shadow' : 'production'}\u0000${r.id}`;
    const partner = this.held.get(partnerKey);
    if (!partner) {
      const own = `${r.role}\u0000${r.id}`;
      // The first copy of a side is the one stored; later copies are duplicates.
      if (!this.held.has(own)) {
        this.held.set(own, { wseq, record: r });
        if (this.held.size > this.max) this.held.delete(this.held.keys().next().value!);
      }
      return { wseq };
    }
    this.held.delete(partnerKey);
    const pair = this.compare(r, partner.record, partner.wseq);
    return pair ? { wseq, pair } : { wseq };
  };

  private compare(r: ShadowRecord, other: ShadowRecord, partnerWseq: number): PreparedPair | undefined {
    const production = r.role === 'production' ? r : other;
    const shadow = r.role === 'production' ? other : r;
    try {
      const rules = this.config.rulesFor(production.route);
      const c = comparePair(production, shadow, rules);
      return {
        partnerWseq,
        statusMatch: c.statusMatch,
        bodyMatch: c.bodyMatch,
        headersMatch: c.headersMatch,
        match: c.match,
        truncated: c.truncated,
        diffs: JSON.stringify(c.diffs),
        compareNote: c.compareNote ?? null,
        sample: rules.prediction ? predictionSample(rules.prediction, production, shadow) : null,
        // Here both records are parsed already; the main thread would parse both again.
        excusable: excusablePaths({ comparison: c, production, shadow }),
      };
    } catch {
      // Whatever failed here fails again in the joiner, which answers for that record alone.
      return undefined;
    }
  }
}
