import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { zipSync } from 'fflate';
import { type CacheCheck, checkCache, inspectZip } from '../../../build/cache/check.js';
import { type ArtifactMetadata, writeMetadata } from '../../../build/cache/metadata.js';
import { type Environment, resolveArtifactOptions } from '../../../build/options/resolve.js';
import type { ArtifactOptions } from '../../../build/options/schema.js';
import { createLambdaZip } from '../../../build/package/zip.js';
import { SweepError } from '../../../build/support/errors.js';
import { recordFor } from '../../helpers/artifact-records.js';
import { sha256Digest as sha256 } from '../../helpers/hash.js';

// The fast path end to end on a fixture workspace, with a record written by hand the way a build
// writes it (the zip, then dist/<name>.json). No Docker: SWEEP_DOCKER names a command that does
// not exist, and every check still works.
const FIXTURES = fileURLToPath(new URL('../../fixtures/workspaces/', import.meta.url));
const NO_DOCKER = '/nonexistent/docker-that-must-not-run';

let project: string;
beforeEach(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-check-cache-'));
  fs.cpSync(path.join(FIXTURES, 'cargo-workspace'), path.join(project, 'rust'), { recursive: true });
});
afterEach(() => {
  fs.rmSync(project, { recursive: true, force: true });
});

function options(extra: ArtifactOptions = {}, env: Environment = {}) {
  return resolveArtifactOptions({ projectRoot: project, ...extra }, { env: { SWEEP_DOCKER: NO_DOCKER, ...env } });
}

/** Writes dist/<name>.zip and the record a successful build of `check` would have written. */
function recordBuild(check: CacheCheck, zipBytes = createLambdaZip(new TextEncoder().encode('\x7fELF pretend binary'))): ArtifactMetadata {
  fs.mkdirSync(path.dirname(check.paths.zip), { recursive: true });
  fs.writeFileSync(check.paths.zip, zipBytes);
  const digest = sha256(zipBytes);
  const record = recordFor(check.fingerprint, {
    artifact: check.name,
    builderImage: { tag: 'sweep-builder:test', id: `sha256:${'0'.repeat(64)}` },
    zip: {
      file: path.basename(check.paths.zip),
      size: zipBytes.byteLength,
      sha256: digest.toString('hex'),
      sha256Base64: digest.toString('base64'),
      originFingerprint: check.fingerprint.value,
    },
    binary: { machine: 'x86_64', linkage: 'static', glibcRequired: null, glibcAvailable: '2.34', size: 20 },
    builtAt: new Date().toISOString(),
  });
  writeMetadata(check.paths.metadata, record);
  return record;
}

/** A workspace with a record for its current state: the next check should hit. */
function built(extra: ArtifactOptions = {}): { check: CacheCheck; record: ArtifactMetadata } {
  const first = checkCache(options(extra));
  return { check: first, record: recordBuild(first) };
}

describe('checkCache: the first run', () => {
  it('is a miss with no metadata, naming the package, the artifact and its paths', () => {
    // GIVEN a workspace that was never built
    const check = checkCache(options());
    // THEN the line says why, and the artifact is named after the package with the bootstrap binary
    expect(check.explanation).toBe('cache-miss: no metadata (first build)');
    expect(check.decision).toEqual({ outcome: 'cache-miss', reasons: [{ kind: 'no-metadata' }] });
    expect(check.metadata).toEqual({ status: 'missing' });
    expect(check.package.name).toBe('app');
    expect(check.name).toBe('app');
    expect(check.paths.zip).toBe(path.join(project, 'dist', 'app.zip'));
    expect(check.paths.metadata).toBe(path.join(project, 'dist', 'app.json'));
    expect(check.paths.zipForDisplay).toBe('dist/app.zip');
    expect(check.fingerprint.value).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses the name option for the files', () => {
    const check = checkCache(options({ name: 'sweep' }));
    expect(check.paths.zipForDisplay).toBe('dist/sweep.zip');
    expect(check.package.name).toBe('app');
  });
});

describe('checkCache: against a record', () => {
  it('is a hit when nothing changed', () => {
    // GIVEN a record of the current state
    built();
    // WHEN checked again
    const check = checkCache(options());
    // THEN it is a hit
    expect(check.explanation).toBe('cache-hit');
    expect(check.decision).toEqual({ outcome: 'cache-hit' });
  });

  it('is still a hit when the zip was rewritten with the same bytes (new mtime): it is re-hashed', () => {
    const { check } = built();
    const bytes = fs.readFileSync(check.paths.zip);
    const later = new Date(Date.now() + 60_000);
    fs.writeFileSync(check.paths.zip, bytes);
    fs.utimesSync(check.paths.zip, later, later);
    expect(checkCache(options()).explanation).toBe('cache-hit');
  });

  it('is a miss when the zip has other bytes of the same size', () => {
    const { check } = built();
    const bytes = fs.readFileSync(check.paths.zip);
    bytes[bytes.length - 30] ^= 0xff;
    fs.writeFileSync(check.paths.zip, bytes);
    expect(checkCache(options()).explanation).toBe('cache-miss: zip does not match its metadata');
  });

  it('is a miss when the zip has another size', () => {
    const { check } = built();
    fs.appendFileSync(check.paths.zip, 'x');
    expect(checkCache(options()).explanation).toBe('cache-miss: zip does not match its metadata');
  });

  it('is a miss naming the zip when it was deleted', () => {
    const { check } = built();
    fs.rmSync(check.paths.zip);
    expect(checkCache(options()).explanation).toBe('cache-miss: dist/app.zip missing');
  });

  it('is a miss naming the file when a source changed', () => {
    built();
    fs.appendFileSync(path.join(project, 'rust/crates/app/src/main.rs'), '// edited\n');
    expect(checkCache(options()).explanation).toBe('cache-miss: changed crates/app/src/main.rs');
  });

  it('is a miss naming added and removed files', () => {
    built();
    fs.writeFileSync(path.join(project, 'rust/crates/lib/src/extra.rs'), '// new\n');
    fs.rmSync(path.join(project, 'rust/crates/app/templates/page.html'));
    expect(checkCache(options()).explanation).toBe('cache-miss: added crates/lib/src/extra.rs; removed crates/app/templates/page.html');
  });

  it('stays a hit when a crate the binary is not built from changes', () => {
    built();
    fs.appendFileSync(path.join(project, 'rust/crates/unused/src/lib.rs'), '// edited\n');
    fs.appendFileSync(path.join(project, 'rust/crates/testkit/src/lib.rs'), '// edited\n');
    expect(checkCache(options()).explanation).toBe('cache-hit');
  });

  it('is a miss naming a changed setting', () => {
    built();
    expect(checkCache(options({ profile: 'dev' })).explanation).toBe('cache-miss: profile release -> dev');
    expect(checkCache(options({ features: ['trace'] })).explanation).toBe('cache-miss: features (none) -> trace');
    expect(checkCache(options({}, { RUSTFLAGS: '-C target-cpu=native' })).explanation).toBe(
      'cache-miss: build environment (none) -> RUSTFLAGS="-C target-cpu=native"',
    );
  });

  it('is a miss when the record is not JSON, not a crash', () => {
    const { check } = built();
    fs.writeFileSync(check.paths.metadata, '{ torn');
    const again = checkCache(options());
    expect(again.metadata.status).toBe('unreadable');
    expect(again.explanation.startsWith('cache-miss: metadata unreadable (not JSON (')).toBe(true);
  });

  it('is a miss naming the version of a record from another schema', () => {
    const { check, record } = built();
    fs.writeFileSync(check.paths.metadata, JSON.stringify({ ...record, schemaVersion: 1 }));
    expect(checkCache(options()).explanation).toBe('cache-miss: metadata invalid (schema version 1, this engine reads 2)');
  });

  it('does not count dist/ and .cache/ folders inside the workspace as inputs', () => {
    built();
    fs.mkdirSync(path.join(project, 'rust/crates/app/dist'), { recursive: true });
    fs.writeFileSync(path.join(project, 'rust/crates/app/dist/old.zip'), 'x');
    fs.mkdirSync(path.join(project, 'rust/crates/app/.cache'), { recursive: true });
    fs.writeFileSync(path.join(project, 'rust/crates/app/.cache/x'), 'x');
    expect(checkCache(options()).explanation).toBe('cache-hit');
  });
});

describe('checkCache: forced rebuilds', () => {
  it('is a miss saying FORCE_REBUILD=1 when the environment forces, though everything matches', () => {
    built();
    expect(checkCache(options({}, { FORCE_REBUILD: '1' })).explanation).toBe('cache-miss: forced (FORCE_REBUILD=1)');
  });

  it('names the option when the option forces', () => {
    built();
    expect(checkCache(options({ forceRebuild: true })).explanation).toBe('cache-miss: forced (forceRebuild option)');
  });

  it('says "forced" when forceRebuild is set without a source', () => {
    built();
    const forced = { ...options(), forceRebuild: true, forceSource: undefined };
    expect(checkCache(forced).explanation).toBe('cache-miss: forced (forced)');
  });

  it('forced with no record names both', () => {
    expect(checkCache(options({}, { SWEEP_FORCE_REBUILD: '1' })).explanation).toBe(
      'cache-miss: forced (SWEEP_FORCE_REBUILD=1); no metadata (first build)',
    );
  });

  it('decides as if not forced with ignoreForce (the re-check after a forced build)', () => {
    built();
    expect(checkCache(options({}, { FORCE_REBUILD: '1' }), { ignoreForce: true }).explanation).toBe('cache-hit');
  });
});

describe('checkCache: the fast path', () => {
  it('never runs docker: it works with SWEEP_DOCKER pointing at nothing', () => {
    // GIVEN a docker command that does not exist
    const resolved = options();
    expect(resolved.dockerCommand).toBe(NO_DOCKER);
    // WHEN the cache is checked, missed, recorded and checked again
    const first = checkCache(resolved);
    recordBuild(first);
    // THEN both checks complete without a Docker error
    expect(checkCache(resolved).explanation).toBe('cache-hit');
  });

  it('reads no unchanged input on the second run: hashedFiles is 0', () => {
    // GIVEN sources older than the hash index's racy window
    const old = new Date(Date.now() - 3_600_000);
    for (const entry of fs.readdirSync(path.join(project, 'rust'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) fs.utimesSync(path.join(entry.parentPath, entry.name), old, old);
    }
    const first = checkCache(options());
    expect(first.hashedFiles).toBeGreaterThan(0);
    // WHEN checked again
    const second = checkCache(options());
    // THEN nothing was read, and the hash index lives in the cache folder
    expect(second.hashedFiles).toBe(0);
    expect(second.fingerprint.value).toBe(first.fingerprint.value);
    expect(fs.existsSync(second.paths.hashIndex)).toBe(true);
    expect(second.paths.hashIndex.startsWith(path.join(project, '.cache', 'file-hashes') + path.sep)).toBe(true);
  });

  it('gives the same fingerprint for the workspace in another project folder', () => {
    const here = checkCache(options()).fingerprint.value;
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-check-cache-other-'));
    try {
      fs.cpSync(path.join(FIXTURES, 'cargo-workspace'), path.join(elsewhere, 'rust'), { recursive: true });
      const there = checkCache(resolveArtifactOptions({ projectRoot: elsewhere }, { env: { SWEEP_DOCKER: NO_DOCKER } })).fingerprint.value;
      expect(there).toBe(here);
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('checkCache: errors before any build', () => {
  it('names features the package does not declare', () => {
    let error: unknown;
    try {
      checkCache(options({ features: ['trace', 'metrics', 'nope'] }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SweepError);
    expect((error as SweepError).message).toBe('workspace: package "app" has no feature "metrics", "nope" (its features: default, trace)');
    expect((error as SweepError).fix).toBe('set `features` in the artifact options to features the package declares');
  });

  it('names the missing workspace folder', () => {
    expect(() => checkCache(options({ workspace: 'no-such-folder' }))).toThrow(
      `workspace: no Cargo.toml in the workspace folder ${path.join(project, 'no-such-folder')}`,
    );
  });
});

describe('checkCache: the metadata is a claim, the zip is read', () => {
  it('GIVEN metadata whose sha256 was forged to match another zip WHEN checked THEN a miss: the zip is hashed', () => {
    // GIVEN a good build, then a different zip of the same size and metadata edited to vouch for it
    const { check, record } = built();
    const swapped = fs.readFileSync(check.paths.zip);
    swapped[swapped.length - 30] ^= 0xff;
    fs.writeFileSync(check.paths.zip, swapped);
    writeMetadata(check.paths.metadata, { ...record, zip: { ...record.zip, sha256: 'e'.repeat(64) } });
    // THEN the forged hash never reaches a plan: the check reads the zip and refuses it
    const again = checkCache(options());
    expect(again.explanation).toBe('cache-miss: zip does not match its metadata');
  });

  it('GIVEN a zip swapped for one of the same size and the same mtime WHEN checked THEN a miss', () => {
    const { check } = built();
    const stat = fs.statSync(check.paths.zip);
    const swapped = fs.readFileSync(check.paths.zip);
    swapped[swapped.length - 30] ^= 0xff;
    fs.writeFileSync(check.paths.zip, swapped);
    fs.utimesSync(check.paths.zip, stat.atime, stat.mtime);
    expect(checkCache(options()).explanation).toBe('cache-miss: zip does not match its metadata');
  });

  it('GIVEN metadata and a zip that match but the zip is not what Lambda runs WHEN checked THEN a miss naming the problem', () => {
    // GIVEN a "zip" whose one entry is not executable, with metadata made for exactly these bytes
    const first = checkCache(options());
    const notExecutable = zipSync({ bootstrap: [new Uint8Array([1, 2, 3]), { os: 3, attrs: (0o100644 << 16) >>> 0 }] });
    recordBuild(first, notExecutable);
    // THEN it is not a hit, and the line says why
    expect(checkCache(options()).explanation).toBe(
      'cache-miss: zip fails its checks (bootstrap in the zip is not executable (mode 0644, want 0755))',
    );
  });

  it('GIVEN a FIFO in place of the zip WHEN checked THEN a miss, and the check does not block on it', () => {
    const { check } = built();
    fs.rmSync(check.paths.zip);
    execFileSync('mkfifo', [check.paths.zip]);
    expect(checkCache(options()).explanation).toBe(`cache-miss: zip fails its checks (${check.paths.zip} is not a regular file)`);
  });
});

describe('inspectZip', () => {
  it('hashes the zip even when its size and mtime are unchanged', () => {
    // GIVEN metadata whose size matches the file but whose hash does not
    const { check, record } = built();
    const stale = { ...record, zip: { ...record.zip, sha256: 'f'.repeat(64) } };
    // THEN the zip does not match: a hit needs the bytes the metadata names
    expect(inspectZip(check.paths.zip, stale)).toEqual({ state: 'differs' });
    expect(inspectZip(check.paths.zip, record)).toEqual({ state: 'matches' });
  });

  it('is missing when the zip is gone', () => {
    const { check, record } = built();
    fs.rmSync(check.paths.zip);
    expect(inspectZip(check.paths.zip, record)).toEqual({ state: 'missing' });
  });
});

describe('checkCache: a verified zip is trusted while its stat is unchanged (issue 22)', () => {
  const HOUR_AGO = () => new Date(Date.now() - 3_600_000);
  /** A record whose zip is an hour old (outside the racy window), checked once so the index vouches for it. */
  function trustedBuild(): { check: CacheCheck; record: ArtifactMetadata } {
    const { check, record } = built();
    fs.utimesSync(check.paths.zip, HOUR_AGO(), HOUR_AGO());
    expect(checkCache(options()).explanation).toBe('cache-hit');
    return { check, record };
  }
  const indexEntries = (check: CacheCheck) =>
    (JSON.parse(fs.readFileSync(check.paths.hashIndex, 'utf8')) as { entries: Record<string, [number, number, number, number, string]> })
      .entries;

  it('GIVEN a zip verified once WHEN checked again THEN its hash comes from the index: the zip is not read', () => {
    // GIVEN a hit that stored the zip's hash with its stat
    const { check, record } = trustedBuild();
    const entry = indexEntries(check)[check.paths.zip];
    expect(entry?.[4]).toBe(record.zip.sha256);
    // WHEN the index is made to vouch for other bytes, and the metadata to claim them (a test of
    // who is asked, not an attack: the index lives in the cache folder, as trusted as its hashes
    // of the sources)
    const entries = indexEntries(check);
    entries[check.paths.zip] = [entry![0], entry![1], entry![2], entry![3], 'c'.repeat(64)];
    fs.writeFileSync(check.paths.hashIndex, JSON.stringify({ version: 1, entries }));
    writeMetadata(check.paths.metadata, { ...record, zip: { ...record.zip, sha256: 'c'.repeat(64) } });
    // THEN the check believed the index: it did not read the zip
    expect(checkCache(options()).explanation).toBe('cache-hit');
  });

  it('GIVEN a trusted zip swapped for a same-size one, its mtime put back, and metadata forged for it WHEN checked THEN a miss: the new ctime gets it read', () => {
    const { check, record } = trustedBuild();
    const stat = fs.statSync(check.paths.zip);
    const swapped = fs.readFileSync(check.paths.zip);
    swapped[swapped.length - 30] ^= 0xff;
    fs.writeFileSync(check.paths.zip, swapped);
    fs.utimesSync(check.paths.zip, stat.atime, stat.mtime);
    expect(fs.statSync(check.paths.zip).size).toBe(stat.size);
    writeMetadata(check.paths.metadata, { ...record, zip: { ...record.zip, sha256: 'e'.repeat(64) } });
    expect(checkCache(options()).explanation).toBe('cache-miss: zip does not match its metadata');
    // AND with the original metadata (the index's hash) it is a miss too: the index's entry is for another stat
    writeMetadata(check.paths.metadata, record);
    expect(checkCache(options()).explanation).toBe('cache-miss: zip does not match its metadata');
  });

  it('GIVEN a trusted zip replaced by a rename (another inode) with the same bytes WHEN checked THEN it is read again, and a hit', () => {
    const { check } = trustedBuild();
    const copy = `${check.paths.zip}.copy`;
    fs.copyFileSync(check.paths.zip, copy);
    fs.renameSync(copy, check.paths.zip);
    fs.utimesSync(check.paths.zip, HOUR_AGO(), HOUR_AGO());
    const before = indexEntries(check)[check.paths.zip]!;
    expect(checkCache(options()).explanation).toBe('cache-hit');
    expect(indexEntries(check)[check.paths.zip]![3]).not.toBe(before[3]);
  });

  it('GIVEN a zip written within the racy window WHEN checked twice THEN it is never trusted to the index', () => {
    const { check } = built();
    expect(checkCache(options()).explanation).toBe('cache-hit');
    expect(fs.existsSync(check.paths.hashIndex) ? indexEntries(check)[check.paths.zip] : undefined).toBeUndefined();
  });

  it('GIVEN a trusted zip whose layout was fine WHEN the metadata is rewritten THEN the metadata is validated again (its stat changed)', () => {
    const { check, record } = trustedBuild();
    fs.writeFileSync(check.paths.metadata, JSON.stringify({ ...record, zip: { ...record.zip, size: 'big' } }));
    expect(checkCache(options()).explanation).toBe(
      'cache-miss: metadata invalid (zip.size: Invalid input: expected number, received string)',
    );
  });
});
