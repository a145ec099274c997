// A small strict JSON reader for the plugin configuration (read once per
// configure, so it may allocate). Bad input gives an error message with the byte
// offset, never a trap: nesting is bounded and every read is bounds-checked.
import { num } from "../abi/bytes";

export const J_NULL: i32 = 0;
export const J_BOOL: i32 = 1;
export const J_NUM: i32 = 2;
export const J_STR: i32 = 3;
export const J_ARR: i32 = 4;
export const J_OBJ: i32 = 5;

const MAX_DEPTH: i32 = 32;

export class JValue {
  kind: i32 = J_NULL;
  num: f64 = 0;
  flag: bool = false;
  str: string = "";
  items: JValue[] = [];
  /** Object keys, parallel to `items`. */
  keys: string[] = [];

  constructor(kind: i32) { this.kind = kind; }
}

export function kindName(kind: i32): string {
  if (kind == J_NULL) return "null";
  if (kind == J_BOOL) return "a boolean";
  if (kind == J_NUM) return "a number";
  if (kind == J_STR) return "a string";
  if (kind == J_ARR) return "an array";
  return "an object";
}

export class JsonReader {
  p: usize;
  start: usize;
  end: usize;
  error: string = "";

  constructor(p: usize, n: i32) {
    this.p = p;
    this.start = p;
    this.end = p + <usize>n;
  }

  /** The parsed document, or null with `error` set. */
  parse(): JValue | null {
    const v = this.value(0);
    if (v === null) return null;
    this.ws();
    if (this.p != this.end) return this.fail("trailing data");
    return v;
  }

  private fail(msg: string): JValue | null {
    if (this.error.length == 0) this.error = msg + " at byte " + num(<f64>(this.p - this.start));
    return null;
  }

  private ws(): void {
    while (this.p < this.end) {
      const c = load<u8>(this.p);
      if (c == 32 || c == 9 || c == 10 || c == 13) this.p++;
      else break;
    }
  }

  private peek(): i32 {
    return this.p < this.end ? <i32>load<u8>(this.p) : -1;
  }

  private lit(word: string): bool {
    const n = word.length;
    if (this.p + <usize>n > this.end) return false;
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(this.p + <usize>i) != word.charCodeAt(i)) return false;
    }
    this.p += <usize>n;
    return true;
  }

  private value(depth: i32): JValue | null {
    if (depth > MAX_DEPTH) return this.fail("nesting too deep");
    this.ws();
    const c = this.peek();
    if (c == 123) return this.object(depth);
    if (c == 91) return this.array(depth);
    if (c == 34) {
      const s = this.string();
      if (s === null) return null;
      const v = new JValue(J_STR);
      v.str = s;
      return v;
    }
    if (c == 116) { if (this.lit("true")) { const v = new JValue(J_BOOL); v.flag = true; return v; } return this.fail("invalid literal"); }
    if (c == 102) { if (this.lit("false")) return new JValue(J_BOOL); return this.fail("invalid literal"); }
    if (c == 110) { if (this.lit("null")) return new JValue(J_NULL); return this.fail("invalid literal"); }
    if (c == 45 || (c >= 48 && c <= 57)) return this.number();
    if (c < 0) return this.fail("unexpected end");
    return this.fail("unexpected character");
  }

  private digits(): i32 {
    let n = 0;
    while (this.p < this.end) {
      const c = load<u8>(this.p);
      if (c < 48 || c > 57) break;
      this.p++;
      n++;
    }
    return n;
  }

  /** Reads a JSON number without the standard library's strtod (which costs kilobytes). */
  private number(): JValue | null {
    let neg = false;
    if (this.peek() == 45) { neg = true; this.p++; }
    let mant: f64 = 0;
    let exp: i32 = 0;
    let sig = 0; // significant digits kept in mant; more would only add rounding noise
    const intStart = this.p;
    if (this.peek() == 48) this.p++;
    else {
      while (this.p < this.end) {
        const c = <i32>load<u8>(this.p);
        if (c < 48 || c > 57) break;
        if (sig < 18) { mant = mant * 10 + <f64>(c - 48); if (mant != 0) sig++; } else exp++;
        this.p++;
      }
      if (this.p == intStart) return this.fail("invalid number");
    }
    if (this.peek() == 46) {
      this.p++;
      const fracStart = this.p;
      while (this.p < this.end) {
        const c = <i32>load<u8>(this.p);
        if (c < 48 || c > 57) break;
        if (sig < 18) { mant = mant * 10 + <f64>(c - 48); exp--; if (mant != 0) sig++; }
        this.p++;
      }
      if (this.p == fracStart) return this.fail("invalid number");
    }
    const e = this.peek();
    if (e == 101 || e == 69) {
      this.p++;
      let eneg = false;
      const sg = this.peek();
      if (sg == 43 || sg == 45) { eneg = sg == 45; this.p++; }
      const expStart = this.p;
      let ev = 0;
      while (this.p < this.end) {
        const c = <i32>load<u8>(this.p);
        if (c < 48 || c > 57) break;
        if (ev < 10000) ev = ev * 10 + c - 48;
        this.p++;
      }
      if (this.p == expStart) return this.fail("invalid number");
      exp += eneg ? -ev : ev;
    }
    // One multiplication or division by an exact power of ten (exact up to 1e22).
    let v = mant;
    if (exp != 0 && mant != 0) {
      let a = exp < 0 ? -exp : exp;
      if (a > 400) a = 400;
      let p10: f64 = 1;
      while (a > 22) { p10 *= 1e22; a -= 22; }
      let q: f64 = 1;
      for (let i = 0; i < a; i++) q *= 10;
      p10 *= q;
      v = exp < 0 ? mant / p10 : mant * p10;
    }
    const out = new JValue(J_NUM);
    out.num = neg ? -v : v;
    return out;
  }

  private hex4(): i32 {
    if (this.p + 4 > this.end) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>load<u8>(this.p + <usize>i);
      let d: i32;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else return -1;
      v = (v << 4) | d;
    }
    this.p += 4;
    return v;
  }

  private string(): string | null {
    this.p++; // opening quote
    let out = "";
    let run = this.p;
    while (true) {
      if (this.p >= this.end) { this.fail("unterminated string"); return null; }
      const c = <i32>load<u8>(this.p);
      if (c == 34) break;
      if (c < 0x20) { this.fail("control character"); return null; }
      if (c != 92) { this.p++; continue; }
      out += String.UTF8.decodeUnsafe(run, this.p - run);
      this.p++;
      if (this.p >= this.end) { this.fail("unterminated string"); return null; }
      const e = <i32>load<u8>(this.p);
      this.p++;
      if (e == 34) out += "\"";
      else if (e == 92) out += "\\";
      else if (e == 47) out += "/";
      else if (e == 98) out += "\b";
      else if (e == 102) out += "\f";
      else if (e == 110) out += "\n";
      else if (e == 114) out += "\r";
      else if (e == 116) out += "\t";
      else if (e == 117) {
        const u = this.hex4();
        if (u < 0) { this.fail("invalid \\u escape"); return null; }
        out += String.fromCharCode(u);
      } else { this.p--; this.fail("invalid escape"); return null; }
      run = this.p;
    }
    out += String.UTF8.decodeUnsafe(run, this.p - run);
    this.p++; // closing quote
    return out;
  }

  private array(depth: i32): JValue | null {
    this.p++;
    const v = new JValue(J_ARR);
    this.ws();
    if (this.peek() == 93) { this.p++; return v; }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.ws();
      const c = this.peek();
      if (c == 44) { this.p++; continue; }
      if (c == 93) { this.p++; return v; }
      return this.fail("expected ',' or ']'");
    }
  }

  private object(depth: i32): JValue | null {
    this.p++;
    const v = new JValue(J_OBJ);
    this.ws();
    if (this.peek() == 125) { this.p++; return v; }
    while (true) {
      this.ws();
      if (this.peek() != 34) return this.fail("expected a string key");
      const k = this.string();
      if (k === null) return null;
      this.ws();
      if (this.peek() != 58) return this.fail("expected ':'");
      this.p++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(k);
      v.items.push(item);
      this.ws();
      const c = this.peek();
      if (c == 44) { this.p++; continue; }
      if (c == 125) { this.p++; return v; }
      return this.fail("expected ',' or '}'");
    }
  }
}
