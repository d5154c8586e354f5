import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TerraformStack, Testing } from 'cdktf';
import { RuntimeArtifact } from '../../constructs/runtime-artifact.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/** The construct with the real engine: what it exposes, and that one app builds an artifact once. */
describeWithDocker('RuntimeArtifact', () => {
  let project: TestProject;
  beforeAll(() => {
    project = makeTestProject();
  });
  afterAll(() => project.remove());

  const artifactIn = (stack: TerraformStack, id: string) =>
    new RuntimeArtifact(stack, id, { projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE, architecture: 'x86_64' });

  it('builds on a miss and exposes the asset, hashes, architecture and outcome', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const artifact = artifactIn(stack, 'runtime');
    const record = JSON.parse(fs.readFileSync(path.join(project.dist, 'sweep-lambda.json'), 'utf8'));
    expect(artifact.outcome).toBe('cache-miss');
    expect(artifact.explanation).toBe('cache-miss: no metadata (first build)');
    expect(artifact.fingerprint).toBe(record.fingerprint);
    expect(artifact.deployedFingerprint).toBe(record.fingerprint);
    expect(artifact.codeSha256).toBe(record.zip.sha256Base64);
    expect(artifact.architecture).toBe('x86_64');
    expect(artifact.zipPath).toBe(path.join(project.dist, 'sweep-lambda.zip'));
    // The asset's folder is the zip's SHA-256: it moves exactly when the bytes change.
    expect(artifact.asset.path).toBe(`assets/runtime_zip_CFDA0CD6/${record.zip.sha256}/sweep-lambda.zip`);
  });

  it('is a cache hit on the next synth, answered from the record', () => {
    const stack = new TerraformStack(Testing.app(), 'stack');
    const artifact = artifactIn(stack, 'runtime');
    expect(artifact.outcome).toBe('cache-hit');
    expect(artifact.explanation).toBe('cache-hit');
  });

  it('used twice in one app, with FORCE_REBUILD=1, builds once', () => {
    const record = path.join(project.dist, 'sweep-lambda.json');
    process.env.FORCE_REBUILD = '1';
    try {
      const app = Testing.app();
      const first = artifactIn(new TerraformStack(app, 'one'), 'runtime');
      const builtAt = JSON.parse(fs.readFileSync(record, 'utf8')).builtAt;
      const second = artifactIn(new TerraformStack(app, 'two'), 'runtime');
      expect(first.outcome).toBe('cache-miss');
      expect(first.explanation).toBe('cache-miss: forced (FORCE_REBUILD=1)');
      expect(second.codeSha256).toBe(first.codeSha256);
      // A second build would have rewritten the record.
      expect(JSON.parse(fs.readFileSync(record, 'utf8')).builtAt).toBe(builtAt);
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
});
