import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { constructModule, planExitCode as planExitCodeOf, runCdktf, runTerraform, writeCdktfApp } from '../helpers/cdktf-project.js';
import { runCli } from '../helpers/cli.js';
import { describeWithDocker } from '../helpers/docker.js';
import type { TestProject } from '../helpers/project.js';
import { describeWithS3, type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import {
  distEntries,
  distMetadata,
  distZip,
  freshProject,
  NAME,
  NO_DOCKER,
  objectKey,
  PREFIX,
  remoteEnv,
  SWEEP_CONTEXT,
} from './remote-fixture.js';

/**
 * Two machines, one build: machine A deploys with the shared cache in read-write mode (it builds
 * and uploads); machine B, a fresh checkout with no caches and no Docker, synthesizes the same
 * stack from the shared cache and terraform plans no change against A's state. Real cdktf-cli,
 * terraform (a `terraform_data` stack with local state, no provider download) and S3 server.
 *
 * A's deploy is the shared GIVEN (beforeAll); every test uses a fresh machine B of its own.
 */
const STACK = 'two-machines';
const BUCKET = 'shared';
const URL = `s3://${BUCKET}/${PREFIX}`;

describeWithDocker('two machines share one build through the remote cache (real cdktf, terraform, S3)', () => {
  describeWithS3('two machines', () => {
    let server: S3TestServer;
    let machineA: TestProject;
    let deployA: { exitCode: number | undefined; output: string };
    const machines: TestProject[] = [];
    const machineB = () => {
      const project = testApp(freshProject('sweep-machine-b-'));
      machines.push(project);
      return project;
    };
    const cdktf = (project: TestProject, args: string[], env: Record<string, string>) => runCdktf(project.root, args, env);
    const terraform = (project: TestProject, args: string[]) => runTerraform(project.root, STACK, [...args, '-input=false', '-no-color']);
    /** terraform's verdict on B's synthesized stack against the state in B's state path: 0 no changes, 2 changes. */
    const planExitCode = (project: TestProject) => planExitCodeOf(project.root, STACK);

    beforeAll(async () => {
      server = await startS3Server();
      await server.createBucket(BUCKET);
      // GIVEN machine A deployed with the shared cache in read-write mode.
      machineA = testApp(freshProject('sweep-machine-a-'));
      deployA = await cdktf(machineA, ['deploy', '--auto-approve'], remoteEnv(server, { url: URL, mode: 'read-write' }));
      if (deployA.exitCode !== 0) throw new Error(`machine A: cdktf deploy failed:\n${deployA.output}`);
    });
    afterAll(async () => {
      for (const project of [machineA, ...machines]) project?.remove();
      await server?.stop();
    });

    it('machine A: cdktf deploy built the zip, uploaded it and its metadata, and applied', async () => {
      expect(deployA.output).toContain(`[${NAME}] cache-miss: no metadata (first build)`);
      expect(deployA.output).toMatch(new RegExp(`\\[${NAME}\\] remote: uploaded s3://${BUCKET}/${PREFIX}/v2/[0-9a-f]{64}\\.zip \\(`));
      expect(deployA.output).toMatch(/Apply complete! Resources: 1 added, 0 changed, 0 destroyed/);
      const { fingerprint } = distMetadata(machineA);
      expect(await server.listKeys(BUCKET)).toEqual([objectKey(fingerprint, 'json'), objectKey(fingerprint, 'zip')]);
    });

    it("GIVEN machine B without Docker WHEN it synthesizes THEN a remote hit gives A's bytes, and terraform plans no change against A's state", async () => {
      const b = machineB();
      const keys = await server.listKeys(BUCKET);

      // WHEN B synthesizes, with a docker command that does not exist (any call to it would fail the build).
      const synth = await cdktf(b, ['synth'], remoteEnv(server, { url: URL }, { SWEEP_DOCKER: NO_DOCKER }));

      // THEN
      expect(synth.exitCode).toBe(0);
      expect(synth.output).toContain(`[${NAME}] cache-miss: no metadata (first build)`);
      expect(synth.output).toMatch(new RegExp(`\\[${NAME}\\] cache-hit \\(remote ${URL}, [\\d.]+ KiB in `));
      expect(synth.output).toMatch(new RegExp(`\\[${NAME}\\] done: cache-hit \\(remote\\), dist/${NAME}\\.zip verified and committed`));
      expect(synth.output).not.toMatch(/\] compile:|\] builder-image:|\[ERROR\]/);
      expect(Buffer.compare(distZip(b), distZip(machineA))).toBe(0);
      const metadata = distMetadata(b);
      expect(metadata.origin).toEqual({ kind: 'remote', cacheDomain: 'publish', remote: URL });
      expect(metadata.fingerprint).toBe(distMetadata(machineA).fingerprint);
      expect(metadata.zip).toEqual(distMetadata(machineA).zip);
      expect(distEntries(b)).toEqual([`${NAME}.json`, `${NAME}.zip`]);
      // No build happened on B: no cargo caches were even created; and a reader wrote nothing.
      expect(fs.existsSync(path.join(b.cache, 'cargo-target'))).toBe(false);
      expect(await server.listKeys(BUCKET)).toEqual(keys);

      // THEN terraform, on B, against A's state: no changes. Without A's state it would plan a
      // creation, which shows the plan really compares something.
      const init = await terraform(b, ['init']);
      expect({ exitCode: init.exitCode, stderr: init.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(await planExitCode(b)).toBe(2);
      fs.copyFileSync(path.join(machineA.root, 'terraform.tfstate'), path.join(b.root, 'terraform.tfstate'));
      expect(await planExitCode(b)).toBe(0);
    });

    it('GIVEN machine B before any build WHEN `sweep-runtime status --remote` THEN it says the shared cache holds its fingerprint', async () => {
      const b = machineB();
      const fingerprint: string = distMetadata(machineA).fingerprint;

      const run = await runCli(['status', '--remote'], { cwd: b.root, env: remoteEnv(server, { url: URL }, { SWEEP_DOCKER: NO_DOCKER }) });

      expect(run.exitCode).toBe(0);
      expect(run.stdout.split('\n')).toEqual([
        `[${NAME}] cache-miss: no metadata (first build)`,
        expect.stringMatching(new RegExp(`^\\[${NAME}\\] fingerprint ${fingerprint} \\(\\d+ inputs, `)),
        `[${NAME}] remote: ${URL} holds fingerprint ${fingerprint.slice(0, 12)}`,
        // A publisher without a signing key uploads unsigned builds (this configuration trusts no keys).
        `[${NAME}] remote: unsigned`,
      ]);
      expect(distEntries(b)).toEqual([]);
    });
  });
});

/**
 * Makes `project` a CDKTF app whose stack puts the artifact's asset path and hashes into a
 * `terraform_data` resource, with its state in `<root>/terraform.tfstate`. Its cdktf.json also
 * holds the `sweep` context, so that the CLI builds the same artifact.
 */
function testApp(project: TestProject): TestProject {
  const { root } = project;
  writeCdktfApp(root, {
    name: 'sweep-two-machines',
    context: SWEEP_CONTEXT,
    main: `import { App, DataResource, LocalBackend, TerraformStack } from 'cdktf';
import { RuntimeArtifact } from ${constructModule('runtime-artifact.ts')};

const app = new App();
const stack = new TerraformStack(app, ${JSON.stringify(STACK)});
new LocalBackend(stack, { path: ${JSON.stringify(path.join(root, 'terraform.tfstate'))} });
const artifact = new RuntimeArtifact(stack, 'runtime', { projectRoot: ${JSON.stringify(root)}, package: ${JSON.stringify(NAME)} });
// What a Lambda function takes from the artifact: the zip's path and its hashes.
new DataResource(stack, 'function-code', {
  input: {
    filename: artifact.asset.path,
    source_code_hash: artifact.codeSha256,
    deployed_fingerprint: artifact.deployedFingerprint,
  },
});
app.synth();
`,
  });
  return project;
}
