import { App, TerraformStack, Testing } from 'cdktf';
import type { IConstruct } from 'constructs';
import { isSweepError, SweepError, unexpectedFailure } from '../build/index.js';

/*
 * The constructs' messages, and how an error leaves a construct: as one screen a user reads when
 * nothing catches it. Node prints an uncaught error as its stack (the name and message, then the
 * frames) followed by its own enumerable fields; so the message carries the fix, the fields a
 * user does not need twice are hidden, and the stack is cut to one frame: the user's own
 * `app.synth()` (or `new RustFunction(...)`) line, which Node also shows as the source line above
 * the message. Never library or bundle source.
 */

/**
 * Shapes `error` for a user (a SweepError, or an unexpected failure wrapped in one) and returns it
 * to be thrown. `site` is the outermost function of ours on the stack: the frame above it is the
 * user's line. Under `app.synth()` that call is used instead (the build runs in an aspect).
 */
export function forUser(error: unknown, site: CallSite): SweepError {
  const shown = isSweepError(error) ? error : unexpectedFailure(error);
  if (!presented.has(shown)) present(shown);
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 1;
  try {
    const callers: CallSite[] = [App.prototype.synth, Testing.synth, Testing.fullSynth, Testing.synthScope, site];
    const caller = callers.find((fn) => hasFrameAbove(fn));
    if (caller) Error.captureStackTrace(shown, caller);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return shown;
}

/**
 * The message carries the fix (and details); the fields shown by it are hidden from Node's
 * printout, and so is the cause (engine internals, printed in full by Node otherwise).
 */
function present(shown: SweepError): void {
  presented.add(shown);
  // A failed cargo run's output streamed above, on the `compile |` lines, as the build ran: the
  // error does not repeat it (under cdktf, the CLI repeats whatever the app printed anyway).
  const streamed = shown.stage === 'compile' && /cargo failed/.test(shown.problem);
  const details = streamed ? undefined : shown.details;
  const shownDetails = details ? `\n\n${details.replace(/^/gm, '  | ')}` : '';
  hide(shown, 'message', `${shown.stage}: ${shown.problem}\n  fix: ${shown.fix}${shownDetails}`);
  hide(shown, 'details', details);
  for (const field of ['name', 'stage', 'problem', 'fix'] as const) hide(shown, field, shown[field]);
  Reflect.deleteProperty(shown, 'cause');
}

function hide(error: SweepError, field: string, value: unknown): void {
  Object.defineProperty(error, field, { value, enumerable: false, writable: true, configurable: true });
}

const presented = new WeakSet<SweepError>();

/** A function or class whose caller's line an error should point at. */
export type CallSite = ((...args: never[]) => unknown) | (abstract new (...args: never[]) => unknown);

/** Is `fn` on the current stack, with a caller above it? */
function hasFrameAbove(fn: CallSite): boolean {
  const probe: { stack?: string } = {};
  Error.captureStackTrace(probe, fn);
  return probe.stack !== undefined && /\n\s+at /.test(probe.stack);
}

/**
 * A construct of this package in a stack of the other CDK for Terraform (a CDK Terrain app that
 * imports the cdktf build of the package, or the reverse): both share the stack's marker, so
 * `TerraformStack.of` finds it, but not its classes, and mixing them fails deep inside synth.
 */
export function checkFlavour(scope: IConstruct, what: string): void {
  let stack: unknown;
  try {
    stack = TerraformStack.of(scope);
  } catch {
    throw new SweepError({
      stage: 'config',
      problem: `${what} "${scope.node.path}" is not inside a TerraformStack`,
      fix: `create it in a stack: new ${what}(stack, '${scope.node.id}', { ... }), where stack is a TerraformStack of your app`,
    });
  }
  if (stack instanceof TerraformStack) return;
  throw new SweepError({
    stage: 'config',
    problem: `${what} "${scope.node.path}" is in a stack of another CDK for Terraform package than this import of aws-serverless-sweep uses`,
    fix: "import from 'aws-serverless-sweep' in a cdktf app, and from 'aws-serverless-sweep/cdktn' in a CDK Terrain (cdktn) app",
  });
}

/** A function or artifact constructed after the app's functions were built (at synth). */
export function addedAfterBuild(what: string, path: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `${what} "${path}" was created after this app's functions were built (the build runs once, at synth, for all of them)`,
    fix: `create every ${what} before app.synth() (or Testing.synth), e.g. in the stack's constructor`,
  });
}

/** A value of a RustArtifact that exists only once the app's functions are built. */
export function notBuiltYet(path: string, what: string): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `${what} of RustArtifact "${path}" is known only once the app's functions are built, at synth`,
    fix: 'read it after app.synth() (or Testing.synth); inside resources, use the token properties (filename, codeSha256, ...), which resolve at synth',
  });
}

/** Build options given together with a ready-made artifact (`code`). */
export function codeWithBuildOptions(path: string, keys: readonly string[]): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `RustFunction "${path}" has \`code\` and build options (${keys.join(', ')}); the build options would not be used`,
    fix: 'remove the build options (the artifact in `code` is deployed as it is), or remove `code` to build the function from them',
  });
}

/** A zip name that is not a file name: the construct's id (no `artifactName` given), or `artifactName` itself. */
export function unusableId(what: string, path: string, name: string, given = false): SweepError {
  return new SweepError({
    stage: 'config',
    problem: `${what} "${path}": ${given ? '`artifactName`' : 'its id'} "${name}" cannot name its zip (dist/<name>.zip): only letters, digits, _, - and . are allowed`,
    fix: given ? 'change `artifactName` (e.g. "api")' : 'set `artifactName` (e.g. "api"), or give the construct such an id',
  });
}
