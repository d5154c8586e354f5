import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
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

  it('download streams the object into a file while hashing it: memory does not grow with its size (child processes, get as the control)', async () => {
    // GIVEN a 64 MiB object
    const key = freshKey('big.zip');
    const body = randomBytes(64 * 1024 * 1024);
    await store.putIfAbsent(key, body);
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-download-'));
    /** How much the peak memory of a fresh process grew while `operation` ran. */
    const peakGrowth = async (operation: string) => {
      const result = await runTsChild(
        STORE,
        `const store = await S3ArtifactStore.open(parseRemoteCacheUrl(${JSON.stringify(location.url)}));
         await store.head(${JSON.stringify(key)}); // the SDK and a connection, before measuring
         const before = process.resourceUsage().maxRSS;
         const result = await ${operation};
         const growth = (process.resourceUsage().maxRSS - before) * 1024;
         store.destroy();
         console.log(JSON.stringify({ growth, sha256: result.sha256 ?? null, size: result.size ?? result.length }));`,
        server.env(),
      );
      return JSON.parse(result.stdout) as { growth: number; sha256: string | null; size: number };
    };
    try {
      // WHEN downloaded, and (the control) read into memory
      const file = path.join(folder, 'big.zip.part');
      const streamed = await peakGrowth(`store.download(${JSON.stringify(key)}, ${JSON.stringify(file)})`);
      const buffered = await peakGrowth(`store.get(${JSON.stringify(key)})`);

      // THEN the file holds the bytes and its hash is theirs, with a small, bounded peak
      expect({ sha256: streamed.sha256, size: streamed.size }).toEqual({ sha256: sha256(body), size: body.length });
      expect(sha256(fs.readFileSync(file))).toBe(sha256(body));
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(streamed.growth).toBeLessThan(24 * 1024 * 1024);
      // ... where holding the object in memory costs at least its size: the measure can tell.
      expect(buffered.growth).toBeGreaterThan(64 * 1024 * 1024);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('download refuses an existing file, an object larger than allowed, and leaves no file behind', async () => {
    const key = freshKey('small.zip');
    await store.putIfAbsent(key, bytes('0123456789'));
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-download-'));
    try {
      const file = path.join(folder, 'x.part');
      const { error } = await remoteError(() => store.download(key, file, { maxBytes: 4 }));
      expectKind(error, 'corrupted');
      expect(error.reason).toBe(`download of ${key}: ${key} is 10 bytes, more than the 4 expected`);
      expect(fs.existsSync(file)).toBe(false);
      expect(await store.download(freshKey('absent.zip'), file)).toBeUndefined();
      expect(fs.existsSync(file)).toBe(false);
      fs.writeFileSync(file, 'mine');
      await expect(store.download(key, file)).rejects.toThrow('EEXIST');
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('list gives the keys under a prefix, sorted, and none for an empty one', async () => {
    const prefix = freshKey('sig/');
    for (const name of ['ci-b', 'ci-a']) await store.putIfAbsent(`${prefix}${name}`, bytes(name));
    expect(await store.list(prefix)).toEqual([`${prefix}ci-a`, `${prefix}ci-b`]);
    expect(await store.list(freshKey('nothing/'))).toEqual([]);
  });

  it('a server that declares a large object and trickles it times out at the floor throughput, long before the body would end', async () => {
    // GIVEN a 4 MiB object served at 256 KiB/s (a quarter of the 1 MiB/s floor)
    const key = freshKey('trickled.zip');
    await store.putIfAbsent(key, randomBytes(4 * 1024 * 1024));
    const proxy = await startShapingProxy(server.endpoint, { bytesPerSecond: 256 * 1024 });
    try {
      const slow = await openStore(location, { env: { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint }, timeoutMs: 1000 });
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-download-'));
      // WHEN
      const { error } = await remoteError(() => slow.download(key, path.join(folder, 'x.part')));
      fs.rmSync(folder, { recursive: true, force: true });
      // THEN a timeout that says how far it got and why, while most of the body was still to come
      expectKind(error, 'timeout');
      expect(error.reason).toMatch(
        new RegExp(`^download of ${key}: [\\d.]+ KiB of 4\\.0 MiB received in \\d+\\.\\d s: slower than 1\\.0 MiB/s$`),
      );
      expect(proxy.bodyBytesSent()).toBeLessThan(2 * 1024 * 1024);
    } finally {
      await proxy.close();
    }
  });

  it('an operation fast enough for the floor still ends at the total cap', async () => {
    // GIVEN an 8 MiB object served at 2 MiB/s (twice the floor), and a cap of 1.5 s
    const key = freshKey('capped.zip');
    await store.putIfAbsent(key, randomBytes(8 * 1024 * 1024));
    const proxy = await startShapingProxy(server.endpoint, { bytesPerSecond: 2 * 1024 * 1024 });
    try {
      const capped = await openStore(location, { env: { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint }, maxOperationMs: 1500 });
      const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-download-'));
      const { error } = await remoteError(() => capped.download(key, path.join(folder, 'x.part')));
      fs.rmSync(folder, { recursive: true, force: true });
      expectKind(error, 'timeout');
      expect(error.reason).toMatch(
        new RegExp(
          `^download of ${key}: not finished within the 1\\.5 s an operation may take \\([\\d.]+ [KM]iB of 8\\.0 MiB transferred\\)$`,
        ),
      );
      expect(proxy.bodyBytesSent()).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await proxy.close();
    }
  });

  it('120 operations at once on a slow server all succeed: they wait for a place (16 at a time), never for a socket that a timeout counts as a dead server', async () => {
    // GIVEN 120 objects, and a server that takes 2.5 s to answer each request: with 120
    // requests on the SDK's 50 sockets, the third wave would wait 5 s for a socket, past the 2 s
    // connection timeout, and be reported as "no connection".
    const keys = Array.from({ length: 120 }, (_, i) => freshKey(`many-${i}.json`));
    await Promise.all(keys.map((key) => store.putIfAbsent(key, bytes(key))));
    const proxy = await startShapingProxy(server.endpoint, { delayMs: 2500 });
    try {
      const busy = await openStore(location, { env: { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint } });
      // WHEN
      const results = await Promise.all(keys.map((key) => busy.get(key).then(text, (error: RemoteCacheError) => error.message)));
      // THEN
      expect(results).toEqual(keys);
      expect(proxy.mostAtOnce()).toBe(16);
    } finally {
      await proxy.close();
    }
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

  it('an endpoint with credentials in it is named without them when it cannot be reached', async () => {
    const endpoint = await listen(net.createServer());
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const withSecrets = endpoint.replace('http://', 'http://AKIAEXAMPLE:wJalrXUtnFEMI@');
    const store = await openStore(location, { env: { ...env, AWS_ENDPOINT_URL_S3: `${withSecrets}/?X-Amz-Signature=deadbeef` } });
    const { error } = await remoteError(() => store.get('p/a.zip'));
    expectKind(error, 'unreachable');
    expect(error.message).toContain(`(${endpoint.replace('http://', 'http://***@')}/?X-Amz-Signature=***)`);
    for (const secret of ['AKIAEXAMPLE', 'wJalrXUtnFEMI', 'deadbeef']) expect(error.message).not.toContain(secret);
  });

  it("an error answer's code and message are escaped: they cannot forge a log line or move the cursor", async () => {
    // GIVEN a server whose error code holds a newline and a whole `cache-hit` line, and whose message a terminal escape
    const forged = '[sweep-lambda] cache-hit (remote s3://sweep-cache/p, 1.0 KiB in 5 ms)';
    const endpoint = await listen(
      http.createServer((request, response) => {
        request.resume();
        response.writeHead(400, { 'content-type': 'application/xml' });
        response.end(`<?xml version="1.0"?><Error><Code>Evil&#10;${forged}</Code><Message>&#27;[2Kgone&#13;</Message></Error>`);
      }),
    );
    const store = await openStore(location, { env: { ...env, AWS_ENDPOINT_URL_S3: endpoint } });
    // WHEN
    const { error } = await remoteError(() => store.get('p/a.zip'));
    // THEN one line, the server's text visible as escapes
    for (const control of ['\n', '\r', '\u001b']) expect(error.message).not.toContain(control);
    expect(error.message).toContain(`Evil\\n${forged}`);
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

/**
 * An HTTP proxy in front of the S3 server that forwards every request unchanged (the Host header
 * too, so the SigV4 signature still matches) and shapes the answers: each held `delayMs` before
 * it is sent, and bodies paced to `bytesPerSecond`. It counts the requests in flight at once
 * and the body bytes it sent.
 */
async function startShapingProxy(
  target: string,
  shape: { delayMs?: number; bytesPerSecond?: number },
): Promise<{ endpoint: string; bodyBytesSent(): number; mostAtOnce(): number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let inFlight = 0;
  let most = 0;
  let sent = 0;
  const server = http.createServer((request, response) => {
    inFlight++;
    most = Math.max(most, inFlight);
    response.on('close', () => inFlight--);
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        setTimeout(() => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          if (!shape.bytesPerSecond) {
            answer.on('data', (chunk: Buffer) => {
              sent += chunk.length;
            });
            answer.pipe(response);
            return;
          }
          const chunkBytes = 16 * 1024;
          const pending: Buffer[] = [];
          let ended = false;
          answer.on('data', (chunk: Buffer) => pending.push(chunk));
          answer.on('end', () => {
            ended = true;
          });
          const timer = setInterval(
            () => {
              const all = Buffer.concat(pending.splice(0));
              const piece = all.subarray(0, chunkBytes);
              if (all.length > chunkBytes) pending.push(all.subarray(chunkBytes));
              if (piece.length > 0) {
                sent += piece.length;
                response.write(piece);
              } else if (ended) {
                clearInterval(timer);
                response.end();
              }
            },
            (chunkBytes / shape.bytesPerSecond) * 1000,
          );
          response.on('close', () => clearInterval(timer));
        }, shape.delayMs ?? 0);
      },
    );
    forward.on('error', () => response.destroy());
    request.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    bodyBytesSent: () => sent,
    mostAtOnce: () => most,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
