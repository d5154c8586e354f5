/*
 * Adds one member to an object inside a JSON file's text, leaving every other byte as it was (a
 * user's cdktf.json keeps its own layout): the object is found by its key path with a small
 * scanner, and the member goes after the last one, on its own line when the members are on lines.
 */

/** `text` with `"key": value` added to the object at `at` (keys from the root); the object must exist. */
export function insertIntoJsonObject(text: string, at: readonly string[], key: string, value: unknown): string {
  const scanner = new Scanner(text);
  const span = scanner.find(at);
  const body = text.slice(span.start + 1, span.end - 1);
  const member = `${JSON.stringify(key)}: ${inline(value)}`;
  const lastNonSpace = body.search(/\s*$/);
  if (body.trim() === '') return `${text.slice(0, span.start)}{ ${member} }${text.slice(span.end)}`;
  const indent = /\n([ \t]*)"/.exec(body)?.[1];
  const insertion = indent === undefined ? `, ${member}` : `,\n${indent}${member}`;
  const position = span.start + 1 + lastNonSpace;
  return `${text.slice(0, position)}${insertion}${text.slice(position)}`;
}

/** A value on one line, with spaces inside braces, as cdktf.json's function entries are written. */
function inline(value: unknown): string {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return JSON.stringify(value);
}

class Scanner {
  private pos = 0;
  constructor(private readonly text: string) {}

  /** The span of the object value at `path`. */
  find(path: readonly string[]): { start: number; end: number } {
    this.pos = 0;
    let span = this.value();
    for (const key of path) {
      const member = this.members(span).find((m) => m.key === key);
      if (!member) throw new Error(`no "${key}" in the JSON object at ${path.join('.')}`);
      span = member.value;
    }
    if (this.text[span.start] !== '{') throw new Error(`${path.join('.')} is not a JSON object`);
    return span;
  }

  private members(span: { start: number; end: number }): { key: string; value: { start: number; end: number } }[] {
    if (this.text[span.start] !== '{') return [];
    this.pos = span.start + 1;
    const found: { key: string; value: { start: number; end: number } }[] = [];
    this.space();
    if (this.text[this.pos] === '}') return found;
    for (;;) {
      this.space();
      const keySpan = this.value();
      const key = JSON.parse(this.text.slice(keySpan.start, keySpan.end)) as string;
      this.space();
      this.expect(':');
      this.space();
      found.push({ key, value: this.value() });
      this.space();
      if (this.text[this.pos] === ',') {
        this.pos++;
        continue;
      }
      this.expect('}');
      return found;
    }
  }

  /** Skips one value, returning its span. */
  private value(): { start: number; end: number } {
    this.space();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      this.pos++;
      this.space();
      if (this.text[this.pos] === close) {
        this.pos++;
        return { start, end: this.pos };
      }
      for (;;) {
        if (c === '{') {
          this.value();
          this.space();
          this.expect(':');
        }
        this.value();
        this.space();
        if (this.text[this.pos] === ',') {
          this.pos++;
          continue;
        }
        this.expect(close);
        return { start, end: this.pos };
      }
    }
    if (c === '"') {
      this.pos++;
      while (this.pos < this.text.length && this.text[this.pos] !== '"') this.pos += this.text[this.pos] === '\\' ? 2 : 1;
      this.expect('"');
      return { start, end: this.pos };
    }
    const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(this.text.slice(this.pos));
    if (!literal) throw new Error(`unexpected ${JSON.stringify(c)} at offset ${this.pos}`);
    this.pos += literal[0].length;
    return { start, end: this.pos };
  }

  private space(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private expect(c: string): void {
    if (this.text[this.pos] !== c) throw new Error(`expected ${JSON.stringify(c)} at offset ${this.pos}`);
    this.pos++;
  }
}
