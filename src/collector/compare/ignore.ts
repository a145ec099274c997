// Ignore patterns compiled into a trie. While the diff walks down a document it
// carries the set of trie nodes still alive; a path is covered (with its whole
// subtree) as soon as one of them is the end of a pattern. `*` matches any one
// key or index.
import { parsePointer } from './pointer.js';

export interface IgnoreNode {
  readonly children: Map<string, IgnoreNode>;
  star: IgnoreNode | null;
  terminal: boolean;
}

/** The live trie nodes at some path; null when no pattern can match below it. */
export type IgnoreState = readonly IgnoreNode[] | null;

function newNode(): IgnoreNode {
  return { children: new Map(), star: null, terminal: false };
}

export class IgnoreMatcher {
  private readonly root = newNode();
  readonly empty: boolean;

  constructor(patterns: readonly string[]) {
    for (const p of patterns) {
      let node = this.root;
      for (const seg of parsePointer(p)) {
        if (seg === '*') {
          node.star ??= newNode();
          node = node.star;
        } else {
          let next = node.children.get(seg);
          if (!next) {
            next = newNode();
            node.children.set(seg, next);
          }
          node = next;
        }
      }
      node.terminal = true;
    }
    this.empty = patterns.length === 0;
  }

  /** State at the document root. */
  start(): IgnoreState {
    return this.empty ? null : [this.root];
  }

  static covered(state: IgnoreState): boolean {
    if (state === null) return false;
    for (const n of state) if (n.terminal) return true;
    return false;
  }

  /** State one segment further down. */
  static step(state: IgnoreState, key: string): IgnoreState {
    if (state === null) return null;
    let next: IgnoreNode[] | null = null;
    for (const n of state) {
      const exact = n.children.get(key);
      if (exact) (next ??= []).push(exact);
      if (n.star) (next ??= []).push(n.star);
    }
    return next;
  }
}

// Keyed by the patterns array itself: a route's resolved rules are cached, so its
// patterns are compiled once and looked up without building a key per pair.
const cache = new WeakMap<readonly string[], IgnoreMatcher>();

export function ignoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  let m = cache.get(patterns);
  if (!m) {
    m = new IgnoreMatcher(patterns);
    cache.set(patterns, m);
  }
  return m;
}
