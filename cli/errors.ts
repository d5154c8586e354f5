import { errorMessage, SweepError } from '../build/index.js';

/*
 * The sweep-runtime command's messages: usage, push, keygen, and invoke's own flags and event.
 */

export function cliUsageError(problem: string, fix: string): SweepError {
  return new SweepError({ stage: 'config', problem, fix });
}

export function pushRefused(name: string, problem: string, fix: string): SweepError {
  return new SweepError({ stage: 'remote-cache', problem: `${name} is not pushed: ${problem}`, fix });
}

export function keygenRefused(problem: string, fix: string): SweepError {
  return new SweepError({ stage: 'config', problem: `keygen: ${problem}`, fix });
}

export function eventUnreadable(source: string | undefined, cause: unknown): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot read the event from ${source === '-' ? 'standard input' : source}: ${errorMessage(cause)}`,
    fix: 'pass --event with a readable JSON file, or - to read standard input',
    cause,
  });
}

export function eventNotJson(source: string | undefined, cause: unknown): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `the event in ${source === '-' ? 'standard input' : source} is not JSON: ${errorMessage(cause)}`,
    fix: 'Lambda events are JSON documents; check the file',
    cause,
  });
}

export function invalidTimeout(raw: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `--timeout ${JSON.stringify(raw)} is not a number of seconds greater than 0 and at most 900`,
    fix: 'e.g. --timeout 30',
  });
}
