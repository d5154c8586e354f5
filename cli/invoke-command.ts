import * as fs from 'node:fs';
import { buildArtifact } from '../build/build-artifact.js';
import { SweepError } from '../build/errors.js';
import { createReporter } from '../build/reporter.js';
import { formatDuration } from '../build/stage-timer.js';
import { invokeLocally } from '../invoke/local-invoke.js';
import type { CliFlags, CliOptions } from './cli-options.js';

/**
 * `sweep-runtime invoke [--event FILE|-] [--timeout SECONDS] [--in-container]`: builds the zip if it is out of
 * date (a cache hit costs nothing), runs it once against a local Runtime API, prints the
 * function's response on stdout, and exits non-zero on a function error, an init error, a crash
 * or a timeout. Progress and the function's logs go to stderr, so stdout is only the response.
 */
export async function invokeCommand({ artifact, app }: CliOptions, flags: CliFlags): Promise<number> {
  const event = readEvent(flags.event);
  const timeoutMs = parseTimeout(flags.timeout, app.timeoutSeconds);
  const built = await buildArtifact(artifact, { output: process.stderr });
  const reporter = createReporter(built.name, process.stderr);
  const { outcome, ranOn } = await invokeLocally({
    zipPath: built.zipPath,
    record: built.record,
    event,
    timeoutMs,
    functionName: app.functionName,
    memorySize: app.memorySize,
    region: app.region,
    environment: app.environment,
    inContainer: flags['in-container'] ?? false,
    dockerCommand: artifact.dockerCommand,
    onLog: reporter.stream('function'),
  });
  switch (outcome.kind) {
    case 'response':
      reporter.line(`invoke: response in ${formatDuration(outcome.durationMs)} (request ${outcome.requestId}, ran on ${ranOn})`);
      process.stdout.write(`${outcome.body}\n`);
      return 0;
    case 'function-error':
      reporter.line(`invoke: function error ${outcome.errorType}: ${outcome.errorMessage} (request ${outcome.requestId}, ran on ${ranOn})`);
      process.stdout.write(`${outcome.body}\n`);
      return 1;
    case 'init-error':
      reporter.line(`invoke: init error ${outcome.errorType}: ${outcome.errorMessage} (ran on ${ranOn})`);
      process.stdout.write(`${outcome.body}\n`);
      return 1;
    case 'timeout':
      reporter.line(`invoke: timed out after ${formatDuration(outcome.timeoutMs)} (request ${outcome.requestId}, ran on ${ranOn})`);
      return 1;
    case 'init-timeout':
      reporter.line(
        `invoke: bootstrap never asked for the event (GET /runtime/invocation/next) within the ${formatDuration(outcome.initTimeoutMs)} init phase (request ${outcome.requestId}, ran on ${ranOn})`,
      );
      return 1;
    case 'exited':
      reporter.line(`invoke: bootstrap exited (${outcome.signal ?? `code ${outcome.exitCode}`}) before answering (ran on ${ranOn})`);
      return 1;
  }
}

function readEvent(source: string | undefined): string {
  let text: string;
  try {
    text = source === undefined ? '{}' : fs.readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (cause) {
    throw new SweepError({
      stage: 'invoke',
      problem: `cannot read the event from ${source === '-' ? 'standard input' : source}: ${(cause as Error).message}`,
      fix: 'pass --event with a readable JSON file, or - to read standard input',
      cause,
    });
  }
  try {
    JSON.parse(text);
  } catch (cause) {
    throw new SweepError({
      stage: 'invoke',
      problem: `the event in ${source === '-' ? 'standard input' : source} is not JSON: ${(cause as Error).message}`,
      fix: 'Lambda events are JSON documents; check the file',
      cause,
    });
  }
  return text;
}

/** `--timeout` in milliseconds: seconds greater than 0 and at most 900 (Lambda's maximum). */
export function parseTimeout(raw: string | undefined, fallbackSeconds: number): number {
  if (raw === undefined) return fallbackSeconds * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 900) {
    throw new SweepError({
      stage: 'config',
      problem: `--timeout ${JSON.stringify(raw)} is not a number of seconds greater than 0 and at most 900`,
      fix: 'e.g. --timeout 30',
    });
  }
  return seconds * 1000;
}
