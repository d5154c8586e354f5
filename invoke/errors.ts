import { SweepError, UNZIPPED_LIMIT_BYTES } from '../build/index.js';

/*
 * Local invoke's messages: refusing what Lambda itself would refuse, and zips it cannot read.
 */

export function eventTooLarge(bytes: number, limit: number): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `the event is ${bytes} bytes; Lambda refuses a synchronous invoke of ${limit} bytes or more (RequestEntityTooLargeException)`,
    fix: 'send a smaller event: put large inputs in S3 and pass their key in the event',
  });
}

export function zipTooLargeUnzipped(zipPath: string, bytes: number): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `${zipPath} unzips to ${bytes} bytes; Lambda refuses code of ${UNZIPPED_LIMIT_BYTES} bytes or more unzipped`,
    fix: 'make the binary smaller (strip symbols, opt-level "z", fewer dependencies) or deploy a container image instead',
  });
}

export function zipDamaged(zipPath: string, reason: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot read ${zipPath}: ${reason}`,
    fix: 'rebuild it: FORCE_REBUILD=1 npx sweep-runtime build',
  });
}

export function zipWithoutBootstrap(zipPath: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `${zipPath} has no bootstrap entry`,
    fix: 'rebuild it: FORCE_REBUILD=1 npx sweep-runtime build',
  });
}

export function noEmulator(machine: string, hostMachine: string, emulator: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot run ${machine} binaries on this ${hostMachine} machine: no emulator is registered (${emulator})`,
    fix: `install an emulator (e.g. \`sudo apt-get install qemu-user-static binfmt-support\`), or invoke on a ${machine} machine`,
  });
}

// The local Invoke API's messages to the developer running it (HTTP callers get Lambda's own
// error responses, invoke-api-responses.ts).

export function invokeApiPortInUse(port: number, cause: unknown): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot serve the Invoke API on 127.0.0.1:${port}: the port is in use`,
    fix: `stop what listens there (\`ss -ltnp 'sport = :${port}'\` names it), or choose another port with --port`,
    cause,
  });
}

export function invokeApiListenFailed(port: number, cause: unknown): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `cannot serve the Invoke API on 127.0.0.1:${port}: ${cause instanceof Error ? cause.message : String(cause)}`,
    fix: 'choose another port with --port (1024 or above needs no privileges)',
    cause,
  });
}

export function functionAlreadyServed(name: string, servedAs: string): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `the Invoke API already serves a function named ${name} (${servedAs})`,
    fix: 'give each function its own key and functionName in cdktf.json',
  });
}

export function functionNotServed(key: string, served: readonly string[]): SweepError {
  return new SweepError({
    stage: 'invoke',
    problem: `the Invoke API serves no function ${key} (it serves ${served.length === 0 ? 'none' : served.join(', ')})`,
    fix: 'register the function before handing it new code',
  });
}
