/*
 * What Lambda refuses about a function's code, in one place (invoke/limits.ts holds what it
 * refuses about an invocation).
 */

/**
 * A function's code, unzipped, must stay under 250 MB: Lambda refuses a deploy with `Unzipped
 * size must be smaller than 262144000 bytes`. Exclusive, as that message says.
 */
export const UNZIPPED_LIMIT_BYTES = 262_144_000;

/** Whether code of `bytes` unzipped is more than Lambda takes (the one comparison, Lambda's). */
export function exceedsUnzippedLimit(bytes: number): boolean {
  return bytes >= UNZIPPED_LIMIT_BYTES;
}
