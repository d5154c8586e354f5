/**
 * A local implementation of the AWS Lambda Runtime API (version 2018-06-01), so the built
 * `bootstrap` binary can be run on this machine exactly as Lambda runs it: the binary is
 * started with `AWS_LAMBDA_RUNTIME_API=<endpoint>` and talks HTTP to this server.
 *
 * Reference: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html and the
 * OpenAPI document linked from it. Where the docs are silent (exact status codes and error
 * bodies) the behaviour follows AWS's Runtime Interface Emulator, which is what real
 * runtimes are tested against.
 *
 * Only `node:http` is used: this runs in CI and on developer machines without extra
 * dependencies, and the protocol is small enough that a framework would add nothing.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  validateHeaderValue,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { EVENT_SIZE_LIMIT_BYTES, INIT_TIMEOUT_MS, MAX_RESPONSE_BYTES } from './limits.js';
import { readBody } from './read-body.js';

// Re-exported: callers and tests know the cap as part of this server's contract.
export { MAX_RESPONSE_BYTES } from './limits.js';

/** The Runtime API version prefix every runtime puts in front of its resource paths. */
const API_PREFIX = '/2018-06-01';

/**
 * What Lambda answers for a body over {@link MAX_RESPONSE_BYTES}: the runtime gets 413 with
 * this body (AWS's emulator, `RenderRequestEntityTooLarge`), the caller a
 * `Function.ResponseSizeTooLarge` error with the message below (Lambda's own wording).
 */
const TOO_LARGE_FOR_RUNTIME = {
  errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
  errorType: 'RequestEntityTooLarge',
};
const TOO_LARGE_TYPE = 'Function.ResponseSizeTooLarge';

/** The ARN handed to the runtime when the caller does not name one. */
export const DEFAULT_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:local';

/** Options for one local invocation. */
export interface InvokeOptions {
  /**
   * The function's configured timeout in milliseconds, counted from the moment the runtime
   * receives the event (as on Lambda). It sets the `Lambda-Runtime-Deadline-Ms` header and the
   * timer after which {@link RuntimeApiServer.invoke} resolves with a `timeout` outcome.
   */
  readonly timeoutMs: number;
  /**
   * How long the runtime may take to ask for the event (`GET /runtime/invocation/next`) after
   * `invoke()`; for a runtime just started, that is its init phase. Default
   * {@link INIT_TIMEOUT_MS}, Lambda's 10 s. When it runs out, `invoke()` resolves with
   * `init-timeout`.
   */
  readonly initTimeoutMs?: number;
  /** The `Lambda-Runtime-Aws-Request-Id`; defaults to a random UUID, as Lambda's are. */
  readonly requestId?: string;
  /** The `Lambda-Runtime-Invoked-Function-Arn`; defaults to {@link DEFAULT_FUNCTION_ARN}. */
  readonly functionArn?: string;
  /**
   * The `Lambda-Runtime-Trace-Id` (an X-Ray tracing header); defaults to a freshly generated
   * `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0`.
   */
  readonly traceId?: string;
  /**
   * The `Lambda-Runtime-Client-Context` header. Lambda only sends it for invocations from the
   * AWS Mobile SDK, so it is omitted unless given.
   */
  readonly clientContext?: string;
  /**
   * The `Lambda-Runtime-Cognito-Identity` header. Lambda only sends it for invocations from the
   * AWS Mobile SDK, so it is omitted unless given.
   */
  readonly cognitoIdentity?: string;
}

/** How one invocation ended. */
export type InvocationOutcome =
  /** The runtime posted to `/runtime/invocation/{id}/response`; `body` is the function's response. */
  | { readonly kind: 'response'; readonly requestId: string; readonly body: string; readonly durationMs: number }
  /**
   * The runtime posted to `/runtime/invocation/{id}/error` (or reported a streamed response's
   * failure in trailers, or sent a response over the size limit); `body` is the raw error body.
   */
  | {
      readonly kind: 'function-error';
      readonly requestId: string;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly body: string;
      readonly durationMs: number;
    }
  /** The runtime posted to `/runtime/init/error`: it could not start, so no invocation ran. */
  | { readonly kind: 'init-error'; readonly errorType: string; readonly errorMessage: string; readonly body: string }
  /** The runtime received the event but did not answer within `timeoutMs`. */
  | { readonly kind: 'timeout'; readonly requestId: string; readonly timeoutMs: number }
  /** The runtime never asked for the event (`GET /runtime/invocation/next`) within `initTimeoutMs`. */
  | { readonly kind: 'init-timeout'; readonly requestId: string; readonly initTimeoutMs: number };

/** One request the server received, in arrival order. */
export interface RecordedRequest {
  /** The HTTP method, e.g. `GET`. */
  readonly method: string;
  /** The URL path without the query string, e.g. `/2018-06-01/runtime/invocation/next`. */
  readonly path: string;
  /** The request headers, names lower-cased, repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
}

/** Where {@link RuntimeApiServer.start} listens. */
export interface RuntimeApiServerStartOptions {
  /** Interface to bind; default `127.0.0.1` so nothing outside this machine can post results. */
  readonly host?: string;
  /** TCP port; default 0, i.e. a free port chosen by the OS, so parallel runs do not collide. */
  readonly port?: number;
}

/** An invocation from `invoke()` until it settles. */
interface Invocation {
  readonly requestId: string;
  readonly event: string;
  readonly timeoutMs: number;
  readonly functionArn: string;
  readonly traceId: string;
  readonly clientContext: string | undefined;
  readonly cognitoIdentity: string | undefined;
  /** `performance.now()` when `invoke()` queued the event. */
  readonly queuedAt: number;
  /** `performance.now()` when the runtime last received the event; undefined while queued. */
  deliveredAt: number | undefined;
  timer: NodeJS.Timeout;
  readonly resolve: (outcome: InvocationOutcome) => void;
  readonly reject: (error: Error) => void;
}

/** The fields of an error report, however the runtime phrased it. */
interface ErrorReport {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly body: string;
}

/**
 * Serves the Lambda Runtime API for one local function instance.
 *
 * Like a Lambda execution environment it runs one invocation at a time: {@link invoke} queues
 * an event, the runtime long-polls `GET /runtime/invocation/next` for it, and the invocation
 * settles when the runtime posts a response, an invocation error or an init error, or when the
 * timeout elapses.
 */
export class RuntimeApiServer {
  /** The value for `AWS_LAMBDA_RUNTIME_API`: `host:port`, without a scheme, as Lambda sets it. */
  readonly endpoint: string;

  /** The in-flight invocation, queued or delivered; undefined when idle. */
  private current: Invocation | undefined;
  /** `/next` long-polls waiting for an event, oldest first. */
  private readonly waiters: ServerResponse[] = [];
  /** An init error that arrived while no invocation was in flight, for the next `invoke()`. */
  private pendingInitError: ErrorReport | undefined;
  private readonly log: RecordedRequest[] = [];
  private closing: Promise<void> | undefined;
  private firstPoll: number | undefined;

  private constructor(
    private readonly server: Server,
    endpoint: string,
  ) {
    this.endpoint = endpoint;
  }

  /**
   * Starts a server and resolves once it is listening.
   *
   * @param options where to listen; defaults to `127.0.0.1` on a random free port.
   */
  static async start(options: RuntimeApiServerStartOptions = {}): Promise<RuntimeApiServer> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer();
    // The runtime's HTTP client keeps its connection alive between /response and the next
    // /next. Node's default 5 s keep-alive timeout could close that connection just as the
    // client reuses it, which surfaces as a spurious connection error in the runtime; idle
    // connections are instead closed by close().
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    // An IPv6 literal needs brackets to be followed by a port.
    const hostPart = host.includes(':') ? `[${host}]` : host;
    const instance = new RuntimeApiServer(server, `${hostPart}:${port}`);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => instance.handle(req, res));
    return instance;
  }

  /**
   * `performance.now()` when the runtime first asked for an event (`GET /runtime/invocation/next`):
   * the end of its init phase, which a caller that started the runtime turns into Lambda's
   * `Init Duration`. Undefined until then.
   */
  get firstPollAt(): number | undefined {
    return this.firstPoll;
  }

  /** Every request received so far, oldest first; useful for assertions in tests. */
  get requests(): ReadonlyArray<RecordedRequest> {
    return this.log;
  }

  /**
   * Queues one event for the runtime and resolves with how the invocation ended.
   *
   * If the runtime reported an init error before this call, resolves with that `init-error`
   * at once (and forgets it): on Lambda the first invoke after a failed init returns it.
   *
   * @param event the event payload, normally JSON, delivered verbatim as the `/next` body.
   * @param options the timeout and the invocation metadata headers.
   * @returns the outcome; rejects if another invocation is in flight, the options are invalid,
   *   the event is one Lambda would refuse (6 MiB or more), or the server is closed before the
   *   invocation settles.
   */
  invoke(event: string, options: InvokeOptions): Promise<InvocationOutcome> {
    if (this.closing) {
      return Promise.reject(new Error('RuntimeApiServer is closed; cannot invoke'));
    }
    if (this.current) {
      return Promise.reject(
        new Error(
          `RuntimeApiServer runs one invocation at a time, like a Lambda execution environment; ` +
            `invocation ${this.current.requestId} is still in flight`,
        ),
      );
    }
    const { timeoutMs } = options;
    const initTimeoutMs = options.initTimeoutMs ?? INIT_TIMEOUT_MS;
    // setTimeout silently clamps anything above 2^31-1 ms to 1 ms, which would turn a typo
    // into an instant timeout.
    for (const [name, value] of [
      ['timeoutMs', timeoutMs],
      ['initTimeoutMs', initTimeoutMs],
    ] as const) {
      if (!Number.isFinite(value) || value <= 0 || value > 2_147_483_647) {
        return Promise.reject(new RangeError(`${name} must be a positive number of milliseconds, got ${value}`));
      }
    }
    const eventBytes = Buffer.byteLength(event, 'utf8');
    if (eventBytes >= EVENT_SIZE_LIMIT_BYTES) {
      return Promise.reject(
        new RangeError(`the event is ${eventBytes} bytes; Lambda refuses a synchronous invoke of ${EVENT_SIZE_LIMIT_BYTES} bytes or more`),
      );
    }
    const requestId = options.requestId ?? randomUUID();
    const functionArn = options.functionArn ?? DEFAULT_FUNCTION_ARN;
    const traceId = options.traceId ?? generateTraceId();
    try {
      // Check header values now: failing inside the /next handler would strand the event.
      if (requestId === '' || requestId.includes('/')) {
        throw new TypeError(`requestId must be a non-empty path segment, got ${JSON.stringify(requestId)}`);
      }
      validateHeaderValue('Lambda-Runtime-Aws-Request-Id', requestId);
      validateHeaderValue('Lambda-Runtime-Invoked-Function-Arn', functionArn);
      validateHeaderValue('Lambda-Runtime-Trace-Id', traceId);
      if (options.clientContext !== undefined) {
        validateHeaderValue('Lambda-Runtime-Client-Context', options.clientContext);
      }
      if (options.cognitoIdentity !== undefined) {
        validateHeaderValue('Lambda-Runtime-Cognito-Identity', options.cognitoIdentity);
      }
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }

    const initError = this.pendingInitError;
    if (initError) {
      this.pendingInitError = undefined;
      return Promise.resolve({ kind: 'init-error', ...initError });
    }

    return new Promise<InvocationOutcome>((resolve, reject) => {
      const invocation: Invocation = {
        requestId,
        event,
        timeoutMs,
        functionArn,
        traceId,
        clientContext: options.clientContext,
        cognitoIdentity: options.cognitoIdentity,
        queuedAt: performance.now(),
        deliveredAt: undefined,
        // Until the runtime asks for the event, the init budget runs, not the function's
        // timeout; delivery swaps the one timer for the other (see deliver()).
        //
        // What Lambda documents ("Understanding the Lambda execution environment lifecycle"):
        // the Init phase (start extensions, bootstrap the runtime, run the function's static
        // code) ends when the runtime sends its first Next request and is limited to 10 s;
        // the function timeout covers only the Invoke phase. Followed here: a separate init
        // budget, 10 s by default, then the configured timeout from delivery. Not followed:
        // on Lambda an on-demand init that overruns is retried once inside the first
        // invocation, under the configured timeout. A local run reports the overrun instead,
        // because that retry makes every such cold start pay for init twice. (Provisioned
        // concurrency and SnapStart allow a longer init; pass initTimeoutMs to model them.)
        timer: setTimeout(() => this.settle(invocation, { kind: 'init-timeout', requestId, initTimeoutMs }), initTimeoutMs),
        resolve,
        reject,
      };
      this.current = invocation;
      this.dispatch();
    });
  }

  /**
   * Stops the server. A pending `/next` long-poll is answered with 500, which the Runtime API
   * documents as "container error, non-recoverable state, runtime should exit promptly", so a
   * runtime under test exits instead of hanging; every connection is then closed. An invocation
   * still in flight is rejected. Safe to call more than once.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const current = this.current;
    if (current) {
      clearTimeout(current.timer);
      this.current = undefined;
      current.reject(new Error(`RuntimeApiServer closed before invocation ${current.requestId} finished`));
    }
    const waiters = this.waiters.splice(0);
    for (const res of waiters) {
      sendJson(res, 500, { errorMessage: 'Runtime API server is shutting down', errorType: 'ContainerError' }, true);
    }
    // Let those 500s reach the runtime before its sockets are torn down below.
    await Promise.all(waiters.map((res) => finished(res).catch(() => undefined)));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // close() only ends idle connections; one still uploading a body would hold it open.
    this.server.closeAllConnections();
    await closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    this.log.push({ method: req.method ?? '', path, headers: flattenHeaders(req.headers) });

    const route = matchRoute(path);
    if (!route) {
      discardBody(req);
      sendJson(res, 404, { errorMessage: `No Runtime API resource at ${path}`, errorType: 'NotFound' });
      return;
    }
    if (req.method !== route.method) {
      discardBody(req);
      res.setHeader('Allow', route.method);
      sendJson(res, 405, { errorMessage: `${path} accepts ${route.method} only`, errorType: 'MethodNotAllowed' });
      return;
    }
    switch (route.kind) {
      case 'next':
        discardBody(req);
        this.handleNext(res);
        return;
      case 'response':
        this.handleReport(res, this.handleResponse(req, res, route.requestId));
        return;
      case 'invocation-error':
        this.handleReport(res, this.handleInvocationError(req, res, route.requestId));
        return;
      case 'init-error':
        this.handleReport(res, this.handleInitError(req, res));
        return;
    }
  }

  /**
   * The report handlers only fail when the runtime hangs up mid-body. Nothing usable arrived,
   * so the invocation stays open for a retry or its timeout, as on AWS; just drop the socket.
   */
  private handleReport(res: ServerResponse, handling: Promise<void>): void {
    handling.catch(() => res.destroy());
  }

  private handleNext(res: ServerResponse): void {
    this.firstPoll ??= performance.now();
    if (this.closing) {
      sendJson(res, 500, { errorMessage: 'Runtime API server is shutting down', errorType: 'ContainerError' }, true);
      return;
    }
    this.waiters.push(res);
    // A runtime that disconnects mid-poll must not swallow the next event: drop its slot.
    res.once('close', () => {
      const index = this.waiters.indexOf(res);
      if (index !== -1) this.waiters.splice(index, 1);
    });
    this.dispatch();
  }

  /** Hands the queued event, if any, to the oldest live long-poll. */
  private dispatch(): void {
    const invocation = this.current;
    if (!invocation || invocation.deliveredAt !== undefined) return;
    for (let res = this.waiters.shift(); res !== undefined; res = this.waiters.shift()) {
      if (res.socket && !res.socket.destroyed && res.socket.writable) {
        this.deliver(invocation, res);
        return;
      }
    }
  }

  private deliver(invocation: Invocation, res: ServerResponse): void {
    const deadlineMs = Date.now() + invocation.timeoutMs;
    invocation.deliveredAt = performance.now();
    // Lambda's timeout measures the function, not the time an event sat waiting for a
    // runtime that was still starting, so the function's clock starts now and matches the
    // deadline. A redelivery (the first write was lost) restarts it, as the runtime never saw
    // the first deadline.
    clearTimeout(invocation.timer);
    invocation.timer = setTimeout(
      () => this.settle(invocation, { kind: 'timeout', requestId: invocation.requestId, timeoutMs: invocation.timeoutMs }),
      invocation.timeoutMs,
    );
    const headers: Record<string, string> = {
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': invocation.functionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(invocation.event)),
    };
    if (invocation.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    if (invocation.cognitoIdentity !== undefined) headers['Lambda-Runtime-Cognito-Identity'] = invocation.cognitoIdentity;
    // If the connection dies before the event is fully written, the runtime never saw it:
    // put it back in the queue for the next /next rather than letting it time out.
    res.once('close', () => {
      if (!res.writableFinished && this.current === invocation && invocation.deliveredAt !== undefined) {
        invocation.deliveredAt = undefined;
        this.dispatch();
      }
    });
    res.writeHead(200, headers);
    res.end(invocation.event);
  }

  private async handleResponse(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    if (!this.isOpen(requestId)) {
      discardBody(req);
      sendInvalidRequestId(res);
      return;
    }
    const { body, tooLarge } = await readBody(req, MAX_RESPONSE_BYTES);
    // Re-check: the invocation may have timed out, or another response won, while the body
    // was being read.
    const invocation = this.isOpen(requestId);
    if (!invocation) {
      sendInvalidRequestId(res);
      return;
    }
    const durationMs = this.durationOf(invocation);
    if (tooLarge) {
      sendJson(res, 413, TOO_LARGE_FOR_RUNTIME);
      this.settle(invocation, { kind: 'function-error', requestId, ...tooLargeReport('Response'), durationMs });
      return;
    }
    sendAccepted(res);
    // A streamed response (Lambda-Runtime-Function-Response-Mode: streaming) reports a failure
    // after its body has started in the Lambda-Runtime-Function-Error-Type and -Error-Body
    // trailers; AWS passes that error on to the caller, so here it is a function error.
    const trailerType = nonEmpty(req.trailers['lambda-runtime-function-error-type']);
    if (trailerType !== undefined) {
      const errorBody = decodeTrailerBody(req.trailers['lambda-runtime-function-error-body']);
      this.settle(invocation, { kind: 'function-error', requestId, ...parseErrorReport(errorBody, trailerType), durationMs });
      return;
    }
    this.settle(invocation, { kind: 'response', requestId, body: body.toString('utf8'), durationMs });
  }

  private async handleInvocationError(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    if (!this.isOpen(requestId)) {
      discardBody(req);
      sendInvalidRequestId(res);
      return;
    }
    const { body, tooLarge } = await readBody(req, MAX_RESPONSE_BYTES);
    const invocation = this.isOpen(requestId);
    if (!invocation) {
      sendInvalidRequestId(res);
      return;
    }
    const durationMs = this.durationOf(invocation);
    if (tooLarge) {
      // The error report is what the caller would receive, so Lambda's response cap applies.
      sendJson(res, 413, TOO_LARGE_FOR_RUNTIME);
      this.settle(invocation, { kind: 'function-error', requestId, ...tooLargeReport('Response'), durationMs });
      return;
    }
    sendAccepted(res);
    const report = parseErrorReport(body.toString('utf8'), headerValue(req.headers['lambda-runtime-function-error-type']));
    this.settle(invocation, { kind: 'function-error', requestId, ...report, durationMs });
  }

  private async handleInitError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { body, tooLarge } = await readBody(req, MAX_RESPONSE_BYTES);
    const headerType = nonEmpty(headerValue(req.headers['lambda-runtime-function-error-type']));
    let report: ErrorReport;
    if (tooLarge) {
      // Lambda hands the init error to the first invoke's caller in the response's place, so
      // the response cap applies; the runtime's own error type is kept in the message.
      sendJson(res, 413, TOO_LARGE_FOR_RUNTIME);
      report = tooLargeReport('Init error', headerType);
    } else {
      sendAccepted(res);
      report = parseErrorReport(body.toString('utf8'), headerType);
    }
    const invocation = this.current;
    if (invocation) {
      this.settle(invocation, { kind: 'init-error', ...report });
    } else {
      // The OpenAPI spec: "Error will be served in response to the first invoke". Keep the
      // first report; anything after it is most likely a consequence of it.
      this.pendingInitError ??= report;
    }
  }

  /** The in-flight invocation if `requestId` names it, i.e. it may still be answered. */
  private isOpen(requestId: string): Invocation | undefined {
    const invocation = this.current;
    return invocation && invocation.requestId === requestId ? invocation : undefined;
  }

  private durationOf(invocation: Invocation): number {
    // A runtime may answer an id it was not (yet) handed, e.g. after a lost /next response;
    // measure from the queueing in that case rather than report nonsense.
    return performance.now() - (invocation.deliveredAt ?? invocation.queuedAt);
  }

  private settle(invocation: Invocation, outcome: InvocationOutcome): void {
    if (this.current !== invocation) return;
    clearTimeout(invocation.timer);
    this.current = undefined;
    invocation.resolve(outcome);
  }
}

type Route =
  | { readonly kind: 'next'; readonly method: 'GET' }
  | { readonly kind: 'response' | 'invocation-error'; readonly method: 'POST'; readonly requestId: string }
  | { readonly kind: 'init-error'; readonly method: 'POST' };

/** Maps a URL path to a Runtime API resource, or undefined for anything else (404). */
function matchRoute(path: string): Route | undefined {
  if (!path.startsWith(`${API_PREFIX}/runtime/`)) return undefined;
  const rest = path.slice(`${API_PREFIX}/runtime/`.length);
  if (rest === 'invocation/next') return { kind: 'next', method: 'GET' };
  if (rest === 'init/error') return { kind: 'init-error', method: 'POST' };
  const match = /^invocation\/([^/]+)\/(response|error)$/.exec(rest);
  if (!match) return undefined;
  let requestId: string;
  try {
    requestId = decodeURIComponent(match[1] ?? '');
  } catch {
    // A malformed escape cannot name any request; keep it verbatim so it gets the 400.
    requestId = match[1] ?? '';
  }
  return match[2] === 'response'
    ? { kind: 'response', method: 'POST', requestId }
    : { kind: 'invocation-error', method: 'POST', requestId };
}

/** The error the caller gets for a body over the cap, in Lambda's wording. */
function tooLargeReport(what: 'Response' | 'Init error', runtimeType?: string): ErrorReport {
  const errorMessage =
    `${what} payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).` +
    (runtimeType === undefined ? '' : ` The runtime reported error type ${runtimeType}.`);
  const report = { errorType: TOO_LARGE_TYPE, errorMessage };
  return { ...report, body: JSON.stringify(report) };
}

/** Drains a body nobody needs, so the keep-alive connection can carry the next request. */
function discardBody(req: IncomingMessage): void {
  req.resume();
}

function sendJson(res: ServerResponse, status: number, payload: unknown, closeConnection = false): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify(payload);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (closeConnection) res.setHeader('Connection', 'close');
  res.writeHead(status);
  res.end(body);
}

/** 202 with the body AWS sends for every accepted report. */
function sendAccepted(res: ServerResponse): void {
  sendJson(res, 202, { status: 'OK' });
}

/**
 * 400 as AWS sends it both for an id it does not know and for one already answered (its
 * emulator maps both cases to the same "Invalid request ID").
 */
function sendInvalidRequestId(res: ServerResponse): void {
  sendJson(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
}

/**
 * Reads an error report body: `{"errorMessage", "errorType", "stackTrace"?}` (or the
 * `application/vnd.aws.lambda.error.cause+json` superset). The body's errorType wins over the
 * header because runtimes put the real type there and a generic one in the header (the Rust
 * runtime sends `Lambda-Runtime-Function-Error-Type: unhandled`). A body that is not that JSON
 * is kept verbatim as the message.
 */
function parseErrorReport(body: string, headerType: string | undefined): ErrorReport {
  const fallbackType = nonEmpty(headerType) ?? 'Unknown';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { errorType: fallbackType, errorMessage: body, body };
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const errorType = nonEmpty(typeof record.errorType === 'string' ? record.errorType : undefined) ?? fallbackType;
  const errorMessage = typeof record.errorMessage === 'string' ? record.errorMessage : body;
  return { errorType, errorMessage, body };
}

/** The error-body trailer is documented as base64; accept plain JSON too rather than lose it. */
function decodeTrailerBody(value: string | undefined): string {
  if (value === undefined) return '';
  const trimmed = value.trim();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && trimmed.length % 4 === 0) {
    return Buffer.from(trimmed, 'base64').toString('utf8');
  }
  return value;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * An X-Ray trace header in Lambda's format: the root id is `1-` + the epoch seconds in hex +
 * 96 random bits, the parent a random 64-bit segment id; unsampled, since nothing collects it.
 */
function generateTraceId(): string {
  const epochHex = Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${epochHex}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}
