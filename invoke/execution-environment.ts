/**
 * One execution environment, as Lambda keeps one: a `bootstrap` process started with Lambda's
 * environment variables, its own Runtime API server, and its own unpacked copy of one code
 * version. It runs one invocation at a time and stays up between them, so a second invocation is
 * a warm start that reuses the process (and whatever it initialised). After a crash, a timeout or
 * a failed init it is no longer reusable, as on Lambda, which then resets the environment; the
 * pool that owns it disposes of it.
 *
 * The process runs on this machine or, when `where` names an image, in that builder image with
 * the confinement of container-run.ts; either way its output is read line by line, so each
 * invocation can be given the lines printed while it ran.
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { execa } from 'execa';
import { containerRunArgs } from './container-run.js';
import type { FunctionCode } from './function-code.js';
import { LAMBDA_TASK_ROOT, lambdaEnvironment } from './lambda-environment.js';
import { type InvocationOutcome, type InvokeOptions, RuntimeApiServer } from './runtime-api-server.js';

export interface EnvironmentConfig {
  readonly code: FunctionCode;
  readonly functionName: string;
  readonly memorySize: number;
  readonly region: string;
  /** The function's configured environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** `host`, or the image to run in (see where-to-run.ts). */
  readonly where: string;
  readonly dockerCommand: string;
  /** Who runs `bootstrap` in a container; default the calling user. */
  readonly runAs?: { readonly uid: number; readonly gid: number };
  /** Every line the process prints (stdout and stderr), as it comes. */
  readonly onLog?: (line: string) => void;
  /** Called once when the process ends, also when it ends between invocations. */
  readonly onExit?: (environment: ExecutionEnvironment) => void;
}

/** How one invocation in an environment ended. */
export type EnvironmentOutcome =
  | InvocationOutcome
  /** The process ended before answering. */
  | { readonly kind: 'exited'; readonly requestId: string; readonly exitCode: number | null; readonly signal: string | null }
  /** The process could not be started (e.g. `bootstrap` is not an executable for this machine). */
  | { readonly kind: 'spawn-failed'; readonly requestId: string; readonly message: string };

export interface EnvironmentInvokeOptions extends Omit<InvokeOptions, 'requestId'> {
  readonly requestId: string;
  /** The lines printed while this invocation runs; for a cold start, its init's lines too. */
  readonly onLine?: (line: string) => void;
}

export interface EnvironmentInvocation {
  readonly outcome: EnvironmentOutcome;
  /** The first invocation of this environment, which paid for starting it. */
  readonly coldStart: boolean;
  /** On a cold start: from starting the process to its first request for an event. */
  readonly initDurationMs: number | undefined;
  /** Peak resident memory of the process so far, read on this machine only. */
  readonly maxMemoryUsedMb: number | undefined;
  /** False after a crash, a timeout or a failed init: the environment must be disposed of. */
  readonly reusable: boolean;
}

type Ended =
  | { readonly kind: 'exited'; readonly exitCode: number | null; readonly signal: string | null }
  | { readonly kind: 'spawn-failed'; readonly message: string };

export class ExecutionEnvironment {
  /** Short and random, like the suffix of Lambda's log stream names; for log lines and tests. */
  readonly id = randomBytes(4).toString('hex');
  private invocations = 0;
  private busy = false;
  private ended: Ended | undefined;
  private capture: ((line: string) => void) | undefined;
  private disposing: Promise<void> | undefined;
  private readonly partials: Array<() => void> = [];

  private constructor(
    readonly config: EnvironmentConfig,
    private readonly taskRoot: string,
    private readonly server: RuntimeApiServer,
    private readonly child: ChildProcess,
    private readonly container: string | undefined,
    private readonly startedAt: number,
    private readonly exited: Promise<Ended>,
  ) {
    for (const stream of [child.stdout, child.stderr]) if (stream) this.partials.push(readLines(stream, (line) => this.line(line)));
    void exited.then((ended) => {
      this.ended = ended;
      config.onExit?.(this);
    });
  }

  /** Unpacks the code, starts its Runtime API server and the process; the first invoke() is its cold start. */
  static async start(config: EnvironmentConfig): Promise<ExecutionEnvironment> {
    const taskRoot = config.code.unpack();
    let server: RuntimeApiServer | undefined;
    try {
      server = await RuntimeApiServer.start();
      const environment = lambdaEnvironment({
        functionName: config.functionName,
        memorySize: config.memorySize,
        region: config.region,
        runtimeApi: server.endpoint,
        handler: 'bootstrap',
        taskRoot: config.where === 'host' ? taskRoot : LAMBDA_TASK_ROOT,
        configured: config.environment,
      });
      const stdio: StdioOptions = ['ignore', 'pipe', 'pipe'];
      let child: ChildProcess;
      let container: string | undefined;
      if (config.where === 'host') {
        // Only Lambda's variables: nothing of this process's environment (host credentials
        // included) reaches the function.
        child = spawn(path.join(taskRoot, 'bootstrap'), [], { cwd: taskRoot, env: environment, stdio });
      } else {
        container = `sweep-env-${randomBytes(6).toString('hex')}`;
        const uid = process.getuid?.();
        const gid = process.getgid?.();
        const user = config.runAs ?? (uid !== undefined && gid !== undefined ? { uid, gid } : undefined);
        const args = containerRunArgs({ name: container, image: config.where, taskRoot, environment, memorySize: config.memorySize, user });
        child = spawn(config.dockerCommand, args, { stdio });
      }
      const exited = new Promise<Ended>((resolve) => {
        child.once('exit', (exitCode, signal) => resolve({ kind: 'exited', exitCode, signal }));
        child.once('error', (error) => resolve({ kind: 'spawn-failed', message: error.message }));
      });
      return new ExecutionEnvironment(config, taskRoot, server, child, container, performance.now(), exited);
    } catch (error) {
      await server?.close().catch(() => undefined);
      fs.rmSync(taskRoot, { recursive: true, force: true });
      throw error;
    }
  }

  /** The process id (the docker client's, in a container), for telling environments apart. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Invocations started in this environment so far. */
  get invocationCount(): number {
    return this.invocations;
  }

  /** Whether it can take an invocation now: started, not ended, not busy, not being disposed of. */
  get idle(): boolean {
    return !this.busy && this.ended === undefined && this.disposing === undefined;
  }

  /**
   * Runs one invocation; rejects if the environment is busy or being disposed of. A process that
   * has already ended answers at once with how it ended.
   */
  async invoke(event: string, options: EnvironmentInvokeOptions): Promise<EnvironmentInvocation> {
    if (this.busy || this.disposing)
      throw new Error(`execution environment ${this.id} cannot take an invocation now (busy or disposed of)`);
    this.busy = true;
    this.capture = options.onLine;
    const coldStart = this.invocations === 0;
    this.invocations += 1;
    const { requestId, onLine: _, ...invokeOptions } = options;
    try {
      const outcome: EnvironmentOutcome = await Promise.race([
        this.server.invoke(event, { ...invokeOptions, requestId }),
        this.exited.then((ended) => ({ ...ended, requestId })),
      ]);
      await this.drainOutput();
      const initDurationMs = coldStart && this.server.firstPollAt !== undefined ? this.server.firstPollAt - this.startedAt : undefined;
      const reusable = (outcome.kind === 'response' || outcome.kind === 'function-error') && this.ended === undefined;
      return { outcome, coldStart, initDurationMs, maxMemoryUsedMb: this.maxMemoryUsedMb(), reusable };
    } finally {
      this.capture = undefined;
      this.busy = false;
    }
  }

  /**
   * Stops the process (and its container), closes its Runtime API server and removes its task
   * root. Safe to call more than once; every call resolves when all of that is done.
   */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (this.ended === undefined) this.child.kill('SIGKILL');
      // Killing the docker client does not stop its container: remove that by name.
      if (this.container) await execa(this.config.dockerCommand, ['rm', '-f', this.container], { reject: false });
      await this.exited;
      await this.server.close().catch(() => undefined);
      fs.rmSync(this.taskRoot, { recursive: true, force: true });
    })();
    return this.disposing;
  }

  private line(line: string): void {
    this.config.onLog?.(line);
    this.capture?.(line);
  }

  /**
   * Lets output already written reach the line readers before the invocation's lines are handed
   * over: the runtime writes its log lines before it posts its answer, but the pipe's data and the
   * HTTP request are separate events of the same loop turn, in either order. Two turns of the
   * event loop (a poll phase between two immediates) deliver whatever was written before the
   * answer; a line without its newline yet is flushed as it is.
   */
  private async drainOutput(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    for (const flush of this.partials) flush();
  }

  /** VmHWM, the peak resident set, as Lambda's `Max Memory Used`; only for a process on this machine. */
  private maxMemoryUsedMb(): number | undefined {
    if (this.container !== undefined || this.child.pid === undefined) return undefined;
    try {
      const match = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
      return match ? Math.ceil(Number(match[1]) / 1024) : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Calls `onLine` for each line of `stream` (UTF-8, a trailing `\r` dropped); returns a function
 * that flushes a partial last line.
 */
function readLines(stream: Readable, onLine: (line: string) => void): () => void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  const flush = () => {
    const rest = partial + decoder.end();
    partial = '';
    if (rest !== '') onLine(rest);
  };
  stream.on('data', (chunk: Buffer) => emit(decoder.write(chunk)));
  stream.once('end', flush);
  return () => {
    if (partial !== '') {
      const rest = partial;
      partial = '';
      onLine(rest);
    }
  };
}
