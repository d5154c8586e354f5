import * as os from 'node:os';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { REPO_ROOT } from './project.js';

/** `sweep-runtime` as users run it. */
export const CLI = path.join(REPO_ROOT, 'bin', 'sweep-runtime.mjs');

export interface CliOptions {
  readonly cwd: string;
  /** Added to this process's environment (or, with `isolated`, to PATH and HOME only). */
  readonly env?: Record<string, string>;
  /** Only PATH, HOME and `env`: a host's RUSTFLAGS or FORCE_REBUILD would otherwise change what the CLI sees. */
  readonly isolated?: boolean;
  readonly input?: string;
  /** Kills a child that hangs (it then ends with `timedOut`), so a test of a bounded wait fails on its assertions. */
  readonly killAfterMs?: number;
}

export interface CliRun {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as they came. */
  readonly all: string;
  readonly ms: number;
}

/** Starts `sweep-runtime <args>` in `cwd`; the caller may kill it. The child's `all` stream carries stdout and stderr. */
export function startCli(args: readonly string[], options: CliOptions): ResultPromise<{ all: true }> {
  const base = options.isolated ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir() } : {};
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...base, CHECKPOINT_DISABLE: '1', ...options.env },
    extendEnv: !options.isolated,
    reject: false,
    all: true,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
    ...(options.killAfterMs === undefined ? {} : { timeout: options.killAfterMs }),
  }) as ResultPromise<{ all: true }>;
}

/**
 * Runs `sweep-runtime <args>` in `cwd` to its end. Never throws on a non-zero exit: tests assert
 * on the exit code and the output.
 */
export async function runCli(args: readonly string[], options: CliOptions): Promise<CliRun> {
  const started = Date.now();
  const result = await startCli(args, options);
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    all: String(result.all),
    ms: Date.now() - started,
  };
}

/** Resolves once the running process has printed `text`; rejects if it ends first. */
export function outputContains(child: ResultPromise, text: string | RegExp): Promise<void> {
  let seen = '';
  return new Promise<void>((resolve, reject) => {
    const matches = () => (typeof text === 'string' ? seen.includes(text) : text.test(seen));
    child.all!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (matches()) resolve();
    });
    child.then(() => (matches() ? resolve() : reject(new Error(`the process ended before printing ${String(text)}:\n${seen}`))), reject);
  });
}
