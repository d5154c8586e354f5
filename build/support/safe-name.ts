/*
 * Names read from Cargo manifests (package and binary names) and the artifact's name end up in
 * file paths: `dist/<name>.zip`, `dist/<name>.json`, `dist/.<name>.lock`, the hash index in the
 * cache folder. A name like `../../../tmp/x` would make `status` read and `clean` delete files
 * outside those folders, so every such name must pass this one rule before it is used.
 *
 * The rule is what cargo accepts for package names (alphanumeric characters, `-`, `_`; cargo's
 * "alphanumeric" is Unicode's, so letters and digits of any script are kept), plus `.` inside
 * the name, which cargo accepts in binary names (`src/bin/v1.2.rs` builds a binary `v1.2`).
 * A name never starts with `.` (hidden files, `.` and `..`), never contains `..`, and never
 * contains a path separator, a control character or NUL: those are not letters, digits, `_`,
 * `-` or `.`. Its UTF-8 length is bounded so `.<name>.lock.takeover` and
 * `<name>-<12 hex>.json` stay within the 255-byte file name limit of common file systems.
 */
const SAFE_NAME = /^[\p{L}\p{N}_-][\p{L}\p{N}_.-]*$/u;

/** Bytes of UTF-8 a safe name may have. */
export const MAX_NAME_BYTES = 200;

/** The rule in words, for error messages. */
export const SAFE_NAME_RULE = `letters, digits, "_", "-" and ".", not starting with "." and without "..", at most ${MAX_NAME_BYTES} bytes`;

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..') && Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES;
}
