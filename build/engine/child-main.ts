import * as fs from 'node:fs';
import { asSweepError } from '../support/errors.js';
import { createReporter } from '../support/reporter.js';
import { ensureMisses } from './engine.js';
import { buildInterrupted } from './errors.js';
import type { Settled } from './result.js';
import type { ChildRequest, ChildResponse } from './sync.js';
import { decode, encode, WIRE_PROTOCOL } from './wire.js';

/*
 * The child process of the synchronous entry (sync.ts): reads the misses' checks from stdin,
 * runs the rest of the engine with its progress on stdout, and writes one outcome per check as
 * JSON to file descriptor 3.
 *
 * The run ends with its parent. Ctrl-C (SIGINT), SIGTERM, SIGHUP, or the parent going away
 * (cdktf kills the app on a timeout or its own Ctrl-C; the child is then re-parented, which is
 * how it notices) cancel the build: the container is removed, the locks released, and the
 * previous zips and metadata stay as they were. One line says so; a second signal leaves at once.
 */
// A closed terminal must not turn the last line into a stack trace.
process.stdout.on('error', () => undefined);

const controller = new AbortController();
const parent = process.ppid;
let stopped: string | undefined;
const stop = (why: string) => {
  if (stopped) return;
  stopped = why;
  controller.abort(new Error(`interrupted: ${why}`));
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    // A second signal while the build is being stopped: leave at once.
    if (stopped) process.exit(130);
    stop(signal);
  });
}
// No event tells a process that its parent died; its parent id changing does.
const watch = setInterval(() => {
  if (process.ppid !== parent) stop('the process that started the build is gone');
}, 250);
watch.unref();

const request = decode<ChildRequest>(fs.readFileSync(0, 'utf8'));
let response: ChildResponse;
if (request.protocol !== WIRE_PROTOCOL) {
  response = { protocol: WIRE_PROTOCOL, outcomes: [] };
} else {
  const outcomes = await ensureMisses(request.misses, { reporterFor: (prefix) => createReporter(prefix), signal: controller.signal }).catch(
    (error: unknown) => {
      const failure = stopped ? buildInterrupted(error) : asSweepError(error);
      return new Map<string, Settled>(request.misses.map((check) => [check.paths.zip, { error: failure }]));
    },
  );
  response = {
    protocol: WIRE_PROTOCOL,
    outcomes: request.misses.map((check) => {
      const settled = outcomes.get(check.paths.zip);
      if (settled?.result !== undefined) return { result: settled.result };
      const error = asSweepError(settled?.error ?? new Error(`no outcome for ${check.name}`));
      return { error: { stage: error.stage, problem: error.problem, fix: error.fix, details: error.details } };
    }),
  };
}
if (stopped) process.stdout.write(`build stopped (${stopped}): build containers removed, locks released, dist/ unchanged\n`);
try {
  fs.writeSync(3, encode(response));
} catch {
  // The parent is gone (EPIPE): there is no one to answer.
}
process.exitCode = stopped ? 130 : 0;
