// InvokeApiServer over HTTP (fetch and node:http) with the looping fake runtime: Lambda's Invoke
// API as a client sees it (status codes, headers, error documents), the names it answers to, and
// who it refuses. The AWS CLI and the SDK drive it in invoke-api.integration.test.ts.
import { request as httpRequest } from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { LocalFunction, PoolInvocation } from '../../invoke/function-pool.js';
import { InvokeApiServer } from '../../invoke/invoke-api-server.js';
import { EVENT_SIZE_LIMIT_BYTES } from '../../invoke/limits.js';
import { sweepError } from '../helpers/errors.js';
import { type WarmAnswer, warmCode } from './fake-warm-runtime.js';
import { tempFiles } from './zip-fixtures.js';

const FAKE: LocalFunction = {
  key: 'fake',
  functionName: 'fake-deployed',
  memorySize: 128,
  timeoutSeconds: 10,
  environment: {},
  reservedConcurrency: null,
};

let files: ReturnType<typeof tempFiles>;
let server: InvokeApiServer;
let invocations: Array<{ key: string; type: string; result: PoolInvocation }>;

beforeEach(async () => {
  files = tempFiles();
  invocations = [];
  server = await InvokeApiServer.start({
    port: 0,
    region: 'eu-west-1',
    onInvocation: (key, type, result) => invocations.push({ key, type, result }),
  });
  server.register(FAKE, warmCode(files.write, 'v1'));
});
afterEach(async () => {
  await server.close();
  files.cleanup();
});

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

async function invoke(name: string, payload?: string, headers: Record<string, string> = {}, query = ''): Promise<Reply> {
  const res = await fetch(`${server.endpoint}/2015-03-31/functions/${encodeURIComponent(name)}/invocations${query}`, {
    method: 'POST',
    body: payload,
    headers,
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const json = (reply: Reply) => JSON.parse(reply.body);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
const answerOf = (reply: Reply) => json(reply) as WarmAnswer;

/** A request through node:http, for the headers fetch will not let a caller set (Host, Origin). */
function rawPost(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method: 'POST', path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('InvokeApiServer', () => {
  it('answers a synchronous invoke with the function response, the version and the request id its runtime saw', async () => {
    const reply = await invoke('fake', '{"hello":"world"}');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/json');
    expect(reply.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(reply.headers.get('x-amz-function-error')).toBeNull();
    expect(reply.headers.get('x-amz-log-result')).toBeNull();
    const answer = answerOf(reply);
    expect(answer.event).toEqual({ hello: 'world' });
    expect(reply.headers.get('x-amzn-requestid')).toBe(answer.requestId);
    expect(invocations).toEqual([{ key: 'fake', type: 'RequestResponse', result: expect.objectContaining({ kind: 'completed' }) }]);
  });

  it('reuses the warm environment: the same process answers the second request', async () => {
    const first = answerOf(await invoke('fake', '{}'));
    const second = answerOf(await invoke('fake', '{}'));
    expect(second.pid).toBe(first.pid);
    expect(second.count).toBe(2);
  });

  it.each([
    ['its sweep.functions key', 'fake', undefined, 'arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed'],
    ['its deployed name', 'fake-deployed', undefined, 'arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed'],
    ['its name with $LATEST', 'fake-deployed:$LATEST', undefined, 'arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed:$LATEST'],
    ['a Qualifier parameter', 'fake', '?Qualifier=%24LATEST', 'arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed:$LATEST'],
    [
      'its ARN',
      'arn:aws:lambda:eu-west-1:123456789012:function:fake-deployed',
      undefined,
      'arn:aws:lambda:eu-west-1:123456789012:function:fake-deployed',
    ],
    [
      'its qualified ARN',
      'arn:aws:lambda:us-east-2:123456789012:function:fake-deployed:$LATEST',
      undefined,
      'arn:aws:lambda:us-east-2:123456789012:function:fake-deployed:$LATEST',
    ],
    ['a partial ARN', '123456789012:function:fake', undefined, 'arn:aws:lambda:eu-west-1:123456789012:function:fake-deployed'],
  ])('finds the function by %s and tells its runtime the ARN it was invoked as', async (_what, name, query, arn) => {
    const reply = await invoke(name, '{}', {}, query ?? '');
    expect(reply.status).toBe(200);
    expect(answerOf(reply).arn).toBe(arn);
  });

  it("answers an unknown function or qualifier with Lambda's 404 ResourceNotFoundException", async () => {
    const unknown = await invoke('nope', '{}');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(json(unknown)).toEqual({ Type: 'User', Message: 'Function not found: arn:aws:lambda:eu-west-1:000000000000:function:nope' });

    const version = await invoke('fake:7', '{}');
    expect(version.status).toBe(404);
    expect(json(version).Message).toBe('Function not found: arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed:7');

    const alias = await invoke('fake', '{}', {}, '?Qualifier=live');
    expect(json(alias).Message).toBe('Function not found: arn:aws:lambda:eu-west-1:000000000000:function:fake-deployed:live');

    const notAName = await invoke('has/slash', '{}');
    expect(notAName.status).toBe(404);
  });

  it('refuses a qualifier in the name that contradicts the Qualifier parameter', async () => {
    const reply = await invoke('fake:$LATEST', '{}', {}, '?Qualifier=live');
    expect(reply.status).toBe(400);
    expect(reply.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
  });

  it('marks a function error Unhandled and returns its error document', async () => {
    const reply = await invoke('fake', '{"fail":"no such item"}');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(reply.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(json(reply)).toEqual({ errorType: 'Boom', errorMessage: 'no such item' });
  });

  it('returns the last 4 KB of the log, base64, with LogType Tail', async () => {
    const reply = await invoke('fake', '{"log":["first line","second line"]}', { 'X-Amz-Log-Type': 'Tail' });
    const requestId = reply.headers.get('x-amzn-requestid');
    const log = Buffer.from(reply.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8');
    expect(log.split('\n').slice(0, 4)).toEqual([
      `START RequestId: ${requestId} Version: $LATEST`,
      'first line',
      'second line',
      `END RequestId: ${requestId}`,
    ]);
    expect(log).toMatch(new RegExp(`\\nREPORT RequestId: ${requestId}\\tDuration: [\\d.]+ ms\\t`));

    const none = await invoke('fake', '{}', { 'X-Amz-Log-Type': 'None' });
    expect(none.headers.get('x-amz-log-result')).toBeNull();
    const bad = await invoke('fake', '{}', { 'X-Amz-Log-Type': 'Everything' });
    expect(bad.status).toBe(400);
    expect(json(bad).message).toBe(
      "1 validation error detected: Value 'Everything' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [None, Tail]",
    );
  });

  it('accepts an Event with 202 at once and runs it in the background', async () => {
    const reply = await invoke('fake', '{"sleepMs":200}', { 'X-Amz-Invocation-Type': 'Event' });
    expect(reply.status).toBe(202);
    expect(reply.body).toBe('');
    expect(invocations).toEqual([]);
    while (invocations.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(invocations[0]).toMatchObject({ key: 'fake', type: 'Event', result: { kind: 'completed', outcome: { kind: 'response' } } });
    expect((invocations[0]!.result as { requestId: string }).requestId).toBe(reply.headers.get('x-amzn-requestid'));
  });

  it('answers a DryRun with 204 and runs nothing', async () => {
    const reply = await invoke('fake', '{}', { 'X-Amz-Invocation-Type': 'DryRun' });
    expect(reply.status).toBe(204);
    expect(server.pool('fake')?.environmentInfo).toEqual([]);
    const bad = await invoke('fake', '{}', { 'X-Amz-Invocation-Type': 'Later' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('ValidationException');
  });

  it('refuses a synchronous payload of 6 MiB with 413 and takes one a byte smaller', async () => {
    const tooBig = await invoke('fake', `"${'x'.repeat(EVENT_SIZE_LIMIT_BYTES - 2)}"`, { 'X-Amz-Invocation-Type': 'DryRun' });
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException');
    expect(json(tooBig)).toEqual({ Type: 'User', message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });
    const fits = await invoke('fake', `"${'x'.repeat(EVENT_SIZE_LIMIT_BYTES - 3)}"`, { 'X-Amz-Invocation-Type': 'DryRun' });
    expect(fits.status).toBe(204);
  });

  it('refuses an Event payload over 1 MB with the size in the message', async () => {
    const payload = `"${'x'.repeat(1024 * 1024)}"`;
    const reply = await invoke('fake', payload, { 'X-Amz-Invocation-Type': 'Event' });
    expect(reply.status).toBe(413);
    expect(json(reply).message).toBe('1048578 byte payload is too large for the Event invocation type (limit 1048576 bytes)');
  });

  it('refuses a payload that is not JSON, and hands an empty one over as {}', async () => {
    const bad = await invoke('fake', '{not json');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(json(bad).message).toMatch(/^Could not parse request body into json: Could not parse payload into json: /);
    expect(answerOf(await invoke('fake', undefined)).event).toEqual({});
  });

  it('passes a base64 client context on to the runtime and refuses one that is not', async () => {
    const context = Buffer.from('{"custom":{"k":"v"}}').toString('base64');
    expect(answerOf(await invoke('fake', '{}', { 'X-Amz-Client-Context': context })).clientContext).toBe('{"custom":{"k":"v"}}');
    expect((await invoke('fake', '{}', { 'X-Amz-Client-Context': 'not base64 json' })).status).toBe(400);
  });

  it('answers 429 TooManyRequestsException beyond the reserved concurrency', async () => {
    server.register({ ...FAKE, key: 'single', functionName: 'single-deployed', reservedConcurrency: 1 }, warmCode(files.write, 'single'));
    const slow = invoke('single', '{"sleepMs":400}');
    while (server.pool('single')?.environmentInfo.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const throttled = await invoke('single', '{}');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(json(throttled)).toEqual({
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      Type: 'User',
      message: 'Rate Exceeded.',
    });
    expect((await slow).status).toBe(200);
  });

  it('reports a timeout, a crash and a failed init as Lambda does', async () => {
    server.register({ ...FAKE, key: 'short', functionName: 'short-deployed', timeoutSeconds: 0.25 }, warmCode(files.write, 'short'));
    const timeout = await invoke('short', '{"hang":true}');
    expect(timeout.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(json(timeout)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${timeout.headers.get('x-amzn-requestid')} Error: Task timed out after 0.25 seconds`,
    });

    const crash = await invoke('fake', '{"exit":3}');
    expect(crash.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(json(crash)).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${crash.headers.get('x-amzn-requestid')} Error: Runtime exited with error: exit status 3`,
    });

    server.register(
      { ...FAKE, key: 'broken', functionName: 'broken-deployed', environment: { FAKE_INIT_ERROR: 'TABLE is not set' } },
      warmCode(files.write, 'broken'),
    );
    const init = await invoke('broken', '{}');
    expect(init.status).toBe(200);
    expect(init.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(json(init)).toEqual({ errorType: 'Runtime.ConfigInvalid', errorMessage: 'TABLE is not set' });
  });

  it('serves new code from the next invocation on (hot reload), by key', async () => {
    const before = answerOf(await invoke('fake', '{}'));
    await server.replaceCode('fake', warmCode(files.write, 'v2'));
    const after = answerOf(await invoke('fake-deployed', '{}'));
    expect([before.label, after.label]).toEqual(['v1', 'v2']);
    expect(after.pid).not.toBe(before.pid);
    await expect(server.replaceCode('fake-deployed', warmCode(files.write, 'v3'))).rejects.toMatchObject({
      problem: 'the Invoke API serves no function fake-deployed (it serves fake)',
    });
  });

  it('stops serving an unregistered function, which can come back with new settings', async () => {
    const before = answerOf(await invoke('fake', '{}'));
    await server.unregister('fake');
    expect((await invoke('fake', '{}')).status).toBe(404);
    expect(isRunning(before.pid)).toBe(false);

    server.register({ ...FAKE, functionName: 'renamed' }, warmCode(files.write, 'v1'));
    expect(answerOf(await invoke('fake', '{}')).functionName).toBe('renamed');
    expect((await invoke('fake-deployed', '{}')).status).toBe(404);
  });

  it('refuses to register a second function under a name already served', () => {
    const error = sweepError(() => server.register({ ...FAKE, key: 'other', functionName: 'fake' }, warmCode(files.write, 'other')));
    expect(error.problem).toBe('the Invoke API already serves a function named fake (function fake, deployed as fake-deployed)');
  });

  it('refuses what a web page could send: an Origin header, or a Host that is not this machine', async () => {
    const path = '/2015-03-31/functions/fake/invocations';
    const fromPage = await rawPost(path, { Origin: 'https://example.com' });
    expect(fromPage.status).toBe(403);
    expect(JSON.parse(fromPage.body).Message).toBe(
      'the local Invoke API does not serve requests from web pages (an Origin header was sent)',
    );
    const rebound = await rawPost(path, { Host: `attacker.example:${server.port}` });
    expect(rebound.status).toBe(403);
    expect((await rawPost(path, { Host: `localhost:${server.port}` })).status).toBe(200);
    expect(server.pool('fake')?.environmentInfo).toHaveLength(1);
  });

  it('answers anything but Invoke with 404 UnknownOperationException', async () => {
    const res = await fetch(`${server.endpoint}/2015-03-31/functions/fake`, { method: 'GET' });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const wrongMethod = await fetch(`${server.endpoint}/2015-03-31/functions/fake/invocations`, { method: 'GET' });
    expect(wrongMethod.status).toBe(404);
  });

  it("listens on 127.0.0.1 only (this machine's other addresses refuse), and says so when the port is taken", async () => {
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal);
    expect(external).toBeDefined();
    const connected = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: external!.address, port: server.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(connected).toBe('ECONNREFUSED');
    const error = await InvokeApiServer.start({ port: server.port, region: 'eu-west-1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'SweepError',
      problem: `cannot serve the Invoke API on 127.0.0.1:${server.port}: the port is in use`,
    });
  });
});
