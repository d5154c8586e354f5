import type { Writable } from 'node:stream';

/**
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

export function createReporter(name: string, out: Writable = process.stdout): Reporter {
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

/** A reporter that keeps its lines, for tests and for callers that print elsewhere. */
export function createRecordingReporter(): Reporter & { readonly lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    line: (text) => {
      lines.push(text);
    },
    stream: (stage) => (line) => {
      lines.push(`${stage} | ${line}`);
    },
  };
}
