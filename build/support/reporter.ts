/*
 * Progress output for one artifact: every line is prefixed with the artifact's name, and lines
 * streamed from a stage's process (docker build, cargo) with the stage too.
 *
 * It goes to stdout by default: `cdktf synth|diff|deploy` run the app as a child and show its
 * stdout as is, but print every stderr line as a red `[ERROR]`, which progress is not.
 */
export interface Reporter {
  /** `[name] text` */
  line(text: string): void;
  /** A sink for one stage's process output: `[name] stage | line`. */
  stream(stage: string): (line: string) => void;
}

/** Where progress is written: process.stdout by default, a recorder in tests. */
export interface Output {
  write(text: string): unknown;
}

export function createReporter(name: string, out: Output = process.stdout): Reporter {
  const prefix = `[${name}]`;
  return {
    line: (text) => {
      out.write(`${prefix} ${text}\n`);
    },
    stream: (stage) => (line) => {
      out.write(`${prefix} ${stage} | ${line}\n`);
    },
  };
}

/** An output that keeps every line, with a view of one artifact's lines without their prefix (for tests). */
export function createRecordingOutput(): Output & { readonly lines: string[]; of(name: string): string[] } {
  const lines: string[] = [];
  return {
    lines,
    write: (text: string) => {
      lines.push(...text.replace(/\n$/, '').split('\n'));
    },
    of: (name: string) => lines.filter((line) => line.startsWith(`[${name}] `)).map((line) => line.slice(name.length + 3)),
  };
}

/** `812 B`, `271.6 KiB`, `1.4 GiB` */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
