/**
 * What the local Invoke API tells its user (the developer running it, not an HTTP caller: those
 * get Lambda's own error responses, invoke-api-responses.ts) when it cannot do what it was asked.
 */
import { SweepError } from '../build/errors.js';

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
