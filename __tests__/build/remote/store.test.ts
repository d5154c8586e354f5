import { describe, expect, it } from '@jest/globals';
import { RemoteCacheError } from '../../../build/remote/errors.js';
import { Limiter } from '../../../build/remote/limiter.js';
import { S3ArtifactStore } from '../../../build/remote/store.js';
import { parseRemoteCacheUrl, redactUrl, redactUrlsIn, remoteObjectKey } from '../../../build/remote/url.js';
import { SweepError } from '../../../build/support/errors.js';
import { sweepError } from '../../helpers/errors.js';
import { runTsChild } from '../../helpers/ts-child.js';

// No server here: these tests never send a request (the integration tests do, against radosgw).

describe('parseRemoteCacheUrl', () => {
  it.each([
    ['s3://sweep-cache', { bucket: 'sweep-cache', prefix: '', url: 's3://sweep-cache' }],
    ['s3://sweep-cache/', { bucket: 'sweep-cache', prefix: '', url: 's3://sweep-cache' }],
    ['s3://sweep-cache/team', { bucket: 'sweep-cache', prefix: 'team', url: 's3://sweep-cache/team' }],
    ['s3://sweep-cache/team/sweep/', { bucket: 'sweep-cache', prefix: 'team/sweep', url: 's3://sweep-cache/team/sweep' }],
    [
      "  s3://my.bucket.example/A_b-(1)!*'.x  ",
      { bucket: 'my.bucket.example', prefix: "A_b-(1)!*'.x", url: "s3://my.bucket.example/A_b-(1)!*'.x" },
    ],
    ['s3://abc', { bucket: 'abc', prefix: '', url: 's3://abc' }],
    [`s3://${'a'.repeat(63)}`, { bucket: 'a'.repeat(63), prefix: '', url: `s3://${'a'.repeat(63)}` }],
  ])('%s is accepted', (url, expected) => {
    expect(parseRemoteCacheUrl(url)).toEqual(expected);
  });

  it.each([
    ['', 'does not start with s3://'],
    ['sweep-cache/team', 'does not start with s3://'],
    ['https://sweep-cache.s3.amazonaws.com/team', 'does not start with s3://'],
    ['S3://sweep-cache', 'does not start with s3://'],
    ['s3://', 'the bucket name is missing'],
    ['s3:///team', 'the bucket name is missing'],
    ['s3://ab', 'is not 3 to 63 characters long'],
    [`s3://${'a'.repeat(64)}`, 'is not 3 to 63 characters long'],
    ['s3://Sweep-Cache', 'characters other than lower-case letters, digits, dots and hyphens'],
    ['s3://sweep_cache', 'characters other than lower-case letters, digits, dots and hyphens'],
    ['s3://-sweep', 'must begin and end with a letter or digit'],
    ['s3://sweep.', 'must begin and end with a letter or digit'],
    ['s3://sweep..cache', 'two adjacent dots'],
    ['s3://192.168.1.10', 'is an IP address'],
    ['s3://xn--sweep', 'uses the reserved "xn--"'],
    ['s3://sweep-s3alias', 'uses the reserved "-s3alias"'],
    ['s3://sweep-cache/team//sweep', 'empty segment'],
    ['s3://sweep-cache/team/../x', 'a ".." segment'],
    ['s3://sweep-cache/my team', 'characters other than letters, digits'],
    ['s3://sweep-cache/team?x=1', 'characters other than letters, digits'],
    [`s3://sweep-cache/${'p'.repeat(513)}`, 'longer than 512 bytes'],
  ])('%j is refused: %s', (url, reason) => {
    const error = sweepError(() => parseRemoteCacheUrl(url, 'SWEEP_REMOTE_CACHE'));
    expect(error.stage).toBe('config');
    expect(error.problem.startsWith(`invalid remote cache URL ${JSON.stringify(url)} in SWEEP_REMOTE_CACHE: `)).toBe(true);
    expect(error.problem).toContain(reason);
    expect(error.fix).toContain('s3://bucket/prefix');
  });
});

describe('redactUrl: credentials in an endpoint never reach a message', () => {
  it.each([
    ['http://127.0.0.1:9000', 'http://127.0.0.1:9000'],
    ['https://s3.example.com:9000/', 'https://s3.example.com:9000/'],
    ['https://AKIAEXAMPLE:wJalrXUtnFEMI@s3.example.com/', 'https://***@s3.example.com/'],
    ['https://AKIAEXAMPLE@s3.example.com', 'https://***@s3.example.com/'],
    [
      'https://s3.example.com/b/k?X-Amz-Credential=AKIA%2F2026&X-Amz-Signature=abcdef0123&X-Amz-Expires=60',
      'https://s3.example.com/b/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Expires=***',
    ],
    ['ftp://user:secret@files.example.com', 'ftp://***@files.example.com/'],
    ['not a url //user:secret@host/x?sig=1', 'not a url //***@host/x?***'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it('redacts every URL inside a message', () => {
    expect(redactUrlsIn('connect to https://k:s@h:1/?X-Amz-Signature=z failed (ECONNREFUSED)')).toBe(
      'connect to https://***@h:1/?X-Amz-Signature=*** failed (ECONNREFUSED)',
    );
  });

  it('an s3:// URL holding credentials is refused without repeating them', () => {
    const error = sweepError(() => parseRemoteCacheUrl('s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/p', 'SWEEP_REMOTE_CACHE'));
    expect(error.problem).toBe(
      'invalid remote cache URL "s3://***@bucket/p" in SWEEP_REMOTE_CACHE: it holds credentials (user@), which the AWS SDK takes from its own settings instead',
    );
  });
});

describe('Limiter', () => {
  it('lets `size` holders in at once, the others in order as places free up', async () => {
    const limiter = new Limiter(2);
    const order: string[] = [];
    const gates = new Map<string, () => void>();
    const hold = (name: string) =>
      limiter.run(async () => {
        order.push(`start ${name}`);
        await new Promise<void>((resolve) => gates.set(name, resolve));
        order.push(`end ${name}`);
      });
    const all = Promise.all(['a', 'b', 'c', 'd'].map(hold));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['start a', 'start b']);
    gates.get('b')!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['start a', 'start b', 'end b', 'start c']);
    gates.get('a')!();
    await new Promise((resolve) => setImmediate(resolve));
    gates.get('c')!();
    await new Promise((resolve) => setImmediate(resolve));
    gates.get('d')!();
    await all;
    expect(order).toEqual(['start a', 'start b', 'end b', 'start c', 'end a', 'start d', 'end c', 'end d']);
  });

  it('frees the place of a holder that throws, and a release called twice frees one place', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const release = await limiter.acquire();
    release();
    release();
    const [first, second] = [limiter.acquire(), limiter.acquire()];
    (await first)();
    (await second)();
  });
});

describe('remoteObjectKey', () => {
  it('puts the name under the prefix, or at the root without one', () => {
    expect(remoteObjectKey(parseRemoteCacheUrl('s3://sweep-cache/team/sweep'), 'abc.zip')).toBe('team/sweep/abc.zip');
    expect(remoteObjectKey(parseRemoteCacheUrl('s3://sweep-cache'), 'abc.zip')).toBe('abc.zip');
  });
});

describe('S3ArtifactStore.open and argument checks (no request is sent)', () => {
  const location = parseRemoteCacheUrl('s3://sweep-cache/p');
  const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' };

  it.each(['not a url', 'ftp://files.example.com', 'localhost:9000'])(
    'an endpoint %j that is not an http(s) URL is a config error',
    async (endpoint) => {
      const error = await S3ArtifactStore.open(location, { env: { ...env, AWS_ENDPOINT_URL_S3: endpoint } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RemoteCacheError);
      expect(error).toBeInstanceOf(SweepError);
      expect((error as RemoteCacheError).kind).toBe('config');
      expect((error as RemoteCacheError).stage).toBe('remote-cache');
      expect((error as RemoteCacheError).message).toContain(endpoint);
    },
  );

  it('names an endpoint with credentials in it without them, in its label and in a config error', async () => {
    const store = await S3ArtifactStore.open(location, {
      env: { ...env, AWS_ENDPOINT_URL_S3: 'http://AKIAEXAMPLE:wJalrXUtnFEMI@127.0.0.1:9/?X-Amz-Signature=abcdef' },
    });
    store.destroy();
    expect(store.endpoint).toBe('http://***@127.0.0.1:9/?X-Amz-Signature=***');
    const error = await S3ArtifactStore.open(location, { env: { ...env, AWS_ENDPOINT_URL_S3: 'ftp://AKIAEXAMPLE:wJalrXUtnFEMI@h' } }).then(
      () => undefined,
      (e: unknown) => e as RemoteCacheError,
    );
    expect(error?.message).toBe(
      'remote cache s3://sweep-cache/p (ftp://***@h/): the S3 endpoint is not an http(s) URL; set AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) to e.g. https://s3.example.com:9000, or unset it for AWS S3',
    );
  });

  it('names the endpoint it will use: the custom one (AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL), else AWS S3 and the region', async () => {
    const stores = await Promise.all([
      S3ArtifactStore.open(location, { env: { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_ENDPOINT_URL: 'http://other:1' } }),
      S3ArtifactStore.open(location, { env: { ...env, AWS_ENDPOINT_URL: 'http://other:1' } }),
      S3ArtifactStore.open(location, { env: { ...env, AWS_ENDPOINT_URL: 'http://other:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' } }),
      S3ArtifactStore.open(location, { env, region: 'ap-south-1' }),
    ]);
    for (const store of stores) store.destroy();
    expect(stores.map((s) => s.endpoint)).toEqual(['http://127.0.0.1:9', 'http://other:1', 'AWS S3 (eu-west-1)', 'AWS S3 (ap-south-1)']);
  });

  it('refuses metadata S3 cannot carry, and empty keys, before sending anything', async () => {
    const store = await S3ArtifactStore.open(location, { env: { ...env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' } });
    try {
      await expect(store.putIfAbsent('p/a.zip', new Uint8Array(1), { Fingerprint: 'x' })).rejects.toThrow('metadata name');
      await expect(store.putIfAbsent('p/a.zip', new Uint8Array(1), { fingerprint: 'é' })).rejects.toThrow('printable ASCII');
      await expect(store.get('')).rejects.toThrow('1 to 1024 bytes');
    } finally {
      store.destroy();
    }
  });
});

describe('loading the store (fresh Node processes)', () => {
  const nodeMajor = Number(process.versions.node.split('.')[0]);

  it('loads the SDK only in open, prints nothing on stderr, and leaves other warnings and the environment alone', async () => {
    const { stdout, stderr } = await runTsChild(
      { '{ createRequire }': 'node:module', '* as remoteStore': 'build/remote/store.ts', '{ parseRemoteCacheUrl }': 'build/remote/url.ts' },
      `const require = createRequire(import.meta.url);
       const sdkLoaded = () => Object.keys(require.cache).some((file) => file.includes('/@aws-sdk/client-s3/'));
       const before = sdkLoaded();
       const started = performance.now();
       const store = await remoteStore.S3ArtifactStore.open(parseRemoteCacheUrl('s3://sweep-cache'), {
         env: { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'us-east-1' },
       });
       const openMs = Math.round(performance.now() - started);
       store.destroy();
       process.emitWarning('another warning', 'SweepTestWarning');
       console.log(JSON.stringify({ before, after: sdkLoaded(), openMs, switchLeft: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? null }));`,
    );
    const answer = JSON.parse(stdout);
    expect(answer).toEqual({ before: false, after: true, openMs: answer.openMs, switchLeft: null });
    expect(stderr).not.toContain('NodeVersionSupportWarning');
    // Other warnings still show: only the SDK's Node version warning is silenced.
    expect(stderr).toContain('SweepTestWarning: another warning');
  });

  it('without the store, the same SDK client does print the Node version warning on Node < 22 (the control)', async () => {
    const { stderr } = await runTsChild({ '{ S3Client }': '@aws-sdk/client-s3' }, `new S3Client({ region: 'us-east-1' }).destroy();`);
    if (nodeMajor < 22) expect(stderr).toContain('NodeVersionSupportWarning');
    else expect(stderr).toBe('');
  });
});
