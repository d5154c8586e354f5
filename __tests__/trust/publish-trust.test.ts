import { describe, expect, it } from '@jest/globals';
import { decide } from '../../build/cache/decide.js';
import { explainDecision } from '../../build/cache/explain.js';
import type { ArtifactMetadata } from '../../build/cache/metadata.js';
import type { CacheDomain } from '../../build/cache/paths.js';
import { computeFingerprint } from '../../build/fingerprint/fingerprint.js';
import { recordFor, testSettings } from '../helpers/artifact-records.js';

/**
 * Issue 12: a publishing build (remote mode read-write) has cargo caches of its own so that it
 * never packages what an untrusted build could have written to the local ones. The zip in dist/
 * that a local build made came from those local caches, so a publishing run does not take it as
 * a hit (it would deploy it, and `push` refuses it). publish-domain.integration.test.ts shows it
 * end to end with a tampered binary.
 */
const fingerprint = computeFingerprint(testSettings(), new Map([['src/main.rs', 'b'.repeat(64)]]));

const metadataFrom = (origin: ArtifactMetadata['origin']): ArtifactMetadata => recordFor(fingerprint, { origin });

const line = (domain: CacheDomain, origin: ArtifactMetadata['origin']) =>
  explainDecision(
    decide({
      current: fingerprint,
      metadata: { status: 'ok', metadata: metadataFrom(origin) },
      zip: { state: 'matches' },
      forcedBy: undefined,
      domain,
    }),
    { zipPath: 'dist/app.zip' },
  );

describe('trust: which zips in dist/ a publishing build reuses', () => {
  it('GIVEN a current zip a local build made WHEN a publishing run checks it THEN it is a miss that says why', () => {
    expect(line('publish', { kind: 'build', cacheDomain: 'local' })).toBe(
      'cache-miss: the zip was built with the local cargo caches, which a publishing build does not trust',
    );
  });

  it('GIVEN a current zip a publishing build made (here or downloaded) WHEN a publishing run checks it THEN it is a hit', () => {
    expect(line('publish', { kind: 'build', cacheDomain: 'publish' })).toBe('cache-hit');
    expect(line('publish', { kind: 'remote', cacheDomain: 'publish', remote: 's3://bucket/prefix' })).toBe('cache-hit');
  });

  it('GIVEN a current zip from either domain WHEN a local run checks it THEN it is a hit (a local run trusts both)', () => {
    expect(line('local', { kind: 'build', cacheDomain: 'local' })).toBe('cache-hit');
    expect(line('local', { kind: 'build', cacheDomain: 'publish' })).toBe('cache-hit');
  });
});
