// Compares the shared secret in constant time, on digests so that the length of the expected
// token does not leak either.
import { createHash, timingSafeEqual } from 'node:crypto';

export function tokensMatch(expected: string, given: string | undefined): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given ?? ''));
}
