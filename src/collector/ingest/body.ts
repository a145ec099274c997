// Turns a POST body into positioned items: a JSON array (index = position) or
// NDJSON (index = 0-based line number, blank lines skipped, a bad line is one item
// that carries its parse error).

import { elementTexts } from './element-texts.js';

export interface BodyItem {
  index: number;
  value?: unknown;
  /** Set when this single item could not be parsed (NDJSON only). */
  error?: string;
  /** The item's own text as sent, when the parser kept it (see parseJsonArray). */
  text?: string;
}

/** Elements nesting deeper than this are serialised again instead of kept as sent. */
const KEEP_TEXT_MAX_DEPTH = 64;

export class BodyError extends Error {}

export function isNdjson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const base = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return base === 'application/x-ndjson' || base === 'application/ndjson' || base === 'application/jsonl';
}

/**
 * `keepTexts`: each item also carries its text as sent (a slice of `text`, so only
 * where the items are copied elsewhere before being held: the prepare thread).
 */
export function parseJsonArray(text: string, keepTexts = false): BodyItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BodyError(`body is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new BodyError('body must be a JSON array of records');
  const items: BodyItem[] = new Array(parsed.length);
  const texts = keepTexts ? elementTexts(text, parsed.length, KEEP_TEXT_MAX_DEPTH) : null;
  for (let i = 0; i < parsed.length; i++) {
    const t = texts?.[i];
    items[i] = t ? { index: i, value: parsed[i], text: t } : { index: i, value: parsed[i] };
  }
  return items;
}

export function parseNdjson(text: string): BodyItem[] {
  const items: BodyItem[] = [];
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const raw = text.slice(start, end).trim();
    if (raw !== '') {
      try {
        items.push({ index: line, value: JSON.parse(raw) });
      } catch (err) {
        items.push({ index: line, error: `line is not valid JSON: ${(err as Error).message}` });
      }
    }
    line++;
    start = end + 1;
  }
  return items;
}
