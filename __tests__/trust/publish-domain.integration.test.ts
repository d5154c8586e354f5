import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { describeWithDocker } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';
import { bootstrapOf, CLI_ARTIFACT, closedPort, FIXTURES, startSweep } from './support.js';

/**
 * Issue 12: cargo trusts its target folder. Any build can write there (a build script runs with
 * the folder mounted read-write), and cargo reuses an output it considers fresh without reading
 * it again. So a publishing build (remote cache mode read-write: its zip goes to everyone) must
 * not reuse the target folder of local, untrusted builds: it uses `<cacheDir>/publish/`.
 *
 * The test tampers with the binary in the local target folder, in place (cargo's fingerprint
 * does not cover its outputs' bytes), shows that a forced local rebuild packages the tampered
 * bytes, and that a publishing build, with the same cache folder and that zip in dist/, gives the
 * clean zip: it neither reuses the local target folder nor the zip a local build left in dist/.
 */
const TRIPLE_RELEASE = path.join('x86_64-unknown-linux-gnu', 'release', 'bootstrap');
const CLEAN_MARKER = 'sweep-trust-marker:clean-build';
const TAMPERED_MARKER = 'sweep-trust-marker:TAMPERED!!!';

describeWithDocker('trust: publishing builds do not reuse the local target folder', () => {
  let project: TestProject | undefined;
  afterEach(() => project?.remove());

  it('GIVEN a tampered binary in the local target folder WHEN a forced local build and then a publishing build run THEN only the local one packages it', async () => {
    project = makeTestProject({ workspace: path.join(FIXTURES, 'trust-hold'), prefix: 'sweep-trust-publish-' });
    const zipFile = path.join(project.dist, `${CLI_ARTIFACT}.zip`);
    const metadataOf = () => JSON.parse(fs.readFileSync(path.join(project!.dist, `${CLI_ARTIFACT}.json`), 'utf8'));

    // GIVEN a local build.
    const first = await startSweep(['build'], project.root);
    expect(first.exitCode).toBe(0);
    const cleanZip = fs.readFileSync(zipFile);
    expect(bootstrapOf(cleanZip).includes(CLEAN_MARKER)).toBe(true);
    expect(metadataOf().origin).toEqual({ kind: 'build', cacheDomain: 'local' });

    // AND its binary tampered with in the target folder, in place (the same inode as cargo's deps/ copy).
    const builtBinary = path.join(project.cache, 'cargo-target', TRIPLE_RELEASE);
    overwriteInPlace(builtBinary, CLEAN_MARKER, TAMPERED_MARKER);

    // WHEN a local build is forced THEN cargo finds nothing to do and the tampered binary ships:
    // the threat is real.
    const local = await startSweep(['build'], project.root, { FORCE_REBUILD: '1' });
    expect(local.exitCode).toBe(0);
    expect(local.all).not.toContain('Compiling trust-hold');
    expect(bootstrapOf(fs.readFileSync(zipFile)).includes(TAMPERED_MARKER)).toBe(true);
    expect(metadataOf().origin.cacheDomain).toBe('local');

    // WHEN a publishing build runs, not forced (its remote unreachable: a warning, and the build goes on).
    const publishingEnv = {
      SWEEP_REMOTE_CACHE: 's3://unreachable-bucket/sweep',
      SWEEP_REMOTE_CACHE_MODE: 'read-write',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${await closedPort()}`,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const publishing = await startSweep(['build'], project.root, publishingEnv);

    // THEN the local build's zip in dist/ was not a hit for it, it compiled in its own target
    // folder, and its zip is the clean one, byte for byte.
    expect(publishing.exitCode).toBe(0);
    expect(publishing.all).toContain(
      `[${CLI_ARTIFACT}] cache-miss: the zip was built with the local cargo caches, which a publishing build does not trust`,
    );
    expect(publishing.all).toContain('Compiling trust-hold');
    expect(publishing.all).toMatch(/warning: .*unreachable-bucket/);
    expect(Buffer.compare(fs.readFileSync(zipFile), cleanZip)).toBe(0);
    expect(metadataOf().origin).toEqual({ kind: 'build', cacheDomain: 'publish' });
    expect(fs.readFileSync(path.join(project.cache, 'publish', 'cargo-target', TRIPLE_RELEASE)).includes(CLEAN_MARKER)).toBe(true);
    // AND the local domain's folder was left as it was: the next local build still sees what it wrote.
    expect(fs.readFileSync(builtBinary).includes(TAMPERED_MARKER)).toBe(true);

    // AND the next publishing run reuses the publishing build's zip.
    const again = await startSweep(['build'], project.root, publishingEnv);
    expect(again.exitCode).toBe(0);
    expect(again.all).toMatch(new RegExp(`\\[${CLI_ARTIFACT}\\] cache-hit: inputs unchanged`));
  });
});

/** Replaces `from` with `to` (same length) inside `file` without replacing the file itself. */
function overwriteInPlace(file: string, from: string, to: string): void {
  expect(to).toHaveLength(from.length);
  const bytes = fs.readFileSync(file);
  const at = bytes.indexOf(from);
  expect(at).toBeGreaterThanOrEqual(0);
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, Buffer.from(to), 0, to.length, at);
  } finally {
    fs.closeSync(fd);
  }
}
