// JSON output for records: string escaping straight from UTF-8 bytes, UTF-8
// validation and base64, all writing into a ByteBuf without building strings.
import { ByteBuf } from "../abi/bytes";

const HEX = "0123456789abcdef";

/** Length of the valid UTF-8 sequence starting at p (1–4), or 0 when the bytes there are not valid UTF-8. */
export function utf8SeqLen(p: usize, end: usize): i32 {
  const b0 = <u32>load<u8>(p);
  if (b0 < 0x80) return 1;
  if (b0 < 0xc2) return 0; // continuation byte or overlong 2-byte lead
  if (b0 < 0xe0) {
    if (p + 1 >= end) return 0;
    const b1 = <u32>load<u8>(p, 1);
    return (b1 & 0xc0) == 0x80 ? 2 : 0;
  }
  if (b0 < 0xf0) {
    if (p + 2 >= end) return 0;
    const b1 = <u32>load<u8>(p, 1), b2 = <u32>load<u8>(p, 2);
    if ((b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80) return 0;
    if (b0 == 0xe0 && b1 < 0xa0) return 0; // overlong
    if (b0 == 0xed && b1 >= 0xa0) return 0; // UTF-16 surrogate
    return 3;
  }
  if (b0 < 0xf5) {
    if (p + 3 >= end) return 0;
    const b1 = <u32>load<u8>(p, 1), b2 = <u32>load<u8>(p, 2), b3 = <u32>load<u8>(p, 3);
    if ((b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80 || (b3 & 0xc0) != 0x80) return 0;
    if (b0 == 0xf0 && b1 < 0x90) return 0; // overlong
    if (b0 == 0xf4 && b1 >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

export function isValidUtf8(p: usize, n: i32): bool {
  const end = p + <usize>n;
  while (p < end) {
    const b = load<u8>(p);
    if (b < 0x80) { p++; continue; }
    const l = utf8SeqLen(p, end);
    if (l == 0) return false;
    p += <usize>l;
  }
  return true;
}

function escByte(out: ByteBuf, b: i32): void {
  out.byte(92); out.byte(117); out.byte(48); out.byte(48);
  out.byte(<i32>HEX.charCodeAt(b >> 4));
  out.byte(<i32>HEX.charCodeAt(b & 15));
}

/**
 * Writes bytes as a quoted JSON string. Valid UTF-8 passes through unchanged;
 * `"`, `\` and control characters are escaped; a byte that is not part of valid
 * UTF-8 is written as its Latin-1 character (\u00XX) so the output is always valid JSON.
 */
export function writeJsonString(out: ByteBuf, p: usize, n: i32): void {
  out.reserve(n + 2);
  out.byte(34);
  const end = p + <usize>n;
  let run = p; // start of bytes copied verbatim
  while (p < end) {
    const b = <i32>load<u8>(p);
    if (b >= 0x20 && b < 0x80 && b != 34 && b != 92) { p++; continue; }
    if (b >= 0x80) {
      const l = utf8SeqLen(p, end);
      if (l != 0) { p += <usize>l; continue; }
    }
    out.bytes(run, <i32>(p - run));
    if (b == 34) { out.byte(92); out.byte(34); }
    else if (b == 92) { out.byte(92); out.byte(92); }
    else if (b == 10) { out.byte(92); out.byte(110); }
    else if (b == 13) { out.byte(92); out.byte(114); }
    else if (b == 9) { out.byte(92); out.byte(116); }
    else escByte(out, b);
    p++;
    run = p;
  }
  out.bytes(run, <i32>(p - run));
  out.byte(34);
}

export function writeJsonBuf(out: ByteBuf, b: ArrayBuffer): void {
  writeJsonString(out, changetype<usize>(b), b.byteLength);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Writes bytes as a quoted standard base64 string (with padding). */
export function writeBase64(out: ByteBuf, p: usize, n: i32): void {
  out.reserve(((n + 2) / 3) * 4 + 2);
  out.byte(34);
  let i = 0;
  while (i + 3 <= n) {
    const v = (<u32>load<u8>(p + <usize>i) << 16) | (<u32>load<u8>(p + <usize>i, 1) << 8) | <u32>load<u8>(p + <usize>i, 2);
    out.byte(<i32>B64.charCodeAt(v >> 18));
    out.byte(<i32>B64.charCodeAt((v >> 12) & 63));
    out.byte(<i32>B64.charCodeAt((v >> 6) & 63));
    out.byte(<i32>B64.charCodeAt(v & 63));
    i += 3;
  }
  const rest = n - i;
  if (rest > 0) {
    let v = <u32>load<u8>(p + <usize>i) << 16;
    if (rest == 2) v |= <u32>load<u8>(p + <usize>i, 1) << 8;
    out.byte(<i32>B64.charCodeAt(v >> 18));
    out.byte(<i32>B64.charCodeAt((v >> 12) & 63));
    out.byte(rest == 2 ? <i32>B64.charCodeAt((v >> 6) & 63) : 61);
    out.byte(61);
  }
  out.byte(34);
}
