import { parseArgs } from 'node:util';
import { describeError, isSweepError, unexpectedFailure } from '../build/index.js';
import { type CliFlags, type CliOptions, resolveCliOptions } from './cli-options.js';

/*
 * `sweep-runtime <command>`: the engine from the command line, with the configuration the CDKTF
 * app reads (cdktf.json context `sweep`, then the SWEEP_* / FORCE_REBUILD environment). Each
 * command acts on every function of cdktf.json, or on those named with --function.
 */
export const USAGE = `Usage: sweep-runtime <command> [options]

Commands:
  status [--remote]      say cache-hit or cache-miss and why, per function, without building or calling Docker;
                         --remote also asks the shared cache whether it holds the current build (one HEAD)
  build                  build the zips whose inputs changed (what synth does); --force-rebuild to always
  fingerprint            print the fingerprint of the build inputs (alone for one function, "fingerprint  name" per line for several)
  clean [--all]          remove the zips and metadata; --all also the cargo caches and builder images
  invoke                 run a built zip's bootstrap against a local Lambda Runtime API (--function required with several)
  push                   upload the current verified zips to the shared cache (built by a publishing build)
  keygen NAME --out DIR  a new key pair for signing the shared cache: DIR/NAME.private (for the publishing CI's
                         secret store, SWEEP_SIGNING_KEY) and DIR/NAME.public (for remoteCache.trustedKeys); prints the public line

Options (all commands):
  --project DIR          folder of cdktf.json, whose context "sweep" configures the functions (default: .)
  --function NAME        act on this function only (repeat for several; default: every function)
  --workspace DIR        the Cargo workspace (default: context sweep.artifact.workspace, else rust)
  --package NAME         the package with the Lambda binary (one function only)
  --bin NAME             the binary (one function only)
  -h, --help             this text

build:   --force-rebuild   rebuild even on a cache hit (same as FORCE_REBUILD=1)
invoke:  --event FILE|-    the event JSON (default: {}); - reads standard input
         --timeout SECONDS how long the function may run, more than 0 and at most 900 (default: the function's timeoutSeconds)
         --in-container    run bootstrap in the builder container even if this machine could run it

Environment: FORCE_REBUILD, SWEEP_FORCE_REBUILD, SWEEP_DOCKER_PULL_POLICY, SWEEP_TOOLCHAIN_IMAGE, SWEEP_DOCKER,
SWEEP_CACHE_DIR, SWEEP_REMOTE_CACHE, SWEEP_REMOTE_CACHE_MODE, SWEEP_REMOTE_CACHE_TRUSTED_KEYS, SWEEP_SIGNING_KEY,
SWEEP_SIGNING_KEY_FILE, SWEEP_BUILDER_REPOSITORY, SWEEP_LOCK_TIMEOUT_SECONDS (see README).`;

type Command = (options: CliOptions, flags: CliFlags) => Promise<number>;

/** Each command's module loads only when it runs: `status` must not pay for Docker or the AWS SDK. */
const COMMANDS = new Map<string, () => Promise<Command>>([
  ['status', async () => (await import('./status-command.js')).statusCommand],
  ['build', async () => (await import('./build-command.js')).buildCommand],
  ['fingerprint', async () => (await import('./fingerprint-command.js')).fingerprintCommand],
  ['clean', async () => (await import('./clean-command.js')).cleanCommand],
  ['invoke', async () => (await import('./invoke-command.js')).invokeCommand],
  ['push', async () => (await import('./push-command.js')).pushCommand],
]);

export async function main(argv: readonly string[]): Promise<number> {
  // `sweep-runtime status | head -1` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  let flags: CliFlags;
  let command: string | undefined;
  let keyName: string | undefined;
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        project: { type: 'string' },
        function: { type: 'string', multiple: true },
        workspace: { type: 'string' },
        package: { type: 'string' },
        bin: { type: 'string' },
        'force-rebuild': { type: 'boolean' },
        all: { type: 'boolean' },
        remote: { type: 'boolean' },
        event: { type: 'string' },
        timeout: { type: 'string' },
        'in-container': { type: 'boolean' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    flags = parsed.values;
    command = parsed.positionals[0];
    keyName = command === 'keygen' ? parsed.positionals[1] : undefined;
    const allowed = command === 'keygen' ? 2 : 1;
    if (parsed.positionals.length > allowed) throw new Error(`unexpected argument "${parsed.positionals[allowed]}"`);
  } catch (error) {
    process.stderr.write(`sweep-runtime: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (flags.help || command === undefined || command === 'help') {
    (command === undefined && !flags.help ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return command === undefined && !flags.help ? 2 : 0;
  }
  const load = COMMANDS.get(command);
  if (!load && command !== 'keygen') {
    process.stderr.write(
      `sweep-runtime: unknown command ${JSON.stringify(command)} (commands: ${[...COMMANDS.keys(), 'keygen'].join(', ')})\n`,
    );
    return 2;
  }
  try {
    // keygen needs no project: it runs before cdktf.json is read.
    if (!load) return (await import('./keygen-command.js')).keygenCommand(keyName, flags.out);
    const run = await load();
    return await run(resolveCliOptions(flags), flags);
  } catch (error) {
    process.stderr.write(`${describeError(isSweepError(error) ? error : unexpectedFailure(error))}\n`);
    return 1;
  }
}
