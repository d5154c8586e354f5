import { formatElapsed, formatMs } from './stats.js';

/**
 * Progress lines for a long run, on stderr (stdout is kept for the results table):
 * `[ 3:12] cold 2/3 ... 27.1 s (builder-image 22.1 s, compile 4.1 s)`.
 */
export class Progress {
  private readonly started = performance.now();

  constructor(private readonly out: NodeJS.WritableStream = process.stderr) {}

  elapsedMs(): number {
    return performance.now() - this.started;
  }

  line(text: string): void {
    this.out.write(`[${formatElapsed(this.elapsedMs()).padStart(5)}] ${text}\n`);
  }

  scenario(label: string, detail = ''): void {
    this.line(`== ${label}${detail ? ` (${detail})` : ''}`);
  }

  /** Call before an iteration; the returned function prints its result line. */
  iteration(label: string, n: number, of: number): (ms: number, detail?: string) => void {
    this.line(`${label} ${n}/${of} ...`);
    return (ms, detail) => this.line(`${label} ${n}/${of}: ${formatMs(ms)}${detail ? ` (${detail})` : ''}`);
  }
}
