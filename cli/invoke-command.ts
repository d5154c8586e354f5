import * as fs from 'node:fs';
import {
  builderRecipe,
  createReporter,
  ensureArtifacts,
  ensureBuilderImageFor,
  formatDuration,
  type Reporter,
  SweepError,
} from '../build/index.js';
import { checkEventSize } from '../invoke/limits.js';
import { invokeLocally, type LocalInvokeOutcome } from '../invoke/local-invoke.js';
import type { CliFlags, CliOptions } from './cli-options.js';
import { eventNotJson, eventUnreadable, invalidTimeout } from './errors.js';

/*
 * `sweep-runtime invoke [--event FILE|-] [--timeout SECONDS] [--in-container]`: builds the zips
 * that are out of date (a cache hit costs nothing), runs each function named with --function once
 * against a local Runtime API with the same event, prints each response on stdout (one line per
 * function), and exits non-zero when any ends in a function error, an init error, a crash or a
 * timeout. Progress and the functions' logs go to stderr, so stdout is only the responses.
 *
 * With several functions in cdktf.json and no --function, it refuses before reading the event or
 * building anything, listing the functions (as `sam local invoke` does): one event is written
 * for one function's input, and sending it to every function only produces errors to read past.
 */
export async function invokeCommand({ targets, app }: CliOptions, flags: CliFlags): Promise<number> {
  if (flags.function === undefined && targets.length > 1) throw whichFunction(targets.map((t) => t.function.key));
  const event = await readEvent(flags.event);
  const timeouts = targets.map((t) => parseTimeout(flags.timeout, t.function.timeoutSeconds));
  const built = await ensureArtifacts(
    targets.map((t) => t.artifact),
    { output: process.stderr },
  );
  let failed = 0;
  for (const [i, target] of targets.entries()) {
    const result = built[i]!;
    const fn = target.function;
    const reporter = createReporter(result.name, process.stderr);
    const { outcome, ranOn } = await invokeLocally({
      zipPath: result.zipPath,
      metadata: result.metadata,
      event,
      timeoutMs: timeouts[i]!,
      functionName: fn.functionName,
      memorySize: fn.memorySize,
      region: app.region,
      environment: fn.environment,
      inContainer: flags['in-container'] ?? false,
      // This machine's configuration chooses the image, never the (possibly downloaded) metadata.
      builderImage: builderRecipe(target.artifact).tag,
      prepareBuilderImage: async () => {
        await ensureBuilderImageFor(target.artifact, reporter);
      },
      dockerCommand: target.artifact.dockerCommand,
      onLog: reporter.stream('function'),
    });
    if (!reportOutcome(outcome, ranOn, reporter)) failed++;
  }
  return failed > 0 ? 1 : 0;
}

/** Prints one invocation's outcome; true when the function answered. */
function reportOutcome(outcome: LocalInvokeOutcome, ranOn: string, reporter: Reporter): boolean {
  switch (outcome.kind) {
    case 'response':
      reporter.line(`invoke: response in ${formatDuration(outcome.durationMs)} (request ${outcome.requestId}, ran on ${ranOn})`);
      process.stdout.write(`${outcome.body}\n`);
      return true;
    case 'function-error':
      reporter.line(`invoke: function error ${outcome.errorType}: ${outcome.errorMessage} (request ${outcome.requestId}, ran on ${ranOn})`);
      process.stdout.write(`${outcome.body}\n`);
      return false;
    case 'init-error':
      reporter.line(`invoke: init error ${outcome.errorType}: ${outcome.errorMessage} (ran on ${ranOn})`);
      process.stdout.write(`${outcome.body}\n`);
      return false;
    case 'timeout':
      reporter.line(`invoke: timed out after ${formatDuration(outcome.timeoutMs)} (request ${outcome.requestId}, ran on ${ranOn})`);
      return false;
    case 'init-timeout':
      reporter.line(
        `invoke: bootstrap never asked for the event (GET /runtime/invocation/next) within the ${formatDuration(outcome.initTimeoutMs)} init phase (request ${outcome.requestId}, ran on ${ranOn})`,
      );
      return false;
    case 'exited':
      reporter.line(`invoke: bootstrap exited (${outcome.signal ?? `code ${outcome.exitCode}`}) before answering (ran on ${ranOn})`);
      return false;
  }
}

/** The event: a file, standard input (`-`, read as a stream: a large piped event is not lost), or `{}`. */
async function readEvent(source: string | undefined): Promise<string> {
  let text: string;
  try {
    if (source === undefined) text = '{}';
    else if (source === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      text = Buffer.concat(chunks).toString('utf8');
    } else text = fs.readFileSync(source, 'utf8');
  } catch (cause) {
    throw eventUnreadable(source, cause);
  }
  // Refused before anything is built, as Lambda refuses it before anything runs.
  checkEventSize(text);
  try {
    JSON.parse(text);
  } catch (cause) {
    throw eventNotJson(source, cause);
  }
  return text;
}

/** `--timeout` in milliseconds: seconds greater than 0 and at most 900 (Lambda's maximum). */
export function parseTimeout(raw: string | undefined, fallbackSeconds: number): number {
  if (raw === undefined) return fallbackSeconds * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 900) {
    throw invalidTimeout(raw);
  }
  return seconds * 1000;
}

/** Which function an event is for, when cdktf.json has several and none was named. */
function whichFunction(keys: readonly string[]): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `cdktf.json has ${keys.length} functions (${keys.join(', ')}) and invoke sends one event to one function`,
    fix: `name it with --function, e.g. --function ${keys[0]}`,
  });
}
