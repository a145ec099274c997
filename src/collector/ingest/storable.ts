// The text a valid record is stored as. Serialising recurses through every field
// the filter sent (unknown ones are kept), so a record nesting thousands of levels
// deep in some field cannot be stored: that record alone is rejected, with a reason.
import type { ShadowRecord } from '../types.js';

export function storableJson(r: ShadowRecord): { json: string } | { error: string } {
  try {
    return { json: JSON.stringify(r) };
  } catch (err) {
    if (err instanceof RangeError) return { error: 'record nests too deeply to store' };
    throw err;
  }
}
