import * as fs from 'node:fs';
import { isSweepError, unexpectedFailure } from '../support/errors.js';
import { ensureArtifacts } from './engine.js';
import { type EngineResponse, engineRequestSchema } from './sync.js';

/*
 * The child process of the synchronous entry (engine-sync.ts): reads the resolved options of the
 * artifacts to ensure from stdin, runs the engine with its progress on stdout, and writes the
 * results (or the error) as JSON to file descriptor 3.
 *
 * Ctrl-C (SIGINT) or SIGTERM cancels a build: the container is removed, the locks released, and
 * the previous zips and metadata stay as they were. A second signal leaves at once.
 */
const controller = new AbortController();
let signalled: NodeJS.Signals | undefined;
const onSignal = (signal: NodeJS.Signals) => {
  if (signalled) process.exit(130);
  signalled = signal;
  controller.abort(new Error(`interrupted by ${signal}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let response: EngineResponse;
try {
  const request = engineRequestSchema.parse(JSON.parse(fs.readFileSync(0, 'utf8')));
  response = { ok: true, results: await ensureArtifacts(request.artifacts, { signal: controller.signal }) };
} catch (error) {
  const failure = isSweepError(error) ? error : unexpectedFailure(error);
  response = { ok: false, error: { stage: failure.stage, problem: failure.problem, fix: failure.fix, details: failure.details } };
}
fs.writeSync(3, JSON.stringify(response));
process.exitCode = response.ok ? 0 : signalled === 'SIGINT' ? 130 : 1;
