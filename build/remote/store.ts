import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type * as S3 from '@aws-sdk/client-s3';
import { printable } from '../support/printable.js';
import { formatBytes } from '../support/reporter.js';
import { RemoteCacheError, type RemoteCacheErrorKind } from './errors.js';
import { Limiter } from './limiter.js';
import { type RemoteCacheLocation, redactUrl, redactUrlsIn } from './url.js';

export type { RemoteCacheErrorKind } from './errors.js';
/*
 * The low-level S3 store behind the shared artifact cache: get, head and conditional put of
 * objects under `s3://bucket/prefix`, with every failure turned into one classified
 * RemoteCacheError. It knows nothing about fingerprints or artifacts (the caller picks the keys).
 *
 * - The AWS SDK is loaded lazily in `open`: loading it costs about 0.25 s, which the engine's
 *   cache-hit path must not pay.
 * - Credentials, region and endpoint come from the SDK's standard chain (AWS_PROFILE, the key
 *   variables, config files, SSO, instance roles; AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for
 *   S3-compatible stores, then with path-style addressing).
 * - Every operation is bounded (see Deadline): a few seconds to answer, then a floor throughput
 *   for its body (1 MiB/s: the time allowed grows with the bytes that actually arrive, never with
 *   the size a server declares), and a total cap (120 s) whatever the throughput.
 * - At most 16 operations are under way at once; the rest wait for a place before their clock
 *   starts. Without that, a run with many functions queued on the SDK's 50 sockets, and requests
 *   still waiting for a socket after 2 s were reported as "no connection", a dead server.
 * - Downloads stream into a file while they are hashed (`download`); only small objects are
 *   read into memory (`get`, which needs a size limit).
 * - Uploads never overwrite: `If-None-Match: *`, with Content-MD5 so that the server rejects
 *   corrupted bodies, and the SHA-256 of the bytes in the object's metadata.
 * - Text that comes from the server (error codes and messages) is escaped, and credentials in the
 *   endpoint (user info, a presigned query) are redacted, before any of it reaches a message.
 */
export { RemoteCacheError } from './errors.js';

/** What a request looks like to `inspectRequest`: after serialization, before signing. */
export interface OutgoingRequest {
  readonly method: string;
  readonly path: string;
  /** Header names as the SDK wrote them (e.g. `content-md5`, `if-none-match`). */
  readonly headers: Record<string, string>;
  /** The body; replace it to simulate corruption in transit (it is signed after this hook). */
  body: unknown;
}

export interface S3StoreOptions {
  /** Overrides the region from the environment / config files; without either, `us-east-1`. */
  readonly region?: string;
  /** Overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; a custom endpoint implies path-style addressing. */
  readonly endpoint?: string;
  /**
   * Time allowed for one operation to answer (all attempts, credential lookup included) before it
   * fails as 'timeout'; a body adds its bytes at `minBytesPerSecond`. Default 5000 ms.
   */
  readonly timeoutMs?: number;
  /** The floor throughput of a body: slower than this, an operation times out. Default 1 MiB/s. */
  readonly minBytesPerSecond?: number;
  /** The most one operation may take, whatever its size and throughput. Default 120,000 ms. */
  readonly maxOperationMs?: number;
  /** How many operations may be under way at once (the others wait, without their clock running). Default 16. */
  readonly maxConcurrentOperations?: number;
  /**
   * Where the store reads AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS,
   * AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
   * AWS_PROFILE (default: process.env). The rest of the SDK's chain (config files, SSO, instance
   * roles) still reads the process's own environment.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** For diagnostics and tests: sees (and may change) every request before it is signed and sent. */
  readonly inspectRequest?: (request: OutgoingRequest) => void;
}

export interface RemoteObjectInfo {
  readonly size: number;
  /** The object's user metadata (lower-case names, without the `x-amz-meta-` prefix). */
  readonly metadata: Record<string, string>;
  /** The SHA-256 (hex) stored at upload by `putIfAbsent`, when the object has it. */
  readonly sha256: string | undefined;
}

export type PutOutcome = 'created' | 'exists';

/** What `download` wrote: the object's size and SHA-256 (hex), and the SHA-256 stored with it, if any. */
export interface DownloadedObject {
  readonly size: number;
  readonly sha256: string;
  readonly storedSha256: string | undefined;
}

type Operation = 'get' | 'head' | 'put' | 'list';

/** User metadata name under which `putIfAbsent` stores the SHA-256 (hex) of the body. */
export const SHA256_METADATA = 'sha256';

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MIN_BYTES_PER_SECOND = 1024 * 1024;
const DEFAULT_MAX_OPERATION_MS = 120_000;
const DEFAULT_MAX_CONCURRENT_OPERATIONS = 16;
/** The SDK's default, set explicitly: the concurrency limit above must stay well under it. */
const MAX_SOCKETS = 50;
const DEFAULT_REGION = 'us-east-1';
const METADATA_NAME = /^[a-z0-9][a-z0-9-]*$/;
const METADATA_VALUE = /^[\x20-\x7e]*$/;

type S3Sdk = typeof S3;
let sdkLoading: Promise<S3Sdk> | undefined;

function loadSdk(): Promise<S3Sdk> {
  sdkLoading ??= import('@aws-sdk/client-s3');
  return sdkLoading;
}

const NODE_VERSION_WARNING_SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/**
 * Runs `make` (which constructs an SDK client) without the SDK's NodeVersionSupportWarning.
 * On Node < 22 the SDK emits that warning once per process, when the first client is built
 * (@aws-sdk/core's emitWarningIfUnsupportedVersion), and under cdktf every stderr line shows as
 * a red [ERROR]. The SDK's own switch is AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true:
 * set only while the client is built (the check happens then, and marks itself done for the
 * whole process, nested credential clients included), so that child processes' environments
 * and every other warning stay as they were.
 */
export function withoutNodeVersionWarning<T>(make: () => T): T {
  const before = process.env[NODE_VERSION_WARNING_SWITCH];
  process.env[NODE_VERSION_WARNING_SWITCH] = 'true';
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env[NODE_VERSION_WARNING_SWITCH];
    else process.env[NODE_VERSION_WARNING_SWITCH] = before;
  }
}

/** The settings of this store's S3 client, derived from the options and the environment. */
interface ClientSettings {
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  readonly profile: string | undefined;
}

function clientSettings(options: S3StoreOptions, env: Readonly<Record<string, string | undefined>>): ClientSettings {
  const ignoreEndpoints = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true';
  const endpoint =
    options.endpoint ?? (ignoreEndpoints ? undefined : (nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL)));
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN);
  return {
    endpoint,
    region: options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION),
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined,
    profile: nonEmpty(env.AWS_PROFILE),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export class S3ArtifactStore {
  /** The endpoint as shown in messages: the custom URL, or `AWS S3 (<region>)`. */
  readonly endpoint: string;
  private bucketConfirmed = false;

  private readonly slots: Limiter;

  private constructor(
    readonly location: RemoteCacheLocation,
    private readonly sdk: S3Sdk,
    private readonly client: S3.S3Client,
    endpointLabel: string,
    private readonly bounds: Bounds,
    maxConcurrent: number,
    private readonly inspectRequest: ((request: OutgoingRequest) => void) | undefined,
  ) {
    this.endpoint = endpointLabel;
    this.slots = new Limiter(maxConcurrent);
  }

  /**
   * Loads the SDK and builds a client; no request is made. Throws a RemoteCacheError of kind
   * 'config' when the endpoint is not an http(s) URL.
   */
  static async open(location: RemoteCacheLocation, options: S3StoreOptions = {}): Promise<S3ArtifactStore> {
    const settings = clientSettings(options, options.env ?? process.env);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const bounds: Bounds = {
      timeoutMs,
      minBytesPerSecond: options.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND,
      maxOperationMs: options.maxOperationMs ?? DEFAULT_MAX_OPERATION_MS,
    };
    if (settings.endpoint !== undefined) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(settings.endpoint);
      } catch {}
      if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
        throw new RemoteCacheError({
          kind: 'config',
          url: location.url,
          endpoint: redactUrl(settings.endpoint),
          problem: 'the S3 endpoint is not an http(s) URL',
          fix: 'set AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) to e.g. https://s3.example.com:9000, or unset it for AWS S3',
        });
      }
    }
    const sdk = await loadSdk();
    const build = (region: string | undefined) =>
      withoutNodeVersionWarning(
        () =>
          new sdk.S3Client({
            ...(region ? { region } : {}),
            ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
            ...(settings.credentials ? { credentials: settings.credentials } : {}),
            ...(settings.profile ? { profile: settings.profile } : {}),
            // Since 3.729 the SDK adds a CRC32 checksum to every PUT, which several S3-compatible
            // servers reject; integrity comes from Content-MD5 and the SHA-256 metadata instead.
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
            // A bucket in another region than the configured (or default) one still works.
            followRegionRedirects: true,
            // One retry: the time bound is per operation, not per attempt.
            maxAttempts: 2,
            requestHandler: {
              connectionTimeout: Math.min(2000, timeoutMs),
              // Inactivity on an open connection; the whole operation is bounded by `deadline`.
              socketTimeout: timeoutMs,
              httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
              httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
            },
          }),
      );
    let client = build(settings.region);
    let region = settings.region;
    if (!region) {
      // Not in the options or the environment: the SDK may still find one in ~/.aws/config.
      try {
        region = await client.config.region();
      } catch {
        client.destroy();
        region = DEFAULT_REGION;
        client = build(region);
      }
    }
    const label = settings.endpoint !== undefined ? redactUrl(settings.endpoint) : `AWS S3 (${region})`;
    const concurrency = Math.min(options.maxConcurrentOperations ?? DEFAULT_MAX_CONCURRENT_OPERATIONS, MAX_SOCKETS);
    return new S3ArtifactStore(location, sdk, client, label, bounds, concurrency, options.inspectRequest);
  }

  /**
   * The object's bytes, or undefined when there is no such key. With `maxBytes`, an object
   * larger than that is refused before its body is read (a forged object cannot fill memory).
   */
  async get(key: string, options: { readonly maxBytes?: number } = {}): Promise<Uint8Array | undefined> {
    const chunks: Uint8Array[] = [];
    const received = await this.receive(key, options, {
      write: async (chunk) => {
        chunks.push(chunk);
      },
    });
    if (received === undefined) return undefined;
    const body = Buffer.concat(chunks);
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }

  /**
   * Streams the object into `file` (created, mode 0600; it must not exist), hashing it on the
   * way: memory stays small whatever the object's size. Undefined when there is no such key
   * (and no file). With `maxBytes`, a larger object is refused before its body is read (from
   * its declared length) or as soon as more arrives. Unless `checkStoredSha256` is false, bytes
   * that do not match the SHA-256 stored with the object are refused (`corrupted`). On any
   * failure the file is removed.
   */
  async download(
    key: string,
    file: string,
    options: { readonly maxBytes?: number; readonly checkStoredSha256?: boolean } = {},
  ): Promise<DownloadedObject | undefined> {
    let handle: fs.promises.FileHandle | undefined;
    try {
      return await this.receive(key, options, {
        open: async () => {
          handle = await fs.promises.open(file, 'wx', 0o600);
        },
        write: async (chunk) => {
          await handle!.write(chunk);
        },
        close: async () => handle?.close(),
      });
    } catch (error) {
      await handle?.close().catch(() => undefined);
      fs.rmSync(file, { force: true });
      throw error;
    }
  }

  /**
   * One GET, its body handed to `sink` chunk by chunk and hashed on the way: the one download
   * path of `get` (into memory) and `download` (into a file). Undefined when there is no such key.
   */
  private async receive(
    key: string,
    options: { readonly maxBytes?: number; readonly checkStoredSha256?: boolean },
    sink: { open?(): Promise<void>; write(chunk: Uint8Array): Promise<void>; close?(): Promise<void> },
  ): Promise<DownloadedObject | undefined> {
    checkKey(key);
    return this.run('get', key, 0, async (signal, deadline, track) => {
      let response: S3.GetObjectCommandOutput;
      try {
        response = await this.client.send(track(new this.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: key })), {
          abortSignal: signal,
        });
      } catch (error) {
        if (errorCode(error) === 'NoSuchKey') {
          this.bucketConfirmed = true;
          return undefined;
        }
        throw error;
      }
      this.bucketConfirmed = true;
      refuseIfDeclaredTooLarge(response, key, options.maxBytes);
      await sink.open?.();
      let received: { size: number; sha256: string };
      try {
        received = await readBody(response, deadline, signal, options.maxBytes, (chunk) => sink.write(chunk));
      } finally {
        await sink.close?.();
      }
      const storedSha256 = response.Metadata?.[SHA256_METADATA];
      if (options.checkStoredSha256 !== false && storedSha256 !== undefined && storedSha256 !== received.sha256) {
        throw corrupted('the downloaded bytes do not match the SHA-256 stored with the object');
      }
      return { ...received, storedSha256 };
    });
  }

  /** The keys under `prefix` (one page: at most 1,000), sorted. */
  async list(prefix: string): Promise<string[]> {
    checkKey(prefix);
    return this.run('list', prefix, 0, async (signal, _deadline, track) => {
      const response = await this.client.send(
        track(new this.sdk.ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, MaxKeys: 1000 })),
        { abortSignal: signal },
      );
      this.bucketConfirmed = true;
      return (response.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key])).sort();
    });
  }

  /** Size and metadata of the object without downloading it, or undefined when there is no such key. */
  async head(key: string): Promise<RemoteObjectInfo | undefined> {
    checkKey(key);
    return this.run('head', key, 0, async (signal, _deadline, track) => {
      try {
        const response = await this.client.send(track(new this.sdk.HeadObjectCommand({ Bucket: this.location.bucket, Key: key })), {
          abortSignal: signal,
        });
        this.bucketConfirmed = true;
        return info(response.ContentLength ?? 0, response.Metadata);
      } catch (error) {
        const status = statusOf(error);
        if (status === 404 && this.bucketConfirmed) return undefined;
        if (status !== 404 && status !== 403 && status !== 400 && status !== 301) throw error;
      }
      // A HEAD's error has no body, so a 404 does not say whether the key or the bucket is
      // missing, nor a 403 whether the credentials or the permissions are wrong. A one-byte GET
      // of the same key answers with the error code (once per store for a plain miss).
      try {
        const probe = await this.client.send(
          track(new this.sdk.GetObjectCommand({ Bucket: this.location.bucket, Key: key, Range: 'bytes=0-0' })),
          { abortSignal: signal },
        );
        await probe.Body?.transformToByteArray();
        const total = /\/(\d+)$/.exec(probe.ContentRange ?? '')?.[1];
        return info(total !== undefined ? Number(total) : (probe.ContentLength ?? 0), probe.Metadata);
      } catch (error) {
        if (errorCode(error) === 'NoSuchKey') {
          this.bucketConfirmed = true;
          return undefined;
        }
        if (errorCode(error) === 'InvalidRange') return info(0, undefined); // an empty object
        throw error;
      }
    });
  }

  /**
   * Uploads `body` unless the key exists: 'created' when this call wrote it, 'exists' when an
   * object was already there (from another writer, or from a retry of this call whose first
   * answer was lost). Never overwrites. `metadata` names are lower-case letters, digits and
   * hyphens, values printable ASCII; the SHA-256 (hex) of the body is added as `sha256`.
   */
  async putIfAbsent(key: string, body: Uint8Array, metadata: Record<string, string> = {}): Promise<PutOutcome> {
    checkKey(key);
    checkMetadata(metadata);
    const contentMd5 = createHash('md5').update(body).digest('base64');
    const sha256 = sha256Hex(body);
    return this.run('put', key, body.length, async (signal, _deadline, track) => {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.client.send(
            track(
              new this.sdk.PutObjectCommand({
                Bucket: this.location.bucket,
                Key: key,
                Body: body,
                ContentLength: body.length,
                ContentMD5: contentMd5,
                ContentType: contentTypeOf(key),
                IfNoneMatch: '*',
                Metadata: { ...metadata, [SHA256_METADATA]: sha256 },
              }),
            ),
            { abortSignal: signal },
          );
          this.bucketConfirmed = true;
          return 'created';
        } catch (error) {
          const code = errorCode(error);
          if (code === 'PreconditionFailed' || statusOf(error) === 412) return 'exists';
          // S3 answers 409 while another conditional write of the key is in flight: wait for it.
          if (code === 'ConditionalRequestConflict' && attempt < 3) {
            await sleep(200 * attempt, signal);
            continue;
          }
          throw error;
        }
      }
    });
  }

  /** Closes the client's connections. */
  destroy(): void {
    this.client.destroy();
  }

  /**
   * Runs one operation within its time bound and turns whatever it throws into a
   * RemoteCacheError. `track` marks a command so that the store knows whether a request was
   * sent (a timeout before that is a credential lookup that did not finish) and lets
   * `inspectRequest` see it.
   */
  private async run<T>(
    operation: Operation,
    key: string,
    bytes: number,
    work: (signal: AbortSignal, deadline: Deadline, track: <C extends Trackable>(command: C) => C) => Promise<T>,
  ): Promise<T> {
    // The clock starts once the operation has a place: waiting behind others is not slowness.
    const release = await this.slots.acquire();
    const controller = new AbortController();
    const deadline = new Deadline(this.bounds, () => controller.abort());
    deadline.extend(bytes);
    let sent = false;
    const track = <C extends Trackable>(command: C): C => {
      const stack = command.middlewareStack as unknown as MiddlewareAdder;
      stack.add(
        (next) => async (args) => {
          const request = args.request as OutgoingRequest | undefined;
          if (request && this.inspectRequest) this.inspectRequest(request);
          return next(args);
        },
        { step: 'build', name: 'sweepInspectRequest', priority: 'low' },
      );
      stack.add(
        (next) => async (args) => {
          sent = true;
          return next(args);
        },
        // The deserialize step runs after credentials are resolved and the request is signed.
        { step: 'deserialize', name: 'sweepMarkSent', priority: 'low' },
      );
      return command;
    };
    const working = work(controller.signal, deadline, track);
    working.catch(() => {}); // when the deadline wins, the abandoned attempt's failure is expected
    try {
      return await Promise.race([working, deadline.expired]);
    } catch (error) {
      throw this.classify(error, operation, key, { deadline, sent });
    } finally {
      deadline.clear();
      // The place is free once the abandoned attempt has really stopped (the abort ends it).
      working.then(release, release);
    }
  }

  private classify(error: unknown, operation: Operation, key: string, state: { deadline: Deadline; sent: boolean }): RemoteCacheError {
    if (error instanceof RemoteCacheError) return error; // same module, same realm
    const { url } = this.location;
    const what = `${operationWords[operation]} ${key}`;
    // Escaped: the code and message come from the server (or whoever answers in its place).
    const make = (kind: RemoteCacheErrorKind, problem: string, fix: string) =>
      new RemoteCacheError({ kind, url, endpoint: this.endpoint, problem: printable(`${what}: ${problem}`), fix, cause: error });
    if (error instanceof StoreProblem) return make(error.kind, error.message, fixes[error.kind](this));
    const { deadline } = state;
    const seconds = `${(deadline.elapsedMs() / 1000).toFixed(1)} s`;
    if (deadline.hasExpired) {
      if (!state.sent) {
        return make(
          'credentials',
          `no AWS credentials were found within ${seconds} (the SDK's chain ends with the instance metadata service)`,
          fixes.credentials(this),
        );
      }
      return make('timeout', deadline.describeExpiry(), fixes.timeout(this));
    }
    const code = errorCode(error);
    const status = statusOf(error);
    const name = String((error as { name?: unknown } | undefined)?.name ?? '');
    const message = redactUrlsIn(String((error as { message?: unknown } | undefined)?.message ?? error));
    const network = networkCode(error);
    if (name === 'CredentialsProviderError' || /credential/i.test(name)) {
      // The SDK's generic "Could not load credentials from any providers" adds nothing to that.
      const sdk = /could not load credentials from any providers/i.test(message) ? '' : ` (${firstLine(message)})`;
      return make('credentials', `no AWS credentials found${sdk}`, fixes.credentials(this));
    }
    if (name === 'TimeoutError' && /establish a connection/.test(message)) {
      return make('unreachable', `no connection within ${seconds}`, fixes.unreachable(this));
    }
    if (name === 'TimeoutError' && network === undefined) return make('timeout', `no answer within ${seconds}`, fixes.timeout(this));
    if (network !== undefined && status === undefined) {
      if (network === 'ECONNRESET' || network === 'EPIPE')
        return make('unreachable', `the connection was closed by the server (${network})`, fixes.unreachable(this));
      if (network === 'ETIMEDOUT') return make('timeout', `no answer within ${seconds} (ETIMEDOUT)`, fixes.timeout(this));
      return make('unreachable', `cannot connect (${network})`, fixes.unreachable(this));
    }
    // The names the SDK gives an error answer without an S3 error code it could read (an HTML
    // page, or a HEAD's empty body): 'NotFound' for a 404, 'Unknown' for anything else.
    const unreadable = status !== undefined && (code === undefined || code === 'NotFound' || code === 'Unknown');
    switch (unreadable ? undefined : code) {
      case 'InvalidAccessKeyId':
        return make('credentials', 'the server does not know the access key (InvalidAccessKeyId)', fixes.credentials(this));
      case 'SignatureDoesNotMatch':
        return make('credentials', 'the secret key does not match the access key (SignatureDoesNotMatch)', fixes.credentials(this));
      case 'ExpiredToken':
      case 'TokenRefreshRequired':
      case 'InvalidToken':
        return make('credentials', `the session token is not valid (${code})`, fixes.credentials(this));
      case 'AccessDenied':
      case 'AllAccessDisabled':
      case 'AccountProblem':
        return make('access-denied', `access denied (${code})`, fixes['access-denied'](this));
      case 'NoSuchBucket':
        return make('no-bucket', `the bucket ${this.location.bucket} does not exist`, fixes['no-bucket'](this));
      case 'BadDigest':
      case 'InvalidDigest':
      case 'XAmzContentSHA256Mismatch':
        return make('corrupted', `the server received different bytes than were sent (${code})`, fixes.corrupted(this));
      case 'NotImplemented':
        return make(
          'unsupported',
          `the server does not implement conditional writes (If-None-Match: *) (${code})`,
          fixes.unsupported(this),
        );
    }
    if (status === 403) return make('access-denied', `access denied (HTTP 403${code ? ` ${code}` : ''})`, fixes['access-denied'](this));
    if (status === 501) return make('unsupported', `the server does not implement this request (HTTP 501)`, fixes.unsupported(this));
    if (status !== undefined && status >= 500)
      return make('other', `the server failed (HTTP ${status}${code ? ` ${code}` : ''})`, fixes.other(this));
    if (status !== undefined && (unreadable || /deserializ|xml|parse/i.test(message))) {
      return make('invalid-response', `the answer is not an S3 answer (HTTP ${status})`, fixes['invalid-response'](this));
    }
    if (status === undefined && /deserializ|xml|parse|Expected|Unexpected/i.test(message)) {
      return make('invalid-response', `the answer is not an S3 answer (${firstLine(message)})`, fixes['invalid-response'](this));
    }
    return make('other', `${code ?? name ?? 'error'}${status ? ` (HTTP ${status})` : ''}: ${firstLine(message)}`, fixes.other(this));
  }
}

const operationWords: Record<Operation, string> = { get: 'download of', head: 'lookup of', put: 'upload of', list: 'listing of' };

const fixes: Record<RemoteCacheErrorKind, (store: S3ArtifactStore) => string> = {
  unreachable: (s) =>
    s.endpoint.startsWith('AWS S3')
      ? 'check the network (and HTTPS_PROXY) or set the remote cache mode to off'
      : `check that ${s.endpoint} is up and reachable (AWS_ENDPOINT_URL_S3), or set the remote cache mode to off`,
  credentials: () =>
    'provide valid AWS credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance role), or set the remote cache mode to off',
  'access-denied': (s) =>
    `grant s3:GetObject and s3:ListBucket (without it a missing key answers 403), and s3:PutObject for read-write, on s3://${s.location.bucket}/${s.location.prefix ? `${s.location.prefix}/` : ''}*`,
  'no-bucket': (s) => `create the bucket ${s.location.bucket} or correct the remote cache URL`,
  timeout: (s) => `check the health of ${s.endpoint} and the network, or set the remote cache mode to off`,
  corrupted: () => 'retry; if it happens again, check proxies or network equipment between here and the server',
  unsupported: () => 'use a server with conditional writes (AWS S3, Ceph RGW), or set the remote cache mode to read',
  'invalid-response': (s) => `check that ${s.endpoint} is an S3 endpoint (AWS_ENDPOINT_URL_S3)`,
  config: () => 'correct the remote cache settings',
  other: (s) => `retry later; if it persists, check ${s.endpoint}`,
};

/** A failure the store itself detects (not thrown by the SDK). */
class StoreProblem extends Error {
  constructor(
    readonly kind: RemoteCacheErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const corrupted = (message: string) => new StoreProblem('corrupted', message);
const invalidResponse = (message: string) => new StoreProblem('invalid-response', message);
const tooLarge = (message: string) => new StoreProblem('corrupted', message);

/** A GET whose declared length is over `maxBytes` (or unknown, with a limit) is refused before its body is read. */
function refuseIfDeclaredTooLarge(response: S3.GetObjectCommandOutput, key: string, maxBytes: number | undefined): void {
  if (maxBytes === undefined || (response.ContentLength !== undefined && response.ContentLength <= maxBytes)) return;
  (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
  throw tooLarge(`${key} is ${response.ContentLength ?? 'of unknown size'} bytes, more than the ${maxBytes} expected`);
}

/**
 * Reads a GET's body chunk by chunk into `sink`, hashing it, each chunk extending the deadline
 * by the time the floor throughput allows for it. Refuses more than `maxBytes` or than the
 * declared length, and fewer than declared.
 */
async function readBody(
  response: S3.GetObjectCommandOutput,
  deadline: Deadline,
  signal: AbortSignal,
  maxBytes: number | undefined,
  sink: (chunk: Uint8Array) => Promise<void>,
): Promise<{ size: number; sha256: string }> {
  const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (!body) throw invalidResponse('a GET answered without a body');
  const declared = response.ContentLength;
  deadline.expect(declared);
  const stop = () => body.destroy?.();
  signal.addEventListener('abort', stop);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if ((maxBytes !== undefined && size > maxBytes) || (declared !== undefined && size > declared)) {
        throw corrupted(`received more than the ${declared ?? maxBytes} bytes expected`);
      }
      hash.update(chunk);
      deadline.arrived(chunk.byteLength);
      await sink(chunk);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (declared !== undefined && size !== declared) throw corrupted(`received ${size} of ${declared} bytes`);
  return { size, sha256: hash.digest('hex') };
}

interface Bounds {
  readonly timeoutMs: number;
  readonly minBytesPerSecond: number;
  readonly maxOperationMs: number;
}

/**
 * The time bound of one operation: `timeoutMs` to answer, plus, for every byte of body, the time
 * the floor throughput allows for it (a download earns its time as its bytes arrive, so a server
 * that declares a large object and trickles it times out as soon as it falls behind the floor),
 * never more than `maxOperationMs` in all.
 */
class Deadline {
  readonly expired: Promise<never>;
  hasExpired = false;
  private readonly started = Date.now();
  private budgetMs: number;
  private transferred = 0;
  private total: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reject!: (error: unknown) => void;

  constructor(
    private readonly bounds: Bounds,
    private readonly onExpire: () => void,
  ) {
    this.budgetMs = bounds.timeoutMs;
    this.expired = new Promise<never>((_resolve, reject) => {
      this.reject = reject;
    });
    this.expired.catch(() => {}); // observed by Promise.race; never an unhandled rejection
    this.arm();
  }

  /** The size of the body to come, for messages. */
  expect(total: number | undefined): void {
    this.total = total;
  }

  /** Extends the bound by the time `bytes` of body may take at the floor throughput (an upload's body, before it is sent). */
  extend(bytes: number): void {
    if (bytes <= 0 || this.hasExpired) return;
    this.budgetMs += (bytes * 1000) / this.bounds.minBytesPerSecond;
    this.arm();
  }

  /** Extends the bound for `bytes` that just arrived. */
  arrived(bytes: number): void {
    this.transferred += bytes;
    this.extend(bytes);
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  /** Which bound the operation hit, in words. */
  describeExpiry(): string {
    const seconds = `${(this.elapsedMs() / 1000).toFixed(1)} s`;
    const progress = `${formatBytes(this.transferred)}${this.total === undefined ? '' : ` of ${formatBytes(this.total)}`}`;
    if (this.budgetMs >= this.bounds.maxOperationMs)
      return `not finished within the ${(this.bounds.maxOperationMs / 1000).toFixed(1)} s an operation may take (${progress} transferred)`;
    if (this.transferred > 0) return `${progress} received in ${seconds}: slower than ${formatBytes(this.bounds.minBytesPerSecond)}/s`;
    return `no answer within ${seconds}`;
  }

  clear(): void {
    clearTimeout(this.timer);
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        this.hasExpired = true;
        this.onExpire();
        this.reject(new Error('deadline'));
      },
      Math.max(0, Math.min(this.budgetMs, this.bounds.maxOperationMs) - this.elapsedMs()),
    );
  }
}

/** Any SDK command: what `track` needs of it. */
interface Trackable {
  readonly middlewareStack: { add(middleware: never, options: never): void };
}

type Middleware = (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => Promise<unknown>;
interface MiddlewareAdder {
  add(middleware: Middleware, options: { step: 'build' | 'deserialize'; name: string; priority: 'low' }): void;
}

function info(size: number, metadata: Record<string, string> | undefined): RemoteObjectInfo {
  const meta = { ...(metadata ?? {}) };
  return { size, metadata: meta, sha256: meta[SHA256_METADATA] };
}

function checkKey(key: string): void {
  if (key === '' || Buffer.byteLength(key) > 1024) throw new TypeError(`S3 object key must be 1 to 1024 bytes: ${JSON.stringify(key)}`);
}

function checkMetadata(metadata: Record<string, string>): void {
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name))
      throw new TypeError(`S3 metadata name must be lower-case letters, digits and hyphens: ${JSON.stringify(name)}`);
    if (typeof value !== 'string' || !METADATA_VALUE.test(value))
      throw new TypeError(`S3 metadata value must be printable ASCII: ${name}=${JSON.stringify(value)}`);
  }
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.zip')) return 'application/zip';
  if (key.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// Errors are inspected by shape, not with instanceof: Node's own errors and the SDK's may come
// from different realms (e.g. under jest's vm modules), where instanceof Error is false.

/** The S3 error code (the SDK's exception name) of an error answer. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const { Code, name } = error as { Code?: unknown; name?: unknown };
  const code = Code ?? name;
  return typeof code === 'string' && code !== 'Error' ? code : undefined;
}

function statusOf(error: unknown): number | undefined {
  const metadata = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata;
  const status = metadata?.httpStatusCode ?? (error as { $response?: { statusCode?: unknown } } | undefined)?.$response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** A Node network error code (ECONNREFUSED, ENOTFOUND, ...), also inside an AggregateError. */
function networkCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (
    typeof code === 'string' &&
    /^(E[A-Z]+|ERR_TLS_\w+|CERT_\w+|UNABLE_TO_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/.test(code)
  )
    return code;
  const inners = (error as { errors?: unknown } | undefined)?.errors; // an AggregateError's
  if (Array.isArray(inners)) {
    for (const inner of inners) {
      const found = networkCode(inner);
      if (found) return found;
    }
  }
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (cause && cause !== error) return networkCode(cause);
  // The SDK wraps an error that is not `instanceof Error` in its realm into a new Error whose
  // message is the only trace of the code ("AWS SDK error wrapper for Error: connect ECONNREFUSED ...").
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string'
    ? /\b(ECONNREFUSED|ECONNRESET|ECONNABORTED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE)\b/.exec(message)?.[1]
    : undefined;
}

function firstLine(text: string): string {
  const line = text.split('\n')[0]!.trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
