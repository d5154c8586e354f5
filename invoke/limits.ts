/**
 * The Lambda limits a local invoke enforces, in one place, each with where the number comes from.
 * A local run that accepts what Lambda refuses hides a failure until after a deploy; one that
 * accepts what Lambda would not even try (a 200 MB error body, a 1 GB unzipped "zip bomb") can
 * also exhaust this machine.
 */
import { eventTooLarge } from './errors.js';

/**
 * Lambda refuses a synchronous Invoke whose payload reaches 6 MiB, before anything runs:
 * `RequestEntityTooLargeException: Request must be smaller than 6291456 bytes for the
 * InvokeFunction operation` (HTTP 413). The bound is exclusive, as that message says.
 */
export const EVENT_SIZE_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * Largest buffered response Lambda passes on: 6 MiB + 100 bytes. That is AWS's Runtime Interface
 * Emulator's `interop.MaxPayloadSize` and the number in Lambda's own error for a larger one,
 * `Function.ResponseSizeTooLarge: Response payload size exceeded maximum allowed payload size
 * (6291556 bytes).` An error report (`/error`, `/init/error`) is what the caller receives in the
 * response's place, so the same cap applies to it (the emulator sends it down the same path).
 */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/**
 * Lambda's init phase is limited to 10 seconds (documented in "Understanding the Lambda execution
 * environment lifecycle"): the time from starting the runtime until it first asks for an event.
 */
export const INIT_TIMEOUT_MS = 10_000;

/** Throws the user-facing error for an event Lambda would refuse; returns its size otherwise. */
export function checkEventSize(event: string): number {
  const bytes = Buffer.byteLength(event, 'utf8');
  if (bytes >= EVENT_SIZE_LIMIT_BYTES) throw eventTooLarge(bytes, EVENT_SIZE_LIMIT_BYTES);
  return bytes;
}

/**
 * An asynchronous (`Event`) invoke's payload may be at most 1 MB (Lambda's Invoke API reference:
 * "For asynchronous invocations, the maximum payload size is 1 MB"; it was 256 KB before). Lambda
 * refuses a larger one with `RequestEntityTooLargeException: N byte payload is too large for the
 * Event invocation type (limit L bytes)` (HTTP 413), so the bound is inclusive.
 */
export const ASYNC_EVENT_SIZE_LIMIT_BYTES = 1024 * 1024;
