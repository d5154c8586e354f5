import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { TerraformStack, Testing } from 'cdktf';
import { RuntimeArtifact, RuntimeArtifacts } from '../../constructs/runtime-artifact.js';
import { builtProject } from '../helpers/built-project.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * The constructs with the real engine (through the synchronous entry and its child process): what
 * they expose, that one app builds an artifact once, and that RuntimeArtifacts builds several in
 * one engine run. Each test has its own copy of one built project.
 */
describeWithDocker('RuntimeArtifact and RuntimeArtifacts', () => {
  const prepared = builtProject();
  beforeAll(() => prepared.build());
  afterAll(() => prepared.remove());
  let project: TestProject;
  beforeEach(() => {
    project = prepared.copy();
  });
  afterEach(() => project.remove());

  const artifactIn = (stack: TerraformStack, id: string, root = project.root) =>
    new RuntimeArtifact(stack, id, { projectRoot: root, toolchainImage: TOOLCHAIN_IMAGE, architecture: 'x86_64' });
  const metadataOf = (root: string, name = 'sweep-lambda') => JSON.parse(fs.readFileSync(path.join(root, 'dist', `${name}.json`), 'utf8'));

  it('builds on a miss and exposes the asset, hashes, architecture and outcome', () => {
    const fresh = makeTestProject();
    try {
      const artifact = artifactIn(new TerraformStack(Testing.app(), 'stack'), 'runtime', fresh.root);
      const metadata = metadataOf(fresh.root);
      expect(artifact.outcome).toBe('cache-miss');
      expect(artifact.via).toBe('build');
      expect(artifact.explanation).toBe('cache-miss: no metadata (first build)');
      expect(artifact.fingerprint).toBe(metadata.fingerprint);
      expect(artifact.deployedFingerprint).toBe(metadata.fingerprint);
      expect(artifact.codeSha256).toBe(metadata.zip.sha256Base64);
      expect(artifact.architecture).toBe('x86_64');
      expect(artifact.zipPath).toBe(path.join(fresh.dist, 'sweep-lambda.zip'));
      // The asset's folder is the zip's SHA-256: it moves exactly when the bytes change.
      expect(artifact.asset.path).toBe(`assets/runtime_zip_CFDA0CD6/${metadata.zip.sha256}/sweep-lambda.zip`);
    } finally {
      fresh.remove();
    }
  });

  it('is a cache hit on the next synth, answered in-process from dist/', () => {
    const artifact = artifactIn(new TerraformStack(Testing.app(), 'stack'), 'runtime');
    expect(artifact.outcome).toBe('cache-hit');
    expect(artifact.via).toBe('local');
    expect(artifact.explanation).toBe('cache-hit');
  });

  it('used twice in one app, with FORCE_REBUILD=1, builds once', () => {
    const metadataFile = path.join(project.dist, 'sweep-lambda.json');
    process.env.FORCE_REBUILD = '1';
    try {
      const app = Testing.app();
      const first = artifactIn(new TerraformStack(app, 'one'), 'runtime');
      const builtAt = JSON.parse(fs.readFileSync(metadataFile, 'utf8')).builtAt;
      const second = artifactIn(new TerraformStack(app, 'two'), 'runtime');
      expect(first.outcome).toBe('cache-miss');
      expect(first.explanation).toBe('cache-miss: forced (FORCE_REBUILD=1)');
      expect(second.codeSha256).toBe(first.codeSha256);
      // A second build would have rewritten the metadata.
      expect(JSON.parse(fs.readFileSync(metadataFile, 'utf8')).builtAt).toBe(builtAt);
    } finally {
      delete process.env.FORCE_REBUILD;
    }
  });

  it('two artifacts with the same name and different settings in one app are an error naming the fix', () => {
    const app = Testing.app();
    artifactIn(new TerraformStack(app, 'one'), 'runtime');
    expect(
      () =>
        new RuntimeArtifact(new TerraformStack(app, 'two'), 'runtime', {
          projectRoot: project.root,
          toolchainImage: TOOLCHAIN_IMAGE,
          profile: 'dev',
        }),
    ).toThrow('config: two artifacts in this app write dist/sweep-lambda.zip with different settings');
  });

  it('RuntimeArtifacts: both functions of the example workspace, the missing one built, each its own asset', () => {
    // GIVEN sweep-lambda built (the template) and sweep-batch never built
    const artifacts = new RuntimeArtifacts(new TerraformStack(Testing.app(), 'stack'), 'runtime', {
      shared: { projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE },
      functions: {
        api: { package: 'sweep-lambda', binary: 'bootstrap', name: 'sweep-lambda' },
        batch: { package: 'sweep-batch', binary: 'sweep-batch', name: 'sweep-batch' },
      },
    });
    // THEN the built one is a hit, the other is built, and each exposes its own zip
    expect(artifacts.names).toEqual(['api', 'batch']);
    expect(artifacts.get('api')).toMatchObject({ outcome: 'cache-hit', via: 'local' });
    expect(artifacts.get('batch')).toMatchObject({ outcome: 'cache-miss', via: 'build' });
    expect(artifacts.get('batch').codeSha256).toBe(metadataOf(project.root, 'sweep-batch').zip.sha256Base64);
    expect(artifacts.get('api').asset.path).not.toBe(artifacts.get('batch').asset.path);
    expect(() => artifacts.get('nope')).toThrow('has no function "nope" (it has api, batch)');
  });
});
