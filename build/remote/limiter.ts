/*
 * At most `size` holders at once; the others wait in order. The store uses one so that its
 * operations never queue inside the SDK (whose socket pool would count the wait as a connection
 * that does not come), and the remote cache one so that downloaded zips are read into memory
 * one at a time.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError(`a limiter needs a size of at least 1, got ${size}`);
  }

  /** Resolves once a place is free; call the returned function (once) to free it. */
  async acquire(): Promise<() => void> {
    if (this.active < this.size) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The place passes straight to the next holder, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Runs `work` holding a place. */
  async run<T>(work: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }
}
