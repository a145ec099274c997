// One record's body as the comparison, the model outputs and the noise paths read it:
// decoded, checked against the structural limits and parsed at most once, whoever
// asks first. Each of the three used to decode, scan and JSON.parse both bodies of a
// pair on its own, so a route with a `prediction` rule parsed every body two or three
// times (JSON.parse is most of what comparing a pair costs).
//
// Kept on the record (see bodyView): the view lives exactly as long as the record
// object; nothing else about a record changes after it is validated.
import type { ShadowRecord } from '../types.js';
import { decodeBody, type DecodedBody } from './body.js';
import { MAX_STRUCTURAL_CHARS, MAX_STRUCTURAL_DEPTH, TOO_DEEP_NOTE, TOO_LONG_NOTE, nestsDeeperThan } from './structural-limits.js';

/** Not parsed yet (undefined is taken: the text is not a JSON document). */
const UNPARSED = Symbol('unparsed');

export class BodyView {
  readonly decoded: DecodedBody;
  private deep: boolean | undefined;
  private parsed: { value: unknown } | undefined | typeof UNPARSED = UNPARSED;

  constructor(record: ShadowRecord) {
    this.decoded = decodeBody(record);
  }

  get tooLong(): boolean {
    return this.decoded.text.length > MAX_STRUCTURAL_CHARS;
  }

  /** Nests arrays/objects deeper than MAX_STRUCTURAL_DEPTH (walking it would overflow the stack). */
  get tooDeep(): boolean {
    return (this.deep ??= nestsDeeperThan(this.decoded.text, MAX_STRUCTURAL_DEPTH));
  }

  /** Why the body cannot be compared structurally, or null when it can. */
  get limitNote(): string | null {
    if (this.tooLong) return TOO_LONG_NOTE;
    if (this.tooDeep) return TOO_DEEP_NOTE;
    return null;
  }

  /** The parsed document; undefined when the text is not JSON. Callers must not change it. */
  get json(): { value: unknown } | undefined {
    if (this.parsed === UNPARSED) {
      const text = this.decoded.text;
      this.parsed = undefined;
      if (text.length > 0) {
        try {
          this.parsed = { value: JSON.parse(text) };
        } catch {
          // Not JSON: compared byte for byte.
        }
      }
    }
    return this.parsed;
  }
}

/**
 * The view rides on the record itself, under a symbol and not enumerable
 * (JSON.stringify, structured clone, Object.keys and spread copies all skip it).
 * A WeakMap would be the tidier home, but in a young-generation collection (a
 * scavenge) V8 keeps the values of a WeakMap's young-keyed entries alive, whether the
 * key lives or not: each view, the parsed body inside it, was copied and promoted. On
 * the prepare thread that was ~4 MB surviving each scavenge where ~0.1 MB was really
 * live, and ~7 µs per record (bench/collector, BENCHMARKS.md session 10).
 */
const VIEW = Symbol('bodyView');

type Viewed = ShadowRecord & { [VIEW]?: BodyView };

export function bodyView(record: ShadowRecord): BodyView {
  let v = (record as Viewed)[VIEW];
  if (v === undefined) {
    v = new BodyView(record);
    // Not enumerable: a spread or Object.assign copy (which may change the body) does not take it along.
    Object.defineProperty(record, VIEW, { value: v });
  }
  return v;
}
