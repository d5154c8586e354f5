import { stripVTControlCharacters } from 'node:util';
import { type ExecaError, execa } from 'execa';
import type { Stage } from '../support/errors.js';
import { dockerCommandNotExecutable, dockerCommandNotFound, dockerEngineNotAnswering } from './errors.js';

/**
 * The Docker CLI, as the engine uses it. `command` is `docker` unless `SWEEP_DOCKER` names
 * another client (like CDK's `CDK_DOCKER`), e.g. `podman` or a wrapper script.
 */
export class DockerClient {
  constructor(readonly command: string) {}

  /** Fails with a clear error when the client is missing, not executable, or no engine answers. */
  async ensureEngine(): Promise<string> {
    try {
      const { stdout } = await execa(this.command, ['version', '--format', '{{.Server.Version}}'], { timeout: 30_000 });
      return stdout.trim();
    } catch (error) {
      const e = error as ExecaError;
      if (e.code === 'ENOENT') throw dockerCommandNotFound(this.command, error);
      if (e.code === 'EACCES') throw dockerCommandNotExecutable(this.command, error);
      throw dockerEngineNotAnswering(this.command, String(e.stderr || e.shortMessage || e.message), error);
    }
  }

  /** The image's ID, or undefined when no image of that reference is present locally. */
  async imageId(reference: string): Promise<string | undefined> {
    const result = await execa(this.command, ['image', 'inspect', '--format', '{{.Id}}', reference], { reject: false });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  /**
   * Runs a docker command whose output is progress: every line goes to `onLine` as it comes,
   * and the last lines are kept for the error if it fails.
   */
  async stream(stage: Stage, args: readonly string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<void> {
    await this.run(stage, args, onLine, onLine, signal);
  }

  /**
   * Like `stream` for stderr, but returns stdout (for commands whose output is data, like cargo
   * tree, or cargo's JSON messages); a failure carries the stdout it had too.
   */
  async captureStreamingStderr(
    stage: Stage,
    args: readonly string[],
    onLine: (line: string) => void,
    signal?: AbortSignal,
  ): Promise<string> {
    const lines: string[] = [];
    try {
      await this.run(stage, args, (line) => lines.push(line), onLine, signal);
    } catch (error) {
      if (error instanceof DockerCommandError) error.stdout = lines.join('\n');
      throw error;
    }
    return lines.join('\n');
  }

  /** Runs a docker command and returns its stdout; failures are errors of `stage`. */
  async capture(stage: Stage, args: readonly string[]): Promise<string> {
    try {
      const { stdout } = await execa(this.command, args);
      return stdout;
    } catch (error) {
      const e = error as ExecaError;
      throw new DockerCommandError(stage, [this.command, ...args].join(' '), e.exitCode, false, String(e.stderr ?? ''), error);
    }
  }

  private async run(
    stage: Stage,
    args: readonly string[],
    onStdout: (line: string) => void,
    onStderr: (line: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const tail: string[] = [];
    const sink = (deliver: (line: string) => void) =>
      // biome-ignore lint/correctness/useYield: an execa transform that yields nothing streams each line here instead of buffering it
      function* (line: unknown) {
        // Docker's legacy builder colours a step's stderr; the escapes mean nothing in a log.
        const text = stripVTControlCharacters(String(line));
        tail.push(text);
        if (tail.length > 200) tail.shift();
        deliver(text);
      };
    try {
      await execa(this.command, args, {
        stdin: 'ignore',
        stdout: sink(onStdout),
        stderr: sink(onStderr),
        buffer: false,
        cancelSignal: signal,
        forceKillAfterDelay: 5_000,
      });
    } catch (error) {
      const e = error as ExecaError;
      if (e.code === 'ENOENT') throw dockerCommandNotFound(this.command, error);
      throw new DockerCommandError(stage, [this.command, ...args].join(' '), e.exitCode, e.isCanceled, tail.join('\n'), error);
    }
  }
}

/** A docker command that failed or was cancelled; callers turn it into a SweepError with a fix. */
export class DockerCommandError extends Error {
  /** What the command printed on stdout, when it was captured (captureStreamingStderr). */
  stdout: string | undefined;

  constructor(
    readonly stage: Stage,
    readonly commandLine: string,
    readonly exitCode: number | undefined,
    readonly cancelled: boolean,
    readonly output: string,
    cause: unknown,
  ) {
    super(`${commandLine} ${cancelled ? 'was cancelled' : `exited with ${exitCode ?? 'a signal'}`}`, { cause });
    this.name = 'DockerCommandError';
  }
}
