/**
 * One invocation's log as Lambda writes it to CloudWatch and returns it with `LogType: Tail`:
 * the platform's `START`, `END` and `REPORT` lines around what the function printed, of which the
 * caller gets the last 4 KB. Only that tail is kept, so a function that prints without end costs
 * at most a few kilobytes per invocation here.
 */

/** `X-Amz-Log-Result` carries the last 4 KB of the log (Lambda's Invoke API reference). */
export const LOG_TAIL_BYTES = 4096;

/** The figures of Lambda's `REPORT` line. */
export interface ReportFigures {
  readonly durationMs: number;
  readonly memorySize: number;
  /** Peak resident memory of the runtime process, where it can be read (on this machine). */
  readonly maxMemoryUsedMb?: number;
  /** Set on a cold start: from the process's start to its first request for an event. */
  readonly initDurationMs?: number;
  /** Set when the invocation did not end with the runtime's own answer. */
  readonly status?: 'timeout' | 'error';
  readonly errorType?: string;
}

export function startLine(requestId: string): string {
  return `START RequestId: ${requestId} Version: $LATEST`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/**
 * Lambda's tab-separated `REPORT` line. Billed duration rounds up to the millisecond and, for an
 * OS-only runtime such as `provided.al2023`, includes the init phase (Lambda has always billed
 * init for custom runtimes).
 */
export function reportLine(requestId: string, figures: ReportFigures): string {
  const billed = Math.ceil(figures.durationMs + (figures.initDurationMs ?? 0));
  const fields = [
    `REPORT RequestId: ${requestId}`,
    `Duration: ${figures.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${billed} ms`,
    `Memory Size: ${figures.memorySize} MB`,
  ];
  if (figures.maxMemoryUsedMb !== undefined) fields.push(`Max Memory Used: ${figures.maxMemoryUsedMb} MB`);
  if (figures.initDurationMs !== undefined) fields.push(`Init Duration: ${figures.initDurationMs.toFixed(2)} ms`);
  if (figures.status !== undefined) fields.push(`Status: ${figures.status}`);
  if (figures.errorType !== undefined) fields.push(`Error Type: ${figures.errorType}`);
  return `${fields.join('\t')}\t`;
}

/** Collects an invocation's lines, keeping only what its last {@link LOG_TAIL_BYTES} can show. */
export class LogTail {
  private readonly lines: string[] = [];
  /** Bytes of `lines`, each counted with its newline. */
  private bytes = 0;

  add(line: string): void {
    this.lines.push(line);
    this.bytes += Buffer.byteLength(line) + 1;
    // The oldest line can go once the lines after it fill the tail on their own.
    while (this.lines.length > 1 && this.bytes - (Buffer.byteLength(this.lines[0]!) + 1) >= LOG_TAIL_BYTES) {
      this.bytes -= Buffer.byteLength(this.lines.shift()!) + 1;
    }
  }

  /** The last {@link LOG_TAIL_BYTES} bytes of the log, cut at a byte boundary as Lambda cuts it. */
  tail(): Buffer {
    const text = Buffer.from(this.lines.map((line) => `${line}\n`).join(''));
    return text.length > LOG_TAIL_BYTES ? text.subarray(text.length - LOG_TAIL_BYTES) : text;
  }
}
