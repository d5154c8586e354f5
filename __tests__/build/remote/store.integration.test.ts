import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RemoteCacheError, type RemoteCacheErrorKind } from '../../../build/remote/errors.js';
import { type OutgoingRequest, S3ArtifactStore, type S3StoreOptions } from '../../../build/remote/store.js';
import { parseRemoteCacheUrl, type RemoteCacheLocation, remoteObjectKey } from '../../../build/remote/url.js';
import { sha256Hex as sha256 } from '../../helpers/hash.js';
import { describeWithS3, type S3TestServer, startS3Server } from '../../helpers/s3-server.js';
import { runTsChild } from '../../helpers/ts-child.js';

const STORE = { '{ S3ArtifactStore }': 'build/remote/store.ts', '{ parseRemoteCacheUrl }': 'build/remote/url.ts' };

const BUCKET = 'sweep-cache';
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | undefined) => (data === undefined ? undefined : new TextDecoder().decode(data));

/** Runs `run`, which must fail with a RemoteCacheError; returns it and how long it took. */
async function remoteError(run: () => Promise<unknown>): Promise<{ error: RemoteCacheError; ms: number }> {
  const started = Date.now();
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(RemoteCacheError);
    const remote = error as RemoteCacheError;
    // One line, so that the engine can show it as one warning.
    expect(remote.message).not.toContain('\n');
    return { error: remote, ms: Date.now() - started };
  }
  throw new Error('expected a RemoteCacheError, the operation succeeded');
}

/** Asserts the kind, showing the message when it is not the expected one. */
function expectKind(error: RemoteCacheError, kind: RemoteCacheErrorKind): void {
  expect({ kind: error.kind, message: error.message }).toEqual({ kind, message: error.message });
}

const stores: S3ArtifactStore[] = [];
async function openStore(location: RemoteCacheLocation, options: S3StoreOptions): Promise<S3ArtifactStore> {
  const store = await S3ArtifactStore.open(location, options);
  stores.push(store);
  return store;
}
afterAll(() => {
  for (const store of stores) store.destroy();
});

describeWithS3('S3ArtifactStore against a real S3 server (Ceph radosgw)', () => {
  let server: S3TestServer;
  let location: RemoteCacheLocation;
  let store: S3ArtifactStore;
  let counter = 0;
  /** A fresh key under the prefix, so that tests do not see each other's objects. */
  const freshKey = (name: string) => remoteObjectKey(location, `${++counter}-${name}`);

  beforeAll(async () => {
    server = await startS3Server();
    await server.createBucket(BUCKET);
    location = parseRemoteCacheUrl(`s3://${BUCKET}/team/sweep`);
    store = await openStore(location, { env: server.env() });
  });
  afterAll(() => server?.stop());

  it('get and head of an absent key answer undefined (in a bucket that exists)', async () => {
    const key = freshKey('absent.zip');
    expect(await store.head(key)).toBeUndefined();
    expect(await store.get(key)).toBeUndefined();
    // Again, now that the store knows the bucket exists (no probe).
    expect(await store.head(key)).toBeUndefined();
  });

  it('putIfAbsent creates the object, then answers exists and never overwrites', async () => {
    const key = freshKey('artifact.zip');
    expect(await store.putIfAbsent(key, bytes('first'), { fingerprint: 'f1' })).toBe('created');
    expect(await store.putIfAbsent(key, bytes('second'), { fingerprint: 'f2' })).toBe('exists');
    expect(text(await server.getRaw(BUCKET, key))).toBe('first');
    expect((await store.head(key))?.metadata.fingerprint).toBe('f1');
  });

  it('get and head of a present key: its bytes, size, metadata and the SHA-256 stored at upload', async () => {
    const key = freshKey('artifact.json');
    const body = bytes('{"fingerprint":"abc"}');
    await store.putIfAbsent(key, body, { 'sweep-version': '3', fingerprint: 'abc' });
    expect(text(await store.get(key))).toBe('{"fingerprint":"abc"}');
    expect(await store.head(key)).toEqual({
      size: body.length,
      metadata: { 'sweep-version': '3', fingerprint: 'abc', sha256: sha256(body) },
      sha256: sha256(body),
    });
    // A store that has not seen the bucket yet finds it too (its first HEAD needs no probe to succeed).
    const other = await openStore(location, { env: server.env() });
    expect((await other.head(key))?.size).toBe(body.length);
  });

  it('eight racing putIfAbsent of one key from separate stores: exactly one created, all succeed, one object', async () => {
    const key = freshKey('raced.zip');
    const racers = await Promise.all(Array.from({ length: 8 }, () => openStore(location, { env: server.env() })));
    const outcomes = await Promise.all(racers.map((racer, i) => racer.putIfAbsent(key, bytes(`writer ${i}`), { writer: String(i) })));
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'exists')).toHaveLength(7);
    const winner = outcomes.indexOf('created');
    expect(text(await server.getRaw(BUCKET, key))).toBe(`writer ${winner}`);
    expect((await store.head(key))?.metadata.writer).toBe(String(winner));
    expect((await server.listKeys(BUCKET)).filter((k) => k === key)).toEqual([key]);
  });

  it('sends Content-MD5 and If-None-Match: *, and the server rejects a body that changed after the MD5', async () => {
    const key = freshKey('corrupted.zip');
    const body = bytes('the artifact bytes');
    const seen: OutgoingRequest[] = [];
    const corrupting = await openStore(location, {
      env: server.env(),
      inspectRequest: (request) => {
        seen.push({ ...request, headers: { ...request.headers } });
        if (request.method === 'PUT') {
          const flipped = Uint8Array.from(request.body as Uint8Array);
          flipped[0]! ^= 0xff;
          request.body = flipped; // what a faulty proxy would do, after the MD5 was computed
        }
      },
    });
    const { error } = await remoteError(() => corrupting.putIfAbsent(key, body));
    expectKind(error, 'corrupted');
    expect(error.message).toContain('BadDigest');
    const put = seen.find((request) => request.method === 'PUT')!;
    expect(put.headers['content-md5']).toBe(createHash('md5').update(body).digest('base64'));
    expect(put.headers['if-none-match']).toBe('*');
    expect(put.headers['x-amz-meta-sha256']).toBe(sha256(body));
    expect(await server.getRaw(BUCKET, key)).toBeUndefined();
    // The same upload without the fault goes through: the rejection was the MD5 check.
    expect(await store.putIfAbsent(key, body)).toBe('created');
  });

  it('get refuses bytes that do not match the SHA-256 stored with the object', async () => {
    const key = freshKey('tampered.zip');
    await store.putIfAbsent(key, bytes('good bytes'));
    await server.putRaw(BUCKET, key, bytes('evil bytes'), { sha256: sha256(bytes('good bytes')) });
    const { error } = await remoteError(() => store.get(key));
    expectKind(error, 'corrupted');
    // head shows the mismatch without downloading: the size matches, the stored SHA-256 is the old one.
    expect((await store.head(key))?.sha256).toBe(sha256(bytes('good bytes')));
  });

  it('a wrong secret key or an unknown access key is a credentials error, for every operation', async () => {
    const key = freshKey('k.zip');
    const wrongSecret = await openStore(location, { env: { ...server.env(), AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    const unknownKey = await openStore(location, { env: { ...server.env(), AWS_ACCESS_KEY_ID: 'NOSUCHKEY00000000000' } });
    for (const bad of [wrongSecret, unknownKey]) {
      for (const operation of [() => bad.get(key), () => bad.head(key), () => bad.putIfAbsent(key, bytes('x'))]) {
        const { error } = await remoteError(operation);
        expectKind(error, 'credentials');
        expect(error.message).toContain(`s3://${BUCKET}/team/sweep`);
        expect(error.message).toContain(server.endpoint);
      }
    }
    expect(await server.getRaw(BUCKET, key)).toBeUndefined();
  });

  it("another user's valid credentials without permission are access-denied", async () => {
    const key = freshKey('k.zip');
    await store.putIfAbsent(key, bytes('x'));
    const stranger = await server.createUser('stranger');
    const denied = await openStore(location, {
      env: { ...server.env(), AWS_ACCESS_KEY_ID: stranger.accessKeyId, AWS_SECRET_ACCESS_KEY: stranger.secretAccessKey },
    });
    for (const operation of [() => denied.get(key), () => denied.head(key), () => denied.putIfAbsent(freshKey('new.zip'), bytes('x'))]) {
      const { error } = await remoteError(operation);
      expectKind(error, 'access-denied');
      expect(error.message).toContain('s3:GetObject');
    }
  });

  it('a bucket that does not exist is no-bucket, for get, head and put', async () => {
    const missing = await openStore(parseRemoteCacheUrl('s3://no-such-bucket-here/p'), { env: server.env() });
    for (const operation of [
      () => missing.get('p/a.zip'),
      () => missing.head('p/a.zip'),
      () => missing.putIfAbsent('p/a.zip', bytes('x')),
    ]) {
      const { error } = await remoteError(operation);
      expectKind(error, 'no-bucket');
      expect(error.message).toContain('no-such-bucket-here');
    }
  });

  it('a stopped server is unreachable, within a bounded time, and usable again once it is back', async () => {
    const key = freshKey('k.zip');
    await store.putIfAbsent(key, bytes('kept'));
    await server.pause();
    try {
      for (const operation of [() => store.get(key), () => store.head(key), () => store.putIfAbsent(freshKey('n.zip'), bytes('x'))]) {
        const { error, ms } = await remoteError(operation);
        expectKind(error, 'unreachable');
        expect(ms).toBeLessThan(15_000); // generous: the bound is the 5 s default timeout
      }
    } finally {
      await server.resume();
    }
    expect(text(await store.get(key))).toBe('kept');
  });

  it('the SDK finds the server through the standard variables alone (a child process with server.env())', async () => {
    const key = freshKey('child.zip');
    const result = await runTsChild(
      STORE,
      `const store = await S3ArtifactStore.open(parseRemoteCacheUrl(${JSON.stringify(location.url)}));
       const outcome = await store.putIfAbsent(${JSON.stringify(key)}, new TextEncoder().encode('from a child'));
       const back = new TextDecoder().decode(await store.get(${JSON.stringify(key)}));
       store.destroy();
       console.log(JSON.stringify({ outcome, back, endpoint: store.endpoint }));`,
      server.env(),
    );
    expect(JSON.parse(result.stdout)).toEqual({ outcome: 'created', back: 'from a child', endpoint: server.endpoint });
    // Loading and using the SDK printed nothing (no NodeVersionSupportWarning on Node 20).
    expect(result.stderr).toBe('');
  });

  it('no credentials anywhere is a credentials error (child process with an empty AWS setup)', async () => {
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...withoutKeys } = server.env();
    const result = await runTsChild(
      STORE,
      `const store = await S3ArtifactStore.open(parseRemoteCacheUrl('s3://${BUCKET}'));
       const started = Date.now();
       try { await store.head('a.zip'); console.log('{"kind":"none"}'); }
       catch (error) { console.log(JSON.stringify({ kind: error.kind, message: error.message, ms: Date.now() - started })); }
       store.destroy();`,
      withoutKeys,
    );
    const answer = JSON.parse(result.stdout);
    expect(answer.kind).toBe('credentials');
    expect(answer.message).toContain('AWS_PROFILE');
    expect(answer.ms).toBeLessThan(15_000);
  });
});

describe('S3ArtifactStore against endpoints that are not a working S3 server (no Ceph needed)', () => {
  const location = parseRemoteCacheUrl('s3://sweep-cache/p');
  const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'us-east-1' };
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function listen(server: net.Server): Promise<string> {
    servers.push(server);
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }

  it('a port nobody listens on is unreachable, quickly', async () => {
    const endpoint = await listen(net.createServer());
    await new Promise((resolve) => servers.pop()!.close(resolve)); // now the port refuses connections
    const store = await openStore(location, { env: { ...env, AWS_ENDPOINT_URL_S3: endpoint } });
    for (const operation of [() => store.get('p/a.zip'), () => store.head('p/a.zip'), () => store.putIfAbsent('p/a.zip', bytes('x'))]) {
      const { error, ms } = await remoteError(operation);
      expectKind(error, 'unreachable');
      expect(error.message).toContain('ECONNREFUSED');
      expect(error.message).toContain(endpoint);
      expect(ms).toBeLessThan(10_000);
    }
  });

  it('a server that accepts connections but never answers is a timeout, within the bound', async () => {
    const endpoint = await listen(net.createServer(() => {})); // reads nothing, says nothing
    const store = await openStore(location, { env: { ...env, AWS_ENDPOINT_URL_S3: endpoint }, timeoutMs: 1500 });
    for (const operation of [() => store.get('p/a.zip'), () => store.head('p/a.zip'), () => store.putIfAbsent('p/a.zip', bytes('x'))]) {
      const { error, ms } = await remoteError(operation);
      expectKind(error, 'timeout');
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(10_000); // generous: the bound is 1.5 s
    }
  });

  it('a web server that is not S3 (404 pages in HTML) is an invalid response', async () => {
    const endpoint = await listen(
      http.createServer((request, response) => {
        request.resume();
        response.writeHead(404, { 'content-type': 'text/html' });
        response.end(request.method === 'HEAD' ? undefined : '<html><body>Not Found</body></html>');
      }),
    );
    const store = await openStore(location, { env: { ...env, AWS_ENDPOINT_URL_S3: endpoint } });
    for (const operation of [() => store.get('p/a.zip'), () => store.head('p/a.zip'), () => store.putIfAbsent('p/a.zip', bytes('x'))]) {
      const { error } = await remoteError(operation);
      expectKind(error, 'invalid-response');
      expect(error.message).toContain('HTTP 404');
    }
  });
});
