// How deep and how large a JSON body may be for the structural comparison. The diff
// walks the two documents recursively (and the diffs it keeps are serialised, also
// recursively), so a body nesting tens of thousands of levels would overflow the
// stack and fail the whole batch. Such a body, or one too large to walk cheaply, is
// compared byte for byte instead, and the pair carries a note saying so.

/** Deepest nesting of arrays/objects compared structurally. */
export const MAX_STRUCTURAL_DEPTH = 256;
/** Longest body text (characters, after base64 decoding) compared structurally. */
export const MAX_STRUCTURAL_CHARS = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * True when the text nests arrays/objects deeper than `max` (brackets inside
 * strings do not count). Iterative, and stops at the first level too deep.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  // Nesting deeper than max needs more than max opening brackets in all; counting
  // them with indexOf (fast, native) settles nearly every real body without the
  // character loop below.
  if (openingsAtMost(text, max)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

function openingsAtMost(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > max) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > max) return false;
  return true;
}

/** The pair's note when a body is over the length limit, and when it nests too deep. */
export const TOO_LONG_NOTE = `response body longer than ${MAX_STRUCTURAL_CHARS} characters: compared byte for byte`;
export const TOO_DEEP_NOTE = `response body nests deeper than ${MAX_STRUCTURAL_DEPTH} levels: compared byte for byte`;

/** Why a body cannot be compared structurally, or null when it can. */
export function structuralLimitNote(text: string): string | null {
  if (text.length > MAX_STRUCTURAL_CHARS) return TOO_LONG_NOTE;
  if (nestsDeeperThan(text, MAX_STRUCTURAL_DEPTH)) return TOO_DEEP_NOTE;
  return null;
}
