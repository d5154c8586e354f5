import * as path from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './project.js';

export const CLI = path.join(REPO_ROOT, 'bin', 'sweep-runtime.mjs');

export interface CliRun {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved as they came. */
  readonly all: string;
}

/**
 * Runs `sweep-runtime` as users do, in `cwd`, with the environment given added to this one.
 * Never throws on a non-zero exit: tests assert on the exit code and the output.
 */
export async function runCli(
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<CliRun> {
  const result = await execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { CHECKPOINT_DISABLE: '1', ...options.env },
    reject: false,
    all: true,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
  return { exitCode: result.exitCode, signal: result.signal, stdout: result.stdout, stderr: result.stderr, all: result.all };
}
