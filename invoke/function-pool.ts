/**
 * The execution environments of one function, kept as Lambda keeps them:
 * - an invocation takes an idle environment when there is one (a warm start), else starts one
 *   (a cold start);
 * - concurrent invocations get separate environments, up to the function's reserved concurrency
 *   when it has one, else {@link DEFAULT_CONCURRENCY}; beyond that an invocation is throttled,
 *   or, if it asks to queue (an `Event` invocation, which Lambda queues), waits for a free one;
 * - an environment that crashed, timed out or failed its init is disposed of;
 * - new code (replaceCode) applies to every invocation admitted after it: idle environments of
 *   the old code are retired at once, busy ones when their invocation ends. No environment ever
 *   runs a mix, and none outlives its code.
 *
 * Every invocation is logged as Lambda logs it (START, the function's lines, END, REPORT); the
 * last 4 KB of that is returned for `LogType: Tail`.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { FunctionConfig } from '../config/app-config.js';
import { type EnvironmentOutcome, ExecutionEnvironment } from './execution-environment.js';
import { type CodeSource, FunctionCode } from './function-code.js';
import { functionArn } from './function-name.js';
import { endLine, LogTail, reportLine, startLine } from './invocation-log.js';
import { INIT_TIMEOUT_MS } from './limits.js';
import { whereToRun } from './where-to-run.js';

/**
 * Environments per function when it has no reserved concurrency: enough for a load test from a
 * laptop to see real concurrency, few enough that a runaway loop does not start hundreds of
 * processes. (Lambda's own account default is 1,000.)
 */
export const DEFAULT_CONCURRENCY = 10;

/** What the pool needs of a function's settings: cdktf.json's, as config/app-config.ts resolves them. */
export type LocalFunction = Pick<
  FunctionConfig,
  'key' | 'functionName' | 'memorySize' | 'timeoutSeconds' | 'environment' | 'reservedConcurrency'
>;

/** How environments run. */
export interface RunnerOptions {
  /**
   * Run `bootstrap` in its builder image even when this machine could run it.
   * @default false - on this machine when it can (see where-to-run.ts)
   */
  readonly inContainer?: boolean;
  /** @default 'docker' */
  readonly dockerCommand?: string;
  /** Who runs `bootstrap` in a container. @default the calling user */
  readonly runAs?: { readonly uid: number; readonly gid: number };
}

export interface FunctionPoolConfig {
  readonly function: LocalFunction;
  readonly code: CodeSource;
  readonly region: string;
  readonly runner?: RunnerOptions;
  /** The cap when the function has no reserved concurrency. @default {@link DEFAULT_CONCURRENCY} */
  readonly defaultConcurrency?: number;
  /** The init phase's budget. @default {@link INIT_TIMEOUT_MS}, Lambda's 10 s */
  readonly initTimeoutMs?: number;
  /** Every log line: the platform's START/END/REPORT and the function's own output. */
  readonly onLog?: (line: string) => void;
}

export interface PoolInvokeOptions {
  /** @default a random UUID, as Lambda's are */
  readonly requestId?: string;
  /** The ARN the caller invoked. @default this function's unqualified ARN */
  readonly functionArn?: string;
  /** The decoded `X-Amz-Client-Context`, passed on as `Lambda-Runtime-Client-Context`. */
  readonly clientContext?: string;
  /** At the cap, wait for a free environment instead of being throttled (Lambda queues `Event` invocations). */
  readonly queue?: boolean;
}

/** What one invocation came to. */
export type PoolInvocation =
  | {
      readonly kind: 'throttled';
      readonly requestId: string;
      readonly limit: number;
      /** Whether the limit is the function's reserved concurrency (Lambda names the two differently). */
      readonly reserved: boolean;
    }
  | {
      readonly kind: 'completed';
      readonly requestId: string;
      readonly outcome: EnvironmentOutcome;
      readonly coldStart: boolean;
      readonly environmentId: string;
      readonly pid: number | undefined;
      readonly codeVersion: number;
      /** The last 4 KB of the invocation's log, for `X-Amz-Log-Result`. */
      readonly logTail: Buffer;
    };

/** One environment, for tests and for a watch loop's status line. */
export interface EnvironmentInfo {
  readonly id: string;
  readonly pid: number | undefined;
  readonly codeVersion: number;
  readonly invocations: number;
  readonly idle: boolean;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class FunctionPool {
  private code: FunctionCode;
  private where: string;
  /** Every live environment, idle or busy. */
  private readonly environments = new Set<ExecutionEnvironment>();
  /** Idle environments of the current code, most recently used last (reused first, as Lambda tends to). */
  private readonly idle: ExecutionEnvironment[] = [];
  /** Invocations holding a slot (running, or starting their environment). */
  private inFlight = 0;
  /** Queued invocations waiting for a slot, oldest first. */
  private readonly waiters: Waiter[] = [];
  private readonly disposals = new Set<Promise<void>>();
  private closed = false;

  /** Reads and checks the code (see FunctionCode.read); starts nothing until the first invocation. */
  constructor(private readonly config: FunctionPoolConfig) {
    this.code = FunctionCode.read(config.code);
    this.where = whereToRun(config.code.metadata, config.runner?.inContainer ?? false, config.code.builderImage);
  }

  get function(): LocalFunction {
    return this.config.function;
  }

  /** How many invocations may run at once: the reserved concurrency, else the default cap. */
  get limit(): number {
    return this.config.function.reservedConcurrency ?? this.config.defaultConcurrency ?? DEFAULT_CONCURRENCY;
  }

  /** The current code's version (FunctionCode.version). */
  get codeVersion(): number {
    return this.code.version;
  }

  /** `host`, or the image the current code's environments run in. */
  get runsOn(): string {
    return this.where;
  }

  get environmentInfo(): EnvironmentInfo[] {
    return [...this.environments].map((env) => ({
      id: env.id,
      pid: env.pid,
      codeVersion: env.config.code.version,
      invocations: env.invocationCount,
      idle: env.idle,
    }));
  }

  /** Runs one invocation, or says it was throttled. Rejects only if the pool is closed or an environment cannot be set up. */
  async invoke(event: string, options: PoolInvokeOptions = {}): Promise<PoolInvocation> {
    const requestId = options.requestId ?? randomUUID();
    if (this.closed) throw new Error(`the pool of ${this.config.function.key} is closed`);
    if (this.inFlight >= this.limit) {
      // A limit of 0 is Lambda's way to stop a function: nothing would ever free a slot.
      if (!options.queue || this.limit === 0) {
        return { kind: 'throttled', requestId, limit: this.limit, reserved: this.config.function.reservedConcurrency !== null };
      }
      // The releasing invocation hands its slot over (see release()).
      await new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    } else {
      this.inFlight += 1;
    }

    let env = this.idle.pop();
    if (!env) {
      try {
        env = await this.startEnvironment();
      } catch (error) {
        this.releaseSlot();
        throw error;
      }
    }
    return this.run(env, event, requestId, options);
  }

  /**
   * Makes `source` the code of every invocation admitted from now on. The zip is read and checked
   * first: a zip that cannot run leaves the current code in place. Idle environments of the old
   * code are retired (resolves once they are gone); busy ones finish their invocation first.
   */
  async replaceCode(source: CodeSource): Promise<void> {
    const code = FunctionCode.read(source);
    const where = whereToRun(source.metadata, this.config.runner?.inContainer ?? false, source.builderImage);
    this.code = code;
    this.where = where;
    await Promise.all(this.idle.splice(0).map((env) => this.retire(env)));
  }

  /** Resolves once every environment retired so far is gone (process stopped, task root removed). */
  async settled(): Promise<void> {
    while (this.disposals.size > 0) await Promise.all(this.disposals);
  }

  /** Disposes of every environment (a running invocation ends as a crash) and refuses new invocations. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`the pool of ${this.config.function.key} was closed`));
    for (const env of this.environments) void this.retire(env);
    this.idle.length = 0;
    await this.settled();
  }

  private async startEnvironment(): Promise<ExecutionEnvironment> {
    const fn = this.config.function;
    const env = await ExecutionEnvironment.start({
      code: this.code,
      functionName: fn.functionName,
      memorySize: fn.memorySize,
      region: this.config.region,
      environment: fn.environment,
      where: this.where,
      dockerCommand: this.config.runner?.dockerCommand ?? 'docker',
      runAs: this.config.runner?.runAs,
      onLog: this.config.onLog,
      // An environment whose process ends while idle is gone, as on Lambda: the next invocation starts another.
      // (One that ends during an invocation is retired when that invocation returns.)
      onExit: (ended) => {
        if (this.idle.includes(ended)) void this.retire(ended);
      },
    });
    this.environments.add(env);
    return env;
  }

  private async run(env: ExecutionEnvironment, event: string, requestId: string, options: PoolInvokeOptions): Promise<PoolInvocation> {
    const fn = this.config.function;
    const timeoutMs = fn.timeoutSeconds * 1000;
    const tail = new LogTail();
    const log = (line: string) => {
      tail.add(line);
      this.config.onLog?.(line);
    };
    log(startLine(requestId));
    const started = performance.now();
    let result: Awaited<ReturnType<ExecutionEnvironment['invoke']>>;
    try {
      result = await env.invoke(event, {
        requestId,
        timeoutMs,
        initTimeoutMs: this.config.initTimeoutMs ?? INIT_TIMEOUT_MS,
        functionArn: options.functionArn ?? functionArn(this.config.region, fn.functionName),
        clientContext: options.clientContext,
        onLine: (line) => tail.add(line),
      });
    } catch (error) {
      void this.retire(env);
      this.releaseSlot();
      throw error;
    }
    const { outcome } = result;
    // The platform's own lines for the two timeouts, as Lambda writes them to the log.
    if (outcome.kind === 'timeout')
      log(`${new Date().toISOString()} ${requestId} Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`);
    if (outcome.kind === 'init-timeout')
      log(`INIT_REPORT Init Duration: ${outcome.initTimeoutMs.toFixed(2)} ms\tPhase: init\tStatus: timeout`);
    log(endLine(requestId));
    log(
      reportLine(requestId, {
        durationMs: 'durationMs' in outcome ? outcome.durationMs : outcome.kind === 'timeout' ? timeoutMs : performance.now() - started,
        memorySize: fn.memorySize,
        maxMemoryUsedMb: result.maxMemoryUsedMb,
        initDurationMs: result.initDurationMs,
        status: outcome.kind === 'timeout' || outcome.kind === 'init-timeout' ? 'timeout' : result.reusable ? undefined : 'error',
      }),
    );
    if (result.reusable && env.config.code === this.code && !this.closed) this.idle.push(env);
    else void this.retire(env);
    this.releaseSlot();
    return {
      kind: 'completed',
      requestId,
      outcome,
      coldStart: result.coldStart,
      environmentId: env.id,
      pid: env.pid,
      codeVersion: env.config.code.version,
      logTail: tail.tail(),
    };
  }

  /** Hands the slot to the oldest queued invocation, or frees it. */
  private releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.inFlight -= 1;
  }

  private retire(env: ExecutionEnvironment): Promise<void> {
    const index = this.idle.indexOf(env);
    if (index !== -1) this.idle.splice(index, 1);
    const disposal = env.dispose().finally(() => {
      this.environments.delete(env);
      this.disposals.delete(disposal);
    });
    this.disposals.add(disposal);
    return disposal;
  }
}
