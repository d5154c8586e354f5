import { invalidRemoteCacheUrl } from './errors.js';

/*
 * Where the shared cache lives: `s3://bucket[/prefix]`, parsed and checked against S3's naming
 * rules. Pure, so the options can check a URL without loading the store (or the AWS SDK).
 */

export interface RemoteCacheLocation {
  readonly bucket: string;
  /** The key prefix without leading or trailing slashes; '' for the bucket's root. */
  readonly prefix: string;
  /** The normalized URL, `s3://bucket` or `s3://bucket/prefix`. */
  readonly url: string;
}

// Bucket naming rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const BUCKET_CHARS = /^[a-z0-9.-]+$/;
const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+$/;
const RESERVED_BUCKET_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_BUCKET_SUFFIXES = ['-s3alias', '--ol-s3'];
// AWS's "safe characters" for keys; anything else is legal in S3 but needs care in URLs, shells
// and other tools, which a cache prefix does not need.
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;

/**
 * Parses `s3://bucket[/prefix]`. `source` names where the URL came from (e.g. a context key or
 * an environment variable) for the error message.
 */
export function parseRemoteCacheUrl(url: string, source = 'the remote cache setting'): RemoteCacheLocation {
  const fail = (reason: string) => invalidRemoteCacheUrl(url, source, reason);
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url.trim());
  if (!match) throw fail('it does not start with s3://');
  const bucket = match[1]!;
  const problem = bucketNameProblem(bucket);
  if (problem) throw fail(problem);
  const rest = (match[2] ?? '').replace(/^\/+|\/+$/g, '');
  const segments = rest === '' ? [] : rest.split('/');
  for (const segment of segments) {
    if (segment === '') throw fail('the prefix has an empty segment (//)');
    if (segment === '.' || segment === '..') throw fail(`the prefix has a "${segment}" segment`);
    if (!PREFIX_SEGMENT.test(segment)) {
      throw fail(`the prefix segment "${segment}" has characters other than letters, digits and !_.*'()-`);
    }
  }
  const prefix = segments.join('/');
  if (Buffer.byteLength(prefix) > 512) throw fail('the prefix is longer than 512 bytes');
  return { bucket, prefix, url: prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}` };
}

function bucketNameProblem(bucket: string): string | undefined {
  if (bucket === '') return 'the bucket name is missing';
  // Not repeated: it may be a secret. Credentials come from the AWS SDK's chain.
  if (bucket.includes('@')) return 'it holds credentials (user@), which the AWS SDK takes from its own settings instead';
  if (bucket.length < 3 || bucket.length > 63) return `the bucket name "${bucket}" is not 3 to 63 characters long`;
  if (!BUCKET_CHARS.test(bucket))
    return `the bucket name "${bucket}" has characters other than lower-case letters, digits, dots and hyphens`;
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket))
    return `the bucket name "${bucket}" must begin and end with a letter or digit`;
  if (bucket.includes('..')) return `the bucket name "${bucket}" has two adjacent dots`;
  if (IP_ADDRESS.test(bucket)) return `the bucket name "${bucket}" is an IP address`;
  const reserved = RESERVED_BUCKET_PREFIXES.find((p) => bucket.startsWith(p)) ?? RESERVED_BUCKET_SUFFIXES.find((s) => bucket.endsWith(s));
  if (reserved) return `the bucket name "${bucket}" uses the reserved "${reserved}"`;
  return undefined;
}

/** The object key of `name` under the location's prefix. */
export function remoteObjectKey(location: RemoteCacheLocation, name: string): string {
  return location.prefix ? `${location.prefix}/${name}` : name;
}

/**
 * `url` with its credentials hidden: the user info (`https://KEY:SECRET@host`) and the values of
 * its query (a presigned URL's `X-Amz-Signature=...`) become `***`. Anything that is not a URL
 * gets the same treatment by pattern. A URL without either is returned as it is.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/@\s]*@/g, '//***@').replace(/\?\S*/g, '?***');
  }
  if (parsed.username === '' && parsed.password === '' && parsed.search === '') return url;
  const query = [...parsed.searchParams.keys()].map((name) => `${name}=***`).join('&');
  return `${parsed.protocol}//${parsed.username || parsed.password ? '***@' : ''}${parsed.host}${parsed.pathname}${query ? `?${query}` : ''}`;
}

/** `text` with every http(s) URL in it passed through {@link redactUrl}. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url));
}
