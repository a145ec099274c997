// A fixed-size Bloom filter over the (id, role) keys already in `record_ids`: a new
// record's duplicate check asks SQLite only when the filter says the key may be
// there, which for fresh random ids it almost never does. It can answer "maybe"
// wrongly (then SQLite says no), never "no" wrongly, so keys that left the table
// (a rolled-back run) may stay in it. Memory is fixed; past some millions of keys
// more answers are "maybe" and more lookups go to SQLite, as before the filter.

/** 2^25 bits = 4 MiB. */
const BITS_LOG2 = 25;
const HASHES = 3;

export class KeyFilter {
  private readonly bits = new Uint32Array(2 ** (BITS_LOG2 - 5));
  private readonly mask = 2 ** BITS_LOG2 - 1;

  /** `salt` tells apart keys that share a string (the role of an id: 0, 1, 2). */
  add(key: string, salt = 0): void {
    const [h1, h2] = hashes(key, salt);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) & this.mask;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mayHave(key: string, salt = 0): boolean {
    const [h1, h2] = hashes(key, salt);
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) & this.mask;
      if ((this.bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

const pair: [number, number] = [0, 0];

/** Two 32-bit FNV-1a variants over the UTF-16 code units and then the salt (double hashing). */
function hashes(key: string, salt: number): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  // Mixed in last, as a value no UTF-16 code unit takes.
  a = Math.imul(a ^ (0x10000 + salt), 0x01000193);
  b = Math.imul(b ^ (0x10000 + salt), 0x5bd1e995);
  pair[0] = a >>> 0;
  pair[1] = (b >>> 0) | 1;
  return pair;
}
