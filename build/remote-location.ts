/**
 * Where the shared artifact cache lives: `s3://bucket[/prefix]`, parsed and checked without
 * loading the AWS SDK (options are resolved on every run, the SDK only on a local miss).
 */
export interface RemoteCacheLocation {
  readonly bucket: string;
  /** Key prefix without leading or trailing slashes; '' for the bucket's root. */
  readonly prefix: string;
  /** The normalised `s3://bucket/prefix`, as log lines show it. */
  readonly url: string;
}

// S3 bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens,
// starting and ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;

/** Throws an Error whose message says what is wrong; callers turn it into a config issue. */
export function parseRemoteCacheUrl(url: string): RemoteCacheLocation {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url.trim());
  if (!match) throw new Error('an S3 location "s3://bucket" or "s3://bucket/prefix"');
  const bucket = match[1]!;
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new Error(`an S3 location whose bucket is 3-63 lower-case letters, digits, dots or hyphens ("${bucket}" is not)`);
  }
  const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '');
  const bad = segments.find((segment) => !PREFIX_SEGMENT.test(segment) || segment === '.' || segment === '..');
  if (bad !== undefined) throw new Error(`an S3 location whose prefix is made of letters, digits and !_.*'()- ("${bad}" is not)`);
  const prefix = segments.join('/');
  return { bucket, prefix, url: `s3://${bucket}${prefix ? `/${prefix}` : ''}` };
}
