// Response bodies as bytes and as text, whatever their transfer encoding, so that
// a utf8 copy and a base64 copy of the same bytes compare equal.
import type { ShadowRecord } from '../types.js';

export interface DecodedBody {
  /** The body as the record carried it (for diffs of non-JSON bodies). */
  raw: string;
  text: string;
  /** The decoded bytes of a base64 body; null for utf8 (then `text` is the body). */
  bytes: Buffer | null;
}

export function decodeBody(r: ShadowRecord): DecodedBody {
  const raw = r.response_body ?? '';
  if (r.body_encoding === 'base64') {
    const bytes = Buffer.from(raw, 'base64');
    return { raw, text: bytes.toString('utf8'), bytes };
  }
  return { raw, text: raw, bytes: null };
}

export function bodyBytes(b: DecodedBody): Buffer {
  return b.bytes ?? Buffer.from(b.text, 'utf8');
}
