// The text of each element of a JSON array, as sent. Serialising a parsed record
// again (JSON.stringify) was the prepare thread's second-largest cost per record;
// the sender's own text of the element is the same JSON document, already made.
// Called only on text JSON.parse has accepted as an array, so the scan needs to know
// nothing but strings, brackets and commas.

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Per element: its text, or null when it nests deeper than `maxDepth` (the caller
 * serialises that one itself, which is where a too-deep record is refused).
 * Null for the whole array when the scan does not find `count` elements (then the
 * caller serialises every record: a wrong guess here must never store wrong text).
 */
export function elementTexts(text: string, count: number, maxDepth: number): (string | null)[] | null {
  const out: (string | null)[] = [];
  let i = text.indexOf('[');
  if (i === -1) return null;
  i++;
  let depth = 0;
  let deepest = 0;
  let start = -1;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (start === -1) start = i;
      i = closingQuote(text, i);
      if (i === -1) return null;
      continue;
    }
    if (depth === 0 && (c === COMMA || c === CLOSE_BRACKET)) {
      if (start !== -1) {
        let end = i;
        while (isSpace(text.charCodeAt(end - 1))) end--;
        out.push(deepest > maxDepth ? null : text.slice(start, end));
      }
      if (c === CLOSE_BRACKET) return out.length === count ? out : null;
      start = -1;
      deepest = 0;
      continue;
    }
    if (start === -1) {
      if (isSpace(c)) continue;
      start = i;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > deepest) deepest = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return null;
}

/**
 * A string's rest after its opening quote, up to and including the closing one: runs
 * of plain characters and escapes, as one sticky expression (irregexp's loop, where
 * jumping from quote to quote with indexOf and counting the backslashes before each
 * cost a call per escaped quote: a response_body holds ~100 of them).
 */
const STRING_REST = /[^"\\]*(?:\\[^][^"\\]*)*"/y;

/** The index of the quote that ends the string opened at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  STRING_REST.lastIndex = open + 1;
  return STRING_REST.test(text) ? STRING_REST.lastIndex - 1 : -1;
}
