import { execa, type Result } from 'execa';
import * as path from 'node:path';
import { REPO_ROOT } from './project.js';

export const CLI = path.join(REPO_ROOT, 'cli', 'sweep-runtime.mjs');

/**
 * Runs `sweep-runtime` as users do, in `cwd`, with the environment given added to this one.
 * Never throws on a non-zero exit: tests assert on the exit code and the output.
 */
export function runCli(args: readonly string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<Result> {
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { CHECKPOINT_DISABLE: '1', ...options.env },
    reject: false,
    all: true,
    ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
  });
}
