/**
 * What Lambda's Invoke API answers, as status, headers and body, so a local caller (the AWS CLI,
 * an SDK's LambdaClient) sees what it would see from Lambda. Service errors are REST-JSON errors:
 * the type in the `x-amzn-ErrorType` header (which the SDKs read first) and a JSON body with
 * `Type` (`User` or `Service`) and the message, cased as Lambda's API model cases it per error
 * (`Message` for ResourceNotFoundException and ServiceException, `message` for the others).
 * A function's own failure is not a service error: it is a 200 with `X-Amz-Function-Error:
 * Unhandled` and Lambda's error document as the body.
 *
 * Sources: Lambda's API reference (Invoke: errors and headers), its API model (error shapes), and
 * the messages Lambda is recorded answering with in public issue threads and other local
 * emulators' tests ("Function not found: <arn>", "Request must be smaller than 6291456 bytes for
 * the InvokeFunction operation", "Rate Exceeded.", "Task timed out after 3.00 seconds",
 * "Runtime exited with error: exit status 1").
 */
import type { EnvironmentOutcome } from './execution-environment.js';
import { LATEST } from './function-name.js';
import { ASYNC_EVENT_SIZE_LIMIT_BYTES, EVENT_SIZE_LIMIT_BYTES } from './limits.js';

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function serviceError(status: number, errorType: string, body: Record<string, string | null>): ApiResponse {
  return { status, headers: { 'Content-Type': 'application/json', 'x-amzn-ErrorType': errorType }, body: JSON.stringify(body) };
}

export function resourceNotFound(arn: string): ApiResponse {
  return serviceError(404, 'ResourceNotFoundException', { Type: 'User', Message: `Function not found: ${arn}` });
}

/**
 * A payload over the limit. Lambda's front end answers `RequestEntityTooLargeException` (not the
 * `RequestTooLargeException` of its API model, which the SDKs therefore surface by this name).
 */
export function requestTooLarge(invocationType: 'RequestResponse' | 'Event', declaredBytes: number | undefined): ApiResponse {
  const message =
    invocationType === 'Event'
      ? `${declaredBytes ?? `more than ${ASYNC_EVENT_SIZE_LIMIT_BYTES}`} byte payload is too large for the Event invocation type (limit ${ASYNC_EVENT_SIZE_LIMIT_BYTES} bytes)`
      : `Request must be smaller than ${EVENT_SIZE_LIMIT_BYTES} bytes for the InvokeFunction operation`;
  return serviceError(413, 'RequestEntityTooLargeException', { Type: 'User', message });
}

export function invalidRequestContent(detail: string): ApiResponse {
  return serviceError(400, 'InvalidRequestContentException', {
    Type: 'User',
    message: `Could not parse request body into json: Could not parse payload into json: ${detail}`,
  });
}

export function invalidParameterValue(message: string): ApiResponse {
  return serviceError(400, 'InvalidParameterValueException', { Type: 'User', message });
}

/** AWS's wording for a request parameter outside its enumeration. */
export function notInEnum(name: string, value: string, allowed: readonly string[]): ApiResponse {
  return serviceError(400, 'ValidationException', {
    Type: 'User',
    message: `1 validation error detected: Value '${value}' at '${name}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`,
  });
}

/**
 * Over the concurrency cap. `Reason` tells a reserved concurrency (ReservedFunction...) from the
 * account's unreserved pool, which is what the default cap stands for locally.
 */
export function tooManyRequests(reserved: boolean): ApiResponse {
  return serviceError(429, 'TooManyRequestsException', {
    Reason: reserved ? 'ReservedFunctionConcurrentInvocationLimitExceeded' : 'ConcurrentInvocationLimitExceeded',
    Type: 'User',
    message: 'Rate Exceeded.',
  });
}

export function serviceException(message: string): ApiResponse {
  return serviceError(500, 'ServiceException', { Type: 'Service', Message: message });
}

/** Not an operation of this API: only Invoke is served locally. */
export function unknownOperation(method: string, path: string): ApiResponse {
  return serviceError(404, 'UnknownOperationException', {
    Type: 'User',
    message: `${method} ${path} is not an operation of the local Invoke API (POST /2015-03-31/functions/{FunctionName}/invocations)`,
  });
}

/** A request a browser could have sent (an Origin header, or a Host that is not this machine). */
export function accessDenied(reason: string): ApiResponse {
  return serviceError(403, 'AccessDeniedException', { Type: 'User', Message: reason });
}

/**
 * The answer to a synchronous invocation that ran: the function's response, or Lambda's error
 * document for how it failed, with `X-Amz-Function-Error: Unhandled`. Undefined for an outcome
 * that is not the function's doing (the environment could not be started): the caller answers
 * that as a service error.
 */
export function invocationAnswer(outcome: EnvironmentOutcome): ApiResponse | undefined {
  const ok = (body: string): ApiResponse => ({
    status: 200,
    headers: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': LATEST },
    body,
  });
  const failed = (body: string): ApiResponse => ({
    status: 200,
    headers: { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': LATEST, 'X-Amz-Function-Error': 'Unhandled' },
    body,
  });
  const document = (errorType: string, errorMessage: string) => JSON.stringify({ errorType, errorMessage });
  switch (outcome.kind) {
    case 'response':
      return ok(outcome.body);
    case 'function-error':
    case 'init-error':
      // The runtime's own report, as it posted it, when it is a JSON document; else rebuilt from its parts.
      return failed(isJson(outcome.body) ? outcome.body : document(outcome.errorType, outcome.errorMessage));
    case 'timeout':
      return failed(
        document('Sandbox.Timedout', `RequestId: ${outcome.requestId} Error: Task timed out after ${seconds(outcome.timeoutMs)} seconds`),
      );
    case 'init-timeout':
      // Lambda reports an init that outlasts its budget as a timeout of the invocation that waited for it.
      return failed(
        document(
          'Sandbox.Timedout',
          `RequestId: ${outcome.requestId} Error: Task timed out after ${seconds(outcome.initTimeoutMs)} seconds`,
        ),
      );
    case 'exited':
      return failed(
        document('Runtime.ExitError', `RequestId: ${outcome.requestId} Error: ${exitReason(outcome.exitCode, outcome.signal)}`),
      );
    case 'spawn-failed':
      return undefined;
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/** Lambda's words (Go's, as its runtime manager formats a process state) for how a runtime ended. */
const SIGNAL_WORDS: Readonly<Record<string, string>> = {
  SIGKILL: 'killed',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGTERM: 'terminated',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
};

function exitReason(exitCode: number | null, signal: string | null): string {
  if (signal !== null) return `Runtime exited with error: signal: ${SIGNAL_WORDS[signal] ?? signal}`;
  if (exitCode === 0) return 'Runtime exited without providing a reason';
  return `Runtime exited with error: exit status ${exitCode}`;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return text.trim() !== '';
  } catch {
    return false;
  }
}
