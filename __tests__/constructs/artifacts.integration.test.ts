import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { TerraformStack, Testing } from 'cdktf';
import { RuntimeArtifact, RustArtifact, RustFunction } from '../../constructs/index.js';
import { builtProject } from '../helpers/built-project.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { makeTestProject, type TestProject } from '../helpers/project.js';

/**
 * The constructs with the real engine (through the synchronous entry and its child process): what
 * they expose, that one app builds an artifact once (also when RuntimeArtifact, built at
 * construction, and RustArtifact, built at synth, both ask for it), and that RustFunctions of one
 * app are built in one engine run at synth. Each test has its own copy of one built project.
 */
describeWithDocker('RuntimeArtifact, RustArtifact and RustFunction with the engine', () => {
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

  it('a RuntimeArtifact and a RustArtifact of the same function in one app, with FORCE_REBUILD=1, build it once', () => {
    const metadataFile = path.join(project.dist, 'sweep-lambda.json');
    process.env.FORCE_REBUILD = '1';
    try {
      const app = Testing.app();
      const eager = artifactIn(new TerraformStack(app, 'one'), 'runtime');
      const builtAt = JSON.parse(fs.readFileSync(metadataFile, 'utf8')).builtAt;
      const two = new TerraformStack(app, 'two');
      const deferred = new RustArtifact(two, 'sweep-lambda', { projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE });
      Testing.synth(two);
      expect(eager.explanation).toBe('cache-miss: forced (FORCE_REBUILD=1)');
      expect(deferred.zipPath).toBe(eager.zipPath);
      expect(JSON.parse(fs.readFileSync(metadataFile, 'utf8')).builtAt).toBe(builtAt);
    } finally {
      delete process.env.FORCE_REBUILD;
    }
  });

  it('RustFunctions of both example functions in two stacks: built at synth, the missing one built, each its own asset', () => {
    // GIVEN sweep-lambda built (the template) and sweep-batch never built
    const app = Testing.app();
    const one = new TerraformStack(app, 'one');
    const two = new TerraformStack(app, 'two');
    const shared = { projectRoot: project.root, toolchainImage: TOOLCHAIN_IMAGE };
    const api = new RustFunction(one, 'sweep-lambda', { ...shared, package: 'sweep-lambda' });
    const batch = new RustFunction(two, 'sweep-batch', { ...shared, package: 'sweep-batch' });
    // WHEN the first stack is synthesized THEN both are ready: one engine run for the app
    const json = JSON.parse(Testing.synth(one));
    const apiCode = api.code as RustArtifact;
    const batchCode = batch.code as RustArtifact;
    expect(apiCode).toMatchObject({ outcome: 'cache-hit', via: 'local' });
    expect(batchCode).toMatchObject({ outcome: 'cache-miss', via: 'build', explanation: 'cache-miss: no metadata (first build)' });
    const lambda = Object.values(json.resource.aws_lambda_function)[0] as { filename: string; source_code_hash: string };
    expect(lambda.source_code_hash).toBe(metadataOf(project.root).zip.sha256Base64);
    expect(lambda.filename).toBe(apiCode.asset.path);
    const batchLambda = Object.values(JSON.parse(Testing.synth(two)).resource.aws_lambda_function)[0] as { source_code_hash: string };
    expect(batchLambda.source_code_hash).toBe(metadataOf(project.root, 'sweep-batch').zip.sha256Base64);
    expect(batchCode.asset.path).not.toBe(apiCode.asset.path);
  });
});
