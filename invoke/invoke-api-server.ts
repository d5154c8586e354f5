/**
 * Lambda's Invoke API on this machine: `POST /2015-03-31/functions/{FunctionName}/invocations`,
 * so `aws lambda invoke --endpoint-url http://127.0.0.1:9001 ...` and an SDK's LambdaClient with
 * `endpoint` call local functions unchanged. Each registered function has a FunctionPool of warm
 * execution environments; a watch loop hands a rebuilt zip to replaceCode() and the next
 * invocation runs it.
 *
 * What it serves (Lambda's Invoke API reference):
 * - `X-Amz-Invocation-Type`: `RequestResponse` (default) waits for the function; `Event` answers
 *   202 at once and runs it in the background (queued, not throttled, at the cap, as Lambda
 *   queues events; not retried on error, unlike Lambda's two retries minutes apart, which would
 *   only confuse a local session); `DryRun` checks the request and answers 204.
 * - `X-Amz-Log-Type: Tail`: the last 4 KB of the invocation's log, base64, in `X-Amz-Log-Result`.
 * - `X-Amz-Client-Context` (base64 JSON): passed to the runtime as `Lambda-Runtime-Client-Context`.
 * - FunctionName: the `sweep.functions` key, the deployed `functionName`, a full or partial ARN,
 *   with an optional qualifier (or the `Qualifier` query parameter); only `$LATEST` exists here.
 *   The ARN's region and account are not checked: there is one local account.
 * - Lambda's status codes and error documents (invoke-api-responses.ts).
 *
 * Requests from other machines are impossible: it listens on 127.0.0.1 only. Requests a web page
 * could make from a browser on this machine are refused too (one with an `Origin` header, or a
 * `Host` that is not 127.0.0.1 or localhost, as DNS rebinding would send): the AWS CLI and the
 * SDKs send neither. Only `node:http`: no framework for one route.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { functionAlreadyServed, functionNotServed, invokeApiListenFailed, invokeApiPortInUse } from './errors.js';
import type { CodeSource } from './function-code.js';
import { functionArn, LATEST, parseFunctionName } from './function-name.js';
import { FunctionPool, type LocalFunction, type PoolInvocation, type RunnerOptions } from './function-pool.js';
import {
  type ApiResponse,
  accessDenied,
  invalidParameterValue,
  invalidRequestContent,
  invocationAnswer,
  notInEnum,
  requestTooLarge,
  resourceNotFound,
  serviceException,
  tooManyRequests,
  unknownOperation,
} from './invoke-api-responses.js';
import { ASYNC_EVENT_SIZE_LIMIT_BYTES, EVENT_SIZE_LIMIT_BYTES } from './limits.js';
import { readBody } from './read-body.js';

/** Lambda's Invoke API port here; `sam local start-lambda` uses 3001 and `cargo lambda watch` 9000. */
export const DEFAULT_INVOKE_API_PORT = 9001;

const HOST = '127.0.0.1';
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const INVOCATION_TYPES = ['Event', 'RequestResponse', 'DryRun'] as const;
const LOG_TYPES = ['None', 'Tail'] as const;

export interface InvokeApiServerOptions {
  /** @default {@link DEFAULT_INVOKE_API_PORT}; 0 picks a free port (tests) */
  readonly port?: number;
  /** The app's region: the region of the ARNs handed to functions. */
  readonly region: string;
  /** How environments run (on this machine or in the builder image). @default on this machine when it can */
  readonly runner?: RunnerOptions;
  /** Environments per function without a reserved concurrency. @default 10 (DEFAULT_CONCURRENCY) */
  readonly defaultConcurrency?: number;
  /** The init phase's budget. @default Lambda's 10 s */
  readonly initTimeoutMs?: number;
  /** Every log line of every function (START/END/REPORT and the function's own output). */
  readonly onLog?: (functionKey: string, line: string) => void;
  /** How each invocation came out, throttled ones included (an `Event` one when it ends in the background). */
  readonly onInvocation?: (functionKey: string, invocationType: 'RequestResponse' | 'Event', result: PoolInvocation) => void;
}

export class InvokeApiServer {
  private readonly byKey = new Map<string, FunctionPool>();
  /** Every name a function answers to: its key and its deployed name. */
  private readonly byName = new Map<string, FunctionPool>();
  private readonly background = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly options: InvokeApiServerOptions,
    /** The port it listens on (the one chosen when 0 was asked for). */
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1; a port in use is a SweepError that says so. */
  static async start(options: InvokeApiServerOptions): Promise<InvokeApiServer> {
    const wanted = options.port ?? DEFAULT_INVOKE_API_PORT;
    const server = createServer();
    // An SDK keeps its connection open between calls; Node's 5 s keep-alive timeout could close
    // it just as the client reuses it, a spurious connection reset. Idle connections are closed
    // by close() instead.
    server.keepAliveTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? invokeApiPortInUse(wanted, error) : invokeApiListenFailed(wanted, error)),
      );
      server.listen(wanted, HOST, () => resolve());
    });
    server.removeAllListeners('error');
    const instance = new InvokeApiServer(server, options, (server.address() as AddressInfo).port);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      instance.handle(req, res).catch((error: unknown) => send(res, serviceException(`the local Invoke API failed: ${String(error)}`)));
    });
    return instance;
  }

  /** `http://127.0.0.1:<port>`, for `--endpoint-url` and an SDK's `endpoint`. */
  get endpoint(): string {
    return `http://${HOST}:${this.port}`;
  }

  /**
   * Serves `fn` with the code in `code` (read and checked now; no environment starts until the
   * first invocation). Refuses a name another registered function already answers to.
   */
  register(fn: LocalFunction, code: CodeSource): FunctionPool {
    for (const name of new Set([fn.key, fn.functionName])) {
      const other = this.byName.get(name);
      if (other) throw functionAlreadyServed(name, `function ${other.function.key}, deployed as ${other.function.functionName}`);
    }
    const pool = new FunctionPool({
      function: fn,
      code,
      region: this.options.region,
      runner: this.options.runner,
      defaultConcurrency: this.options.defaultConcurrency,
      initTimeoutMs: this.options.initTimeoutMs,
      onLog: this.options.onLog && ((line) => this.options.onLog?.(fn.key, line)),
    });
    this.byKey.set(fn.key, pool);
    this.byName.set(fn.key, pool);
    this.byName.set(fn.functionName, pool);
    return pool;
  }

  /**
   * Hot reload: the next invocation of the function `key` runs `code`; invocations in flight
   * finish on the old code, whose environments are then retired (see FunctionPool.replaceCode).
   * A zip that cannot run is refused and the current code stays.
   */
  async replaceCode(key: string, code: CodeSource): Promise<void> {
    const pool = this.byKey.get(key);
    if (!pool) throw functionNotServed(key, [...this.byKey.keys()]);
    await pool.replaceCode(code);
  }

  /**
   * Stops serving the function `key` (an invocation of it in flight ends as a crash) and resolves
   * once its environments are gone. For settings that changed in cdktf.json (environment, memory,
   * timeout, reserved concurrency): unregister, then register it again.
   */
  async unregister(key: string): Promise<void> {
    const pool = this.byKey.get(key);
    if (!pool) throw functionNotServed(key, [...this.byKey.keys()]);
    this.byKey.delete(key);
    this.byName.delete(pool.function.key);
    this.byName.delete(pool.function.functionName);
    await pool.close();
  }

  /** The pool serving the function `key`, for its environments and its current code version. */
  pool(key: string): FunctionPool | undefined {
    return this.byKey.get(key);
  }

  /** Stops listening, ends every environment and waits for background invocations. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      this.server.closeAllConnections();
      await Promise.all([...this.byKey.values()].map((pool) => pool.close()));
      await Promise.all(this.background);
      await closed;
    })();
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Lambda answers every request with its id; an invocation's is also the one its runtime sees.
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const refusal = browserRefusal(req, this.port);
    if (refusal) return reject(req, res, accessDenied(refusal));
    const url = new URL(req.url ?? '/', 'http://local');
    const match = INVOKE_PATH.exec(url.pathname);
    if (req.method !== 'POST' || !match) return reject(req, res, unknownOperation(req.method ?? '', url.pathname));

    const invocationType = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (!isOneOf(INVOCATION_TYPES, invocationType)) return reject(req, res, notInEnum('invocationType', invocationType, INVOCATION_TYPES));
    const logType = header(req, 'x-amz-log-type') ?? 'None';
    if (!isOneOf(LOG_TYPES, logType)) return reject(req, res, notInEnum('logType', logType, LOG_TYPES));

    const target = this.resolve(match[1]!, url.searchParams.get('Qualifier') ?? undefined);
    if ('response' in target) return reject(req, res, target.response);

    // Lambda refuses an Event payload over 1 MB and a synchronous one of 6 MiB or more.
    const limit = invocationType === 'Event' ? ASYNC_EVENT_SIZE_LIMIT_BYTES : EVENT_SIZE_LIMIT_BYTES - 1;
    const { body, tooLarge } = await readBody(req, limit);
    if (tooLarge) {
      const declared = Number(req.headers['content-length']);
      return send(
        res,
        requestTooLarge(invocationType === 'Event' ? 'Event' : 'RequestResponse', Number.isFinite(declared) ? declared : undefined),
      );
    }
    // An empty payload reaches the function as `{}`, as on Lambda (the AWS CLI sends none without --payload).
    const payload = body.length === 0 ? '{}' : body.toString('utf8');
    try {
      JSON.parse(payload);
    } catch (error) {
      return send(res, invalidRequestContent((error as Error).message));
    }
    const clientContext = decodeClientContext(header(req, 'x-amz-client-context'));
    if (clientContext === null) return send(res, invalidParameterValue('Client context must be a valid Base64-encoded JSON object.'));
    if (invocationType === 'DryRun') return send(res, { status: 204, headers: {}, body: '' });

    const { pool } = target;
    const options = { requestId, functionArn: target.invokedArn, clientContext };
    if (invocationType === 'Event') {
      send(res, { status: 202, headers: {}, body: '' });
      this.runInBackground(pool, payload, options);
      return;
    }
    let result: PoolInvocation;
    try {
      result = await pool.invoke(payload, options);
    } catch (error) {
      return send(res, serviceException(`the local execution environment could not be set up: ${(error as Error).message}`));
    }
    this.options.onInvocation?.(pool.function.key, 'RequestResponse', result);
    if (result.kind === 'throttled') return send(res, tooManyRequests(result.reserved));
    const answer =
      invocationAnswer(result.outcome) ??
      serviceException(
        `the local execution environment could not start bootstrap: ${'message' in result.outcome ? result.outcome.message : ''}`,
      );
    const tail: Record<string, string> =
      logType === 'Tail' && answer.status === 200 ? { 'X-Amz-Log-Result': result.logTail.toString('base64') } : {};
    send(res, { ...answer, headers: { ...answer.headers, ...tail } });
  }

  /** The function a FunctionName names, and the ARN its runtime is told it was invoked as; or Lambda's refusal. */
  private resolve(
    rawName: string,
    queryQualifier: string | undefined,
  ): { pool: FunctionPool; invokedArn: string } | { response: ApiResponse } {
    const region = this.options.region;
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      name = rawName;
    }
    const parsed = parseFunctionName(name);
    if (!parsed) return { response: resourceNotFound(functionArn(region, name)) };
    if (parsed.qualifier !== undefined && queryQualifier !== undefined && parsed.qualifier !== queryQualifier) {
      return { response: invalidParameterValue('The derived qualifier from the function name does not match the specified qualifier.') };
    }
    const qualifier = parsed.qualifier ?? queryQualifier;
    const pool = this.byName.get(parsed.name);
    const arn = functionArn(parsed.region ?? region, pool?.function.functionName ?? parsed.name, parsed.account, qualifier);
    if (!pool || (qualifier !== undefined && qualifier !== LATEST)) return { response: resourceNotFound(arn) };
    return { pool, invokedArn: arn };
  }

  private runInBackground(
    pool: FunctionPool,
    payload: string,
    options: { requestId: string; functionArn: string; clientContext?: string },
  ): void {
    const run = pool
      .invoke(payload, { ...options, queue: true })
      .then((result) => this.options.onInvocation?.(pool.function.key, 'Event', result))
      .catch((error: unknown) =>
        this.options.onLog?.(pool.function.key, `event ${options.requestId} was not run: ${(error as Error).message}`),
      )
      .finally(() => this.background.delete(run));
    this.background.add(run);
  }
}

/** Why a request looks like a browser's, or undefined for the AWS CLI's and the SDKs'. */
function browserRefusal(req: IncomingMessage, port: number): string | undefined {
  if (req.headers.origin !== undefined) return 'the local Invoke API does not serve requests from web pages (an Origin header was sent)';
  const host = req.headers.host ?? '';
  if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) {
    return `the local Invoke API answers requests for ${HOST}:${port} or localhost:${port} only, not for ${JSON.stringify(host)}`;
  }
  return undefined;
}

/** The client context for the runtime: undefined when none was sent, null when it is not base64 JSON. */
function decodeClientContext(value: string | undefined): string | undefined | null {
  if (value === undefined) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  try {
    JSON.parse(text);
    return text;
  } catch {
    return null;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

/** Answers without reading the body: drained, so the keep-alive connection can carry the next request. */
function reject(req: IncomingMessage, res: ServerResponse, response: ApiResponse): void {
  req.resume();
  send(res, response);
}

function send(res: ServerResponse, response: ApiResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(response.status, { ...response.headers, 'Content-Length': String(Buffer.byteLength(response.body)) });
  res.end(response.body);
}
