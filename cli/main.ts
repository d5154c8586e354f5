import { parseArgs } from 'node:util';
import { describeError, isSweepError } from '../build/errors.js';
import { buildCommand } from './build-command.js';
import { cleanCommand } from './clean-command.js';
import { type CliFlags, resolveCliOptions } from './cli-options.js';
import { fingerprintCommand } from './fingerprint-command.js';
import { invokeCommand } from './invoke-command.js';
import { statusCommand } from './status-command.js';

/**
 * `sweep-runtime <command>`: the engine from the command line, with the same configuration the
 * CDKTF app reads (cdktf.json context `sweep`, then the SWEEP_* / FORCE_REBUILD environment).
 */
export const USAGE = `Usage: sweep-runtime <command> [options]

Commands:
  status                 say cache-hit or cache-miss and why, without building or calling Docker
  build                  build the zip if its inputs changed (what synth does); --force-rebuild to always
  fingerprint            print the fingerprint of the build inputs alone (for keying CI caches)
  clean [--all]          remove the zip and metadata; --all also the cargo caches and builder images
  invoke                 run the built zip's bootstrap against a local Lambda Runtime API

Options (all commands):
  --project DIR          folder of cdktf.json, whose context "sweep" configures the artifact (default: .)
  --workspace DIR        the Cargo workspace (default: context sweep.artifact.workspace, else rust)
  --package NAME         the package with the Lambda binary (default: the one that has --bin)
  --bin NAME             the binary (default: bootstrap)
  -h, --help             this text

build:   --force-rebuild   rebuild even on a cache hit (same as FORCE_REBUILD=1)
invoke:  --event FILE|-    the event JSON (default: {}); - reads standard input
         --timeout SECONDS how long the function may run (default: the function's timeoutSeconds)
         --in-container    run bootstrap in the builder container even if this machine could run it

Environment: FORCE_REBUILD, SWEEP_FORCE_REBUILD, SWEEP_DOCKER_PULL_POLICY, SWEEP_TOOLCHAIN_IMAGE,
SWEEP_DOCKER, SWEEP_CACHE_DIR (see README).`;

const COMMANDS = {
  status: statusCommand,
  build: buildCommand,
  fingerprint: fingerprintCommand,
  clean: cleanCommand,
  invoke: invokeCommand,
} as const;

export async function main(argv: readonly string[]): Promise<number> {
  // `sweep-runtime status | head -1` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let flags: CliFlags;
  let command: string | undefined;
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        project: { type: 'string' },
        workspace: { type: 'string' },
        package: { type: 'string' },
        bin: { type: 'string' },
        'force-rebuild': { type: 'boolean' },
        all: { type: 'boolean' },
        event: { type: 'string' },
        timeout: { type: 'string' },
        'in-container': { type: 'boolean' },
        'options-json': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    flags = parsed.values;
    command = parsed.positionals[0];
    if (parsed.positionals.length > 1) throw new Error(`unexpected argument "${parsed.positionals[1]}"`);
  } catch (error) {
    process.stderr.write(`sweep-runtime: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (flags.help || command === undefined || command === 'help') {
    (command === undefined && !flags.help ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return command === undefined && !flags.help ? 2 : 0;
  }
  const run = COMMANDS[command as keyof typeof COMMANDS];
  if (!run) {
    process.stderr.write(`sweep-runtime: unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    return await run(resolveCliOptions(flags), flags);
  } catch (error) {
    process.stderr.write(`${describeError(error)}\n`);
    if (!isSweepError(error) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
