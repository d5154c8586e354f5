import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { createLambdaZip, ZIP_ENTRY_NAME, zipEntryOptions } from './zip.js';

/*
 * Packaging on every core: after a cargo run of many functions, their zips are deflated by a pool
 * of worker threads, one per core, so packaging keeps up with cargo instead of taking one core
 * for a function at a time (issue 22: at level 9, one after another, it was 80% of a cold
 * 100-function build).
 *
 * The pool starts its workers when work comes (no more than there are zips waiting) and keeps
 * them for the rest of the batch; idle workers do not keep the process alive (unref), and they
 * stop after IDLE_MS without work. Every worker deflates with fflate, the same pure-JS code and
 * the same options (zipEntryOptions) as createLambdaZip, so the bytes do not depend on the
 * thread, the machine or Node's zlib; a worker also hashes its zip, off the main thread.
 *
 * A worker that cannot start or fails is not an error of the build: that zip is made in-process
 * (createLambdaZip, the same bytes).
 */
export interface PackagedZip {
  readonly zip: Uint8Array;
  readonly sha256: Buffer;
  /** Milliseconds the deflate and hash took, without the wait for a free worker. */
  readonly ms: number;
}

const IDLE_MS = 2000;

/**
 * Binaries smaller than this are deflated in-process: a worker's start and its first,
 * not yet optimised, deflate add about 100 ms (measured: 600 KB took 26-71 ms in-process, 123-153
 * ms as a new worker's first job; 10 MB about the same either way), more than a small binary's
 * whole deflate.
 */
export const IN_PROCESS_BELOW_BYTES = 2 * 1024 * 1024;

/** The worker: CommonJS evaluated from this text, fflate loaded by its resolved path. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { zipSync } = require(workerData.fflate);
parentPort.on('message', ({ id, binary, name, options }) => {
  try {
    const started = performance.now();
    const zip = zipSync({ [name]: [binary, options] }, {});
    const sha256 = createHash('sha256').update(zip).digest();
    parentPort.postMessage({ id, zip, sha256, ms: performance.now() - started }, [zip.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.stack || error) });
  }
});
`;

interface Job {
  readonly id: number;
  readonly binary: Uint8Array;
  readonly resolve: (zip: PackagedZip) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | undefined;
}

export class PackagingPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  /**
   * `size`: the most workers. @default the machine's cores (os.availableParallelism)
   * `inProcessBelow`: binaries smaller than this are deflated in-process. @default IN_PROCESS_BELOW_BYTES
   */
  constructor(
    private readonly size = os.availableParallelism(),
    private readonly inProcessBelow = IN_PROCESS_BELOW_BYTES,
  ) {}

  /** How many worker threads are up. */
  get workers(): number {
    return this.slots.length;
  }

  /** The zip of `binary` (as createLambdaZip makes it) and its SHA-256. */
  zip(binary: Uint8Array): Promise<PackagedZip> {
    return new Promise((resolve) => {
      const job = { id: this.nextId++, binary, resolve };
      if (binary.byteLength < this.inProcessBelow) {
        setImmediate(() => this.inProcess(job));
        return;
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Stops every worker (waiting jobs are made in-process). */
  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const slots = this.slots.splice(0);
    const unfinished = [...slots.flatMap((slot) => (slot.job ? [slot.job] : [])), ...this.queue.splice(0)];
    for (const slot of slots) slot.job = undefined;
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    for (const job of unfinished) this.inProcess(job);
  }

  private dispatch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === undefined);
      if (!slot && this.slots.length < this.size) slot = this.start();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, binary: job.binary, name: ZIP_ENTRY_NAME, options: zipEntryOptions() });
    }
    if (this.slots.length > 0 && this.slots.every((s) => s.job === undefined)) {
      for (const slot of this.slots) slot.worker.unref();
      this.idleTimer = setTimeout(() => void this.close(), IDLE_MS);
      this.idleTimer.unref();
    }
  }

  private start(): Slot | undefined {
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { fflate: FFLATE } });
    } catch {
      return undefined;
    }
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (message: { id: number; zip?: Uint8Array; sha256?: Uint8Array; ms?: number; error?: string }) => {
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      slot.job = undefined;
      if (message.zip && message.sha256) job.resolve({ zip: message.zip, sha256: Buffer.from(message.sha256), ms: message.ms ?? 0 });
      else this.inProcess(job);
      this.dispatch();
    });
    const lost = () => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      if (slot.job) this.inProcess(slot.job);
      slot.job = undefined;
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    this.slots.push(slot);
    return slot;
  }

  private inProcess(job: Job): void {
    const started = performance.now();
    const zip = createLambdaZip(job.binary);
    job.resolve({ zip, sha256: createHash('sha256').update(zip).digest(), ms: performance.now() - started });
  }
}

/** fflate's CommonJS build, resolved from here (bundled or not, this module keeps its own URL). */
const FFLATE = createRequire(import.meta.url).resolve('fflate');

let shared: PackagingPool | undefined;

/** The process's pool: started on first use, its workers gone after a while without work. */
export function packageZip(binary: Uint8Array): Promise<PackagedZip> {
  shared ??= new PackagingPool();
  return shared.zip(binary);
}
