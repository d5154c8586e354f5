/**
 * Text from the file system or from a manifest (file names, package names, a lock's owner) is
 * shown inside log lines and error messages. Such text may hold a newline (which would forge a
 * second log line, e.g. `\n[x] done: cache-hit`), a terminal escape (which can clear the screen
 * or recolour the output), or an invisible character that reorders what is shown (U+202E). So
 * every such piece goes through `printable` first: what is not plainly printable is written as
 * an escape, the backslash included (so an escape in the output always comes from here), and
 * one shown name is always one line. Letters of any script, marks, digits, punctuation,
 * symbols and ordinary spaces are kept as they are, so normal Unicode names stay readable.
 */

/**
 * C0 and C1 controls and DEL (Cc), format characters such as bidi overrides and zero-width
 * joiners (Cf), line and paragraph separators (Zl, Zp), private-use (Co), unassigned (Cn) and
 * lone surrogates (Cs), and the backslash.
 */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\p{Cs}\\]/gu;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

export function printable(text: string): string {
  return text.replace(NOT_PRINTABLE, (c) => SHORT_ESCAPES[c] ?? escapeCodePoint(c.codePointAt(0)!));
}

function escapeCodePoint(code: number): string {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}
