// Correlation ids (contract §2): 1–128 characters of [A-Za-z0-9._:-]. New ids are
// 128 random bits written as 32 lower-case hex digits.

export const ID_MAX: i32 = 128;
export const NEW_ID_LEN: i32 = 32;

export function isIdChar(c: u32): bool {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) ||
    c == 46 || c == 95 || c == 58 || c == 45;
}

export function isValidId(p: usize, n: i32): bool {
  if (n < 1 || n > ID_MAX) return false;
  for (let i = 0; i < n; i++) {
    if (!isIdChar(<u32>load<u8>(p + <usize>i))) return false;
  }
  return true;
}

/** Writes 16 random bytes at `src` as 32 lower-case hex digits at `dst`. */
export function hexId(src: usize, dst: usize): void {
  for (let i = 0; i < 16; i++) {
    const b = <u32>load<u8>(src + <usize>i);
    const hi = b >> 4, lo = b & 15;
    store<u8>(dst + <usize>(2 * i), <u8>(hi < 10 ? 48 + hi : 87 + hi));
    store<u8>(dst + <usize>(2 * i + 1), <u8>(lo < 10 ? 48 + lo : 87 + lo));
  }
}
