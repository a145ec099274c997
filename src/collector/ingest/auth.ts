// Bearer-token check in constant time. Both sides are hashed first so the
// comparison always runs over equal-length digests, whatever was sent.
import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenCheck = (authorization: string | undefined) => boolean;

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export function bearerChecker(token: string): TokenCheck {
  const expected = digest(token);
  return (authorization) => {
    if (typeof authorization !== 'string') return false;
    const m = /^Bearer[ \t]+(.*)$/i.exec(authorization);
    const given = m ? m[1]!.trim() : '';
    // Always run the comparison so a missing scheme takes as long as a wrong token.
    const same = timingSafeEqual(digest(given), expected);
    return m !== null && same;
  };
}
