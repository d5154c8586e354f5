// Drives RuntimeApiServer with a fake runtime client written here (fetch and node:http), the
// way the Rust `bootstrap` binary drives the real Lambda Runtime API.

import { Agent, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';

import { EVENT_SIZE_LIMIT_BYTES, INIT_TIMEOUT_MS } from '../../invoke/limits.js';
import { DEFAULT_FUNCTION_ARN, type InvocationOutcome, MAX_RESPONSE_BYTES, RuntimeApiServer } from '../../invoke/runtime-api-server.js';

const NEXT = '/2018-06-01/runtime/invocation/next';
const responsePath = (id: string): string => `/2018-06-01/runtime/invocation/${id}/response`;
const errorPath = (id: string): string => `/2018-06-01/runtime/invocation/${id}/error`;
const INIT_ERROR = '/2018-06-01/runtime/init/error';
/** Long enough never to fire in a test that does not exercise the timeout. */
const NO_TIMEOUT = 60_000;

const servers: RuntimeApiServer[] = [];
const agents: Agent[] = [];

afterEach(async () => {
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startServer(): Promise<RuntimeApiServer> {
  const server = await RuntimeApiServer.start();
  servers.push(server);
  return server;
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

async function call(
  server: RuntimeApiServer,
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
): Promise<Reply> {
  const res = await fetch(`http://${server.endpoint}${path}`, { method, body, headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const next = (server: RuntimeApiServer): Promise<Reply> => call(server, 'GET', NEXT);
const post = (server: RuntimeApiServer, path: string, body = '', headers?: Record<string, string>): Promise<Reply> =>
  call(server, 'POST', path, body, headers);

interface RawReply {
  readonly status: number;
  readonly body: string;
  readonly reusedSocket: boolean;
}

/**
 * A request through node:http, for what fetch does not expose: explicit chunked bodies,
 * trailers, a chosen keep-alive agent, and whether the socket was reused.
 */
function rawRequest(
  server: RuntimeApiServer,
  options: {
    method: string;
    path: string;
    headers?: OutgoingHttpHeaders;
    chunks?: readonly (string | Buffer)[];
    trailers?: Record<string, string>;
    agent?: Agent;
  },
): Promise<RawReply> {
  const [host, port] = server.endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host, port: Number(port), method: options.method, path: options.path, headers: options.headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), reusedSocket: req.reusedSocket }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    if (options.trailers) req.addTrailers(options.trailers);
    req.end();
  });
}

/** Waits until the server has logged `count` requests to `path`, i.e. a long-poll is parked. */
async function waitForRequests(server: RuntimeApiServer, path: string, count: number): Promise<void> {
  while (server.requests.filter((r) => r.path === path).length < count) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('RuntimeApiServer', () => {
  it('listens on 127.0.0.1 and reports host:port as the AWS_LAMBDA_RUNTIME_API value', async () => {
    const server = await startServer();
    expect(server.endpoint).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('serves the queued event on /next with all invocation headers, and resolves with the response', async () => {
    const server = await startServer();
    const before = Date.now();
    const started = performance.now();
    const outcome = server.invoke('{"hello":"world"}', {
      timeoutMs: 30_000,
      requestId: 'req-1',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:sweep',
      traceId: 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
    });
    const event = await next(server);
    const after = Date.now();

    expect(event.status).toBe(200);
    expect(event.body).toBe('{"hello":"world"}');
    expect(event.headers.get('lambda-runtime-aws-request-id')).toBe('req-1');
    expect(event.headers.get('lambda-runtime-invoked-function-arn')).toBe('arn:aws:lambda:eu-west-1:123456789012:function:sweep');
    expect(event.headers.get('lambda-runtime-trace-id')).toBe('Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1');
    expect(event.headers.get('content-type')).toBe('application/json');
    const deadline = Number(event.headers.get('lambda-runtime-deadline-ms'));
    expect(deadline).toBeGreaterThanOrEqual(before + 30_000);
    expect(deadline).toBeLessThanOrEqual(after + 30_000);
    expect(event.headers.get('lambda-runtime-client-context')).toBeNull();
    expect(event.headers.get('lambda-runtime-cognito-identity')).toBeNull();

    // The duration runs from the event's delivery to the response: the runtime "works" 40 ms.
    await new Promise((resolve) => setTimeout(resolve, 40));
    const accepted = await post(server, responsePath('req-1'), '{"ok":true}');
    const answered = performance.now();
    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.body)).toEqual({ status: 'OK' });

    const result = await outcome;
    expect(result).toMatchObject({ kind: 'response', requestId: 'req-1', body: '{"ok":true}' });
    const durationMs = result.kind === 'response' ? result.durationMs : Number.NaN;
    // Timers fire no earlier than asked (less a millisecond of rounding); the server measures no more than the whole exchange.
    expect(durationMs).toBeGreaterThanOrEqual(39);
    expect(durationMs).toBeLessThanOrEqual(answered - started + 1);
  });

  it('defaults to a UUID request id, the local ARN and a generated X-Ray trace header', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT });
    const event = await next(server);
    const requestId = event.headers.get('lambda-runtime-aws-request-id') ?? '';
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.headers.get('lambda-runtime-invoked-function-arn')).toBe(DEFAULT_FUNCTION_ARN);
    expect(DEFAULT_FUNCTION_ARN).toBe('arn:aws:lambda:us-east-1:000000000000:function:local');
    expect(event.headers.get('lambda-runtime-trace-id')).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    await post(server, responsePath(requestId), 'null');
    await expect(outcome).resolves.toMatchObject({ kind: 'response', requestId, body: 'null' });
  });

  it('sends the client-context and cognito-identity headers only when given', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', {
      timeoutMs: NO_TIMEOUT,
      requestId: 'mobile',
      clientContext: '{"client":{"app_title":"demo"}}',
      cognitoIdentity: '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
    });
    const event = await next(server);
    expect(event.headers.get('lambda-runtime-client-context')).toBe('{"client":{"app_title":"demo"}}');
    expect(event.headers.get('lambda-runtime-cognito-identity')).toBe('{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}');
    await post(server, responsePath('mobile'), '{}');
    await expect(outcome).resolves.toMatchObject({ kind: 'response' });
  });

  it('parks a /next issued before invoke() and hands it the event once one is queued', async () => {
    const server = await startServer();
    const polled = next(server);
    await waitForRequests(server, NEXT, 1);
    const outcome = server.invoke('{"late":1}', { timeoutMs: NO_TIMEOUT, requestId: 'long-poll' });
    const event = await polled;
    expect(event.body).toBe('{"late":1}');
    expect(event.headers.get('lambda-runtime-aws-request-id')).toBe('long-poll');
    await post(server, responsePath('long-poll'), '"done"');
    await expect(outcome).resolves.toMatchObject({ kind: 'response', body: '"done"' });
  });

  it('keeps the event queued when a runtime disconnects mid-poll', async () => {
    const server = await startServer();
    const [host, port] = server.endpoint.split(':');
    const abandoned = httpRequest({ host, port: Number(port), path: NEXT });
    abandoned.on('error', () => undefined); // the hang-up below is the point
    abandoned.end();
    await waitForRequests(server, NEXT, 1);
    abandoned.destroy();
    // Give the server a moment to see the hang-up before the event is queued.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const outcome = server.invoke('{"kept":true}', { timeoutMs: NO_TIMEOUT, requestId: 'kept' });
    const event = await next(server);
    expect(event.body).toBe('{"kept":true}');
    await post(server, responsePath('kept'), '1');
    await expect(outcome).resolves.toMatchObject({ kind: 'response', requestId: 'kept', body: '1' });
  });

  it('resolves with function-error from an error report with a JSON body', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'fails' });
    await next(server);
    const body = JSON.stringify({ errorMessage: 'boom', errorType: 'HandlerError', stackTrace: ['at main.rs:1'] });
    // The Rust runtime sends a generic "unhandled" header and the real type in the body.
    const accepted = await post(server, errorPath('fails'), body, { 'Lambda-Runtime-Function-Error-Type': 'unhandled' });
    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.body)).toEqual({ status: 'OK' });
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'function-error', requestId: 'fails', errorType: 'HandlerError', errorMessage: 'boom', body });
  });

  it('takes the error type from the header when the body has none', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'header-only' });
    await next(server);
    await post(server, errorPath('header-only'), '{"errorMessage":"no type in body"}', {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.NoSuchHandler',
    });
    await expect(outcome).resolves.toMatchObject({
      kind: 'function-error',
      errorType: 'Runtime.NoSuchHandler',
      errorMessage: 'no type in body',
    });
  });

  it('keeps a non-JSON error body verbatim as the message', async () => {
    const server = await startServer();

    const withHeader = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'plain-1' });
    await next(server);
    await post(server, errorPath('plain-1'), 'panicked at src/main.rs:3', { 'Lambda-Runtime-Function-Error-Type': 'Runtime.Panic' });
    await expect(withHeader).resolves.toMatchObject({
      kind: 'function-error',
      errorType: 'Runtime.Panic',
      errorMessage: 'panicked at src/main.rs:3',
      body: 'panicked at src/main.rs:3',
    });

    const withoutHeader = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'plain-2' });
    await next(server);
    await post(server, errorPath('plain-2'), 'not json');
    await expect(withoutHeader).resolves.toMatchObject({ kind: 'function-error', errorType: 'Unknown', errorMessage: 'not json' });
  });

  it('remembers an init error reported before invoke() and returns it from the next invoke()', async () => {
    const server = await startServer();
    const body = '{"errorMessage":"missing env var TABLE","errorType":"Runtime.ConfigInvalid"}';
    const accepted = await post(server, INIT_ERROR, body, { 'Lambda-Runtime-Function-Error-Type': 'unhandled' });
    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.body)).toEqual({ status: 'OK' });

    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT })).resolves.toEqual({
      kind: 'init-error',
      errorType: 'Runtime.ConfigInvalid',
      errorMessage: 'missing env var TABLE',
      body,
    });

    // Served once: the next invocation runs normally.
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'after-init-error' });
    await next(server);
    await post(server, responsePath('after-init-error'), '{}');
    await expect(outcome).resolves.toMatchObject({ kind: 'response' });
  });

  it('resolves a pending invocation with an init error reported during it', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'pending' });
    // The runtime has not even polled: it failed while initialising.
    await post(server, INIT_ERROR, '', { 'Lambda-Runtime-Function-Error-Type': 'Runtime.InitError' });
    await expect(outcome).resolves.toEqual({ kind: 'init-error', errorType: 'Runtime.InitError', errorMessage: '', body: '' });
    // The event was withdrawn along with the invocation, so nothing is left to deliver; a late
    // answer for it is refused.
    expect((await post(server, responsePath('pending'), '{}')).status).toBe(400);
  });

  it('resolves with timeout when nobody answers, and refuses a late response', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: 200, requestId: 'slow' });
    await next(server);
    await expect(outcome).resolves.toEqual({ kind: 'timeout', requestId: 'slow', timeoutMs: 200 });
    const late = await post(server, responsePath('slow'), '{}');
    expect(late.status).toBe(400);
  });

  it('ends an invocation no runtime ever picks up with init-timeout, not a function timeout', async () => {
    const server = await startServer();
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT, initTimeoutMs: 200, requestId: 'orphan' })).resolves.toEqual({
      kind: 'init-timeout',
      requestId: 'orphan',
      initTimeoutMs: 200,
    });
    // The event was withdrawn: a runtime that polls late gets nothing for it.
    expect((await post(server, responsePath('orphan'), '{}')).status).toBe(400);
  }, 10_000);

  it('does not count the time before pick-up against the function timeout', async () => {
    const server = await startServer();
    // A runtime whose init takes longer than the function's whole timeout, within the init budget.
    const outcome = server.invoke('{}', { timeoutMs: 200, initTimeoutMs: NO_TIMEOUT, requestId: 'slow-init' });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const before = Date.now();
    const event = await next(server);
    expect(Number(event.headers.get('lambda-runtime-deadline-ms'))).toBeGreaterThanOrEqual(before + 200);
    expect((await post(server, responsePath('slow-init'), '"late but fine"')).status).toBe(202);
    await expect(outcome).resolves.toMatchObject({ kind: 'response', body: '"late but fine"' });
  }, 10_000);

  it("gives init Lambda's own 10 s budget by default, separate from a shorter function timeout", async () => {
    expect(INIT_TIMEOUT_MS).toBe(10_000);
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: 100, requestId: 'default-init' });
    let settled: InvocationOutcome | undefined;
    void outcome.then((o) => {
      settled = o;
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(settled).toBeUndefined();
    await next(server);
    await post(server, responsePath('default-init'), '{}');
    await expect(outcome).resolves.toMatchObject({ kind: 'response' });
  });

  it('answers an unknown request id with 400 InvalidRequestID', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'known' });
    await next(server);
    for (const path of [responsePath('unknown'), errorPath('unknown')]) {
      const reply = await post(server, path, '{}');
      expect(reply.status).toBe(400);
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(reply.body)).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    }
    // The real invocation is unaffected.
    await post(server, responsePath('known'), '{}');
    await expect(outcome).resolves.toMatchObject({ kind: 'response', requestId: 'known' });
  });

  it('answers a second response or error for the same id with 400', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'once' });
    await next(server);
    expect((await post(server, responsePath('once'), '"first"')).status).toBe(202);
    const again = await post(server, responsePath('once'), '"second"');
    expect(again.status).toBe(400);
    expect(JSON.parse(again.body)).toMatchObject({ errorType: 'InvalidRequestID' });
    expect((await post(server, errorPath('once'), '{}')).status).toBe(400);
    await expect(outcome).resolves.toMatchObject({ kind: 'response', body: '"first"' });
  });

  it('answers an unknown path with 404 and a wrong method with 405', async () => {
    const server = await startServer();
    expect((await call(server, 'GET', '/2018-06-01/runtime/invocation')).status).toBe(404);
    expect((await call(server, 'GET', '/2020-01-01/extension/event/next')).status).toBe(404);
    expect((await post(server, '/2018-06-01/runtime/invocation/id/other')).status).toBe(404);

    const postNext = await post(server, NEXT, '{}');
    expect(postNext.status).toBe(405);
    expect(postNext.headers.get('allow')).toBe('GET');
    const getResponse = await call(server, 'GET', responsePath('id'));
    expect(getResponse.status).toBe(405);
    expect(getResponse.headers.get('allow')).toBe('POST');
    expect((await call(server, 'PUT', INIT_ERROR, '{}')).status).toBe(405);
  });

  it('accepts a chunked response body over a reused keep-alive connection', async () => {
    const server = await startServer();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'chunked' });
    const event = await rawRequest(server, { method: 'GET', path: NEXT, agent });
    expect(event.status).toBe(200);

    const reply = await rawRequest(server, {
      method: 'POST',
      path: responsePath('chunked'),
      headers: { 'Transfer-Encoding': 'chunked' },
      chunks: ['{"parts":', '[1,2,', '3]}'],
      agent,
    });
    expect(reply.status).toBe(202);
    expect(reply.reusedSocket).toBe(true);
    await expect(outcome).resolves.toMatchObject({ kind: 'response', body: '{"parts":[1,2,3]}' });
    expect(server.requests.find((r) => r.method === 'POST')?.headers['transfer-encoding']).toBe('chunked');
  });

  it("accepts a response of exactly Lambda's cap (6 MiB + 100 bytes) and rejects a larger one with 413", async () => {
    expect(MAX_RESPONSE_BYTES).toBe(6_291_556);
    const server = await startServer();
    const atLimit = 'x'.repeat(MAX_RESPONSE_BYTES);
    const fits = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'at-limit' });
    await next(server);
    expect((await post(server, responsePath('at-limit'), atLimit)).status).toBe(202);
    const fitted = await fits;
    expect(fitted.kind === 'response' && fitted.body.length).toBe(MAX_RESPONSE_BYTES);

    const tooBig = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'too-big' });
    await next(server);
    const reply = await post(server, responsePath('too-big'), `${atLimit}x`);
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toEqual({
      errorType: 'RequestEntityTooLarge',
      errorMessage: 'Exceeded maximum allowed payload size (6291556 bytes).',
    });
    await expect(tooBig).resolves.toMatchObject({
      kind: 'function-error',
      requestId: 'too-big',
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
  });

  it('caps an invocation error body like a response: exactly the cap is accepted, one byte more gets 413', async () => {
    const server = await startServer();
    const atLimit = JSON.stringify({ errorType: 'Big', errorMessage: 'x'.repeat(MAX_RESPONSE_BYTES - 37) });
    expect(Buffer.byteLength(atLimit)).toBe(MAX_RESPONSE_BYTES);
    const fits = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'error-at-limit' });
    await next(server);
    expect((await post(server, errorPath('error-at-limit'), atLimit)).status).toBe(202);
    await expect(fits).resolves.toMatchObject({ kind: 'function-error', errorType: 'Big' });

    const tooBig = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'error-too-big' });
    await next(server);
    const reply = await post(server, errorPath('error-too-big'), `${atLimit} `);
    expect(reply.status).toBe(413);
    expect(JSON.parse(reply.body)).toMatchObject({ errorType: 'RequestEntityTooLarge' });
    await expect(tooBig).resolves.toMatchObject({
      kind: 'function-error',
      requestId: 'error-too-big',
      errorType: 'Function.ResponseSizeTooLarge',
    });
  });

  it('caps an init error body, keeping the type the runtime named', async () => {
    const server = await startServer();
    const reply = await post(server, INIT_ERROR, 'x'.repeat(MAX_RESPONSE_BYTES + 1), {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.Huge',
    });
    expect(reply.status).toBe(413);
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT })).resolves.toMatchObject({
      kind: 'init-error',
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage:
        'Init error payload size exceeded maximum allowed payload size (6291556 bytes). The runtime reported error type Runtime.Huge.',
    });
  });

  it.each([
    ['error', errorPath('flood')],
    ['init/error', INIT_ERROR],
  ])(
    'answers 413 to an endless %s body once it passes the cap, without waiting for (or keeping) the rest',
    async (_name, path) => {
      const server = await startServer();
      // Settled into a value at once, so a server that never answers fails this test by its
      // timeout rather than by an unhandled rejection when afterEach closes the server.
      const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'flood' }).catch((error: unknown) => error);
      await next(server);
      const [host, port] = server.endpoint.split(':');
      const req = httpRequest({ host, port: Number(port), method: 'POST', path, headers: { 'Transfer-Encoding': 'chunked' } });
      req.on('error', () => undefined);
      const status = new Promise<number>((resolve) => req.on('response', (res) => resolve(res.statusCode ?? 0)));
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let sent = 0; sent <= MAX_RESPONSE_BYTES; sent += chunk.length) req.write(chunk);
      // The upload never ends; the server must answer anyway.
      try {
        expect(await status).toBe(413);
        await expect(outcome).resolves.toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
      } finally {
        req.destroy();
      }
    },
    10_000,
  );

  it('refuses an event of 6 MiB or more, as Lambda refuses the Invoke, and delivers one just under', async () => {
    expect(EVENT_SIZE_LIMIT_BYTES).toBe(6_291_456);
    const server = await startServer();
    const tooBig = `"${'x'.repeat(EVENT_SIZE_LIMIT_BYTES - 2)}"`;
    await expect(server.invoke(tooBig, { timeoutMs: NO_TIMEOUT })).rejects.toThrow(/6291456 bytes; Lambda refuses/);
    // Bytes, not characters: 3 MiB of a two-byte character is 6 MiB.
    await expect(server.invoke(`"${'é'.repeat(EVENT_SIZE_LIMIT_BYTES / 2)}"`, { timeoutMs: NO_TIMEOUT })).rejects.toThrow(RangeError);

    const fits = `"${'x'.repeat(EVENT_SIZE_LIMIT_BYTES - 3)}"`;
    const outcome = server.invoke(fits, { timeoutMs: NO_TIMEOUT, requestId: 'just-under' });
    const event = await next(server);
    expect(event.body.length).toBe(EVENT_SIZE_LIMIT_BYTES - 1);
    await post(server, responsePath('just-under'), '{}');
    await expect(outcome).resolves.toMatchObject({ kind: 'response' });
  }, 10_000);

  it('treats error trailers on a streamed response as a function error', async () => {
    const server = await startServer();
    const outcome = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'stream' });
    await next(server);
    const errorBody = JSON.stringify({ errorMessage: 'stream broke', errorType: 'StreamError' });
    const reply = await rawRequest(server, {
      method: 'POST',
      path: responsePath('stream'),
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
      chunks: ['partial '],
      trailers: {
        'Lambda-Runtime-Function-Error-Type': 'Runtime.StreamError',
        'Lambda-Runtime-Function-Error-Body': Buffer.from(errorBody).toString('base64'),
      },
    });
    expect(reply.status).toBe(202);
    await expect(outcome).resolves.toMatchObject({
      kind: 'function-error',
      errorType: 'StreamError',
      errorMessage: 'stream broke',
      body: errorBody,
    });
  });

  it('rejects invoke() while another invocation is in flight, and bad options', async () => {
    const server = await startServer();
    const first = server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'first' });
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT })).rejects.toThrow(/first is still in flight/);
    await next(server);
    await post(server, responsePath('first'), '{}');
    await first;

    await expect(server.invoke('{}', { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT, initTimeoutMs: 0 })).rejects.toThrow(/initTimeoutMs/);
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT, requestId: 'a/b' })).rejects.toThrow(/requestId/);
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT, traceId: 'bad\r\nheader' })).rejects.toThrow();
  });

  it('logs every request with method, path and headers', async () => {
    const server = await startServer();
    await call(server, 'GET', '/nowhere?x=1', undefined, { 'User-Agent': 'aws-lambda-rust/test' });
    expect(server.requests).toEqual([
      { method: 'GET', path: '/nowhere', headers: expect.objectContaining({ 'user-agent': 'aws-lambda-rust/test' }) },
    ]);
  });

  it('close() releases a pending /next with 500, rejects the in-flight invocation, and refuses new ones', async () => {
    const server = await RuntimeApiServer.start(); // closed here, not by afterEach
    const outcome: Promise<InvocationOutcome> = server.invoke('{}', { timeoutMs: NO_TIMEOUT });
    // Attached before close() so the rejection is never momentarily unhandled.
    const rejected = expect(outcome).rejects.toThrow(/closed before invocation/);
    const first = await next(server);
    expect(first.status).toBe(200);
    const parked = next(server);
    await waitForRequests(server, NEXT, 2);

    await server.close();
    const released = await parked;
    expect(released.status).toBe(500);
    expect(JSON.parse(released.body)).toMatchObject({ errorType: 'ContainerError' });
    await rejected;
    await expect(server.invoke('{}', { timeoutMs: NO_TIMEOUT })).rejects.toThrow(/closed/);
    await expect(server.close()).resolves.toBeUndefined();
  });
});
