/**
 * Turns a stream of saves into rebuilds:
 * - debounced: a rebuild starts once no save has come for `quietMs` (an editor's save is often
 *   several writes: a temporary file, a rename, a format-on-save), with every path saved since
 *   the last rebuild began;
 * - never two at once: saves that come while a rebuild runs are kept, and once it ends (and the
 *   quiet time since the last of them has passed) one more rebuild follows with them. The engine
 *   itself refuses to commit a zip whose sources changed during its compile, and compiles again;
 *   the follow-up makes sure the last save is always built, whatever the engine decided.
 */
export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface SaveBatcherOptions {
  /** How long after the last save a rebuild starts. */
  readonly quietMs: number;
  /** One rebuild, with the paths saved since the previous one began; its failure is its own to report. */
  readonly rebuild: (paths: ReadonlySet<string>) => Promise<void>;
  /** @default setTimeout / clearTimeout */
  readonly timers?: Timers;
}

export class SaveBatcher {
  private saved = new Set<string>();
  private timer: unknown;
  /** The quiet time since the last save has passed, and a rebuild should start as soon as none runs. */
  private due = false;
  private running: Promise<void> | undefined;
  private closed = false;
  private readonly timers: Timers;

  constructor(private readonly options: SaveBatcherOptions) {
    this.timers = options.timers ?? REAL_TIMERS;
  }

  /** A save of `path`: (re)starts the quiet time. */
  add(path: string): void {
    if (this.closed) return;
    this.saved.add(path);
    this.due = false;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = this.timers.set(() => this.quiet(), this.options.quietMs);
  }

  /** Whether a rebuild runs now. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Saves not yet handed to a rebuild. */
  get waiting(): number {
    return this.saved.size;
  }

  /** Resolves once no rebuild runs and none is waiting to start (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running || this.timer !== undefined) {
      if (this.running) await this.running;
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** No more rebuilds start; one running is left to end (the caller cancels it). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.saved.clear();
  }

  private quiet(): void {
    this.timer = undefined;
    this.due = true;
    if (!this.running) this.start();
  }

  private start(): void {
    if (this.closed || !this.due || this.saved.size === 0) return;
    const paths = this.saved;
    this.saved = new Set();
    this.due = false;
    this.running = this.options
      .rebuild(paths)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        // Saves made during the rebuild whose quiet time has passed: follow it at once. (Those
        // still within their quiet time start when it ends.)
        this.start();
      });
  }
}
