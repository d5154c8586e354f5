import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { builtProject } from '../helpers/built-project.js';
import { constructModule, planExitCode as planExitCodeOf, runCdktf, writeCdktfApp } from '../helpers/cdktf-project.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { appendLine, projectAt, type TestProject } from '../helpers/project.js';

/**
 * The operator's loop with the real cdktf CLI and terraform: a test app puts RuntimeArtifact's
 * asset path and hashes into Terraform's built-in `terraform_data` (no provider download), with
 * local state. Every step asserts terraform's own verdict (`plan -detailed-exitcode`: 0 = no
 * changes, 2 = changes) as well as the CLI's words and the engine's log.
 *
 * A project is built and deployed once (beforeAll); each test starts from its own copy of it.
 */
const STACK = 'e2e';

describeWithDocker('cdktf deploy and diff with RuntimeArtifact (real cdktf-cli and terraform)', () => {
  const prepared = builtProject();
  beforeAll(async () => {
    await prepared.build();
    const template = prepared.copy('sweep-e2e-template-');
    try {
      // Deployed once, then made the template of every test's copy.
      writeTestApp(template.root);
      const deploy = await cdktf(template, ['deploy', '--auto-approve']);
      expect(deploy.exitCode).toBe(0);
      expect(deploy.output).toMatch(/Apply complete! Resources: 1 added, 0 changed, 0 destroyed/);
      expect(deploy.output).not.toMatch(/\[ERROR\]/); // progress goes to stdout, so none of it is shown as an error
      deployed = template;
    } catch (error) {
      template.remove();
      throw error;
    }
  });
  afterAll(() => {
    deployed?.remove();
    prepared.remove();
  });
  let deployed: TestProject | undefined;
  let project: TestProject;
  beforeEach(() => {
    project = copyDeployed(deployed!);
  });
  afterEach(() => project.remove());
  const zip = () => fs.readFileSync(path.join(project.dist, 'sweep-lambda.zip'));

  it('1. a cold cdktf deploy succeeds, and cdktf diff right after reports no changes with a cache hit', async () => {
    // (The deploy ran in beforeAll; this project is its copy.)
    const run = await cdktf(project, ['diff']);
    expect(run.exitCode).toBe(0);
    expect(run.output).toMatch(/\[sweep-lambda\] cache-hit: inputs unchanged/);
    expect(run.output).toMatch(/No changes\. Your infrastructure matches the configuration\./);
    expect(await planExitCode(project)).toBe(0);
  });

  it('2. after editing a Rust source, cdktf diff reports a change naming the file; after reverting it, no changes again', async () => {
    const main = project.file('crates/sweep-lambda/src/main.rs');
    const original = fs.readFileSync(main, 'utf8');
    fs.writeFileSync(main, original.replace('initialization failed', 'startup failed'));
    const edited = await cdktf(project, ['diff']);
    expect(edited.exitCode).toBe(0);
    expect(edited.output).toContain('[sweep-lambda] cache-miss: changed crates/sweep-lambda/src/main.rs');
    expect(edited.output).toMatch(/Plan: 1 to add, 0 to change, 1 to destroy|Plan: 0 to add, 1 to change, 0 to destroy/);
    expect(await planExitCode(project)).toBe(2);

    fs.writeFileSync(main, original);
    const reverted = await cdktf(project, ['diff']);
    expect(reverted.exitCode).toBe(0);
    expect(reverted.output).toContain('[sweep-lambda] cache-miss: changed crates/sweep-lambda/src/main.rs');
    expect(reverted.output).toMatch(/No changes\. Your infrastructure matches the configuration\./);
    expect(await planExitCode(project)).toBe(0);
  });

  it('3. FORCE_REBUILD=1 cdktf deploy rebuilds a byte-identical zip, and the following diff reports no changes', async () => {
    const before = zip();
    const run = await cdktf(project, ['deploy', '--auto-approve'], { FORCE_REBUILD: '1' });
    expect(run.exitCode).toBe(0);
    expect(run.output).toContain('[sweep-lambda] cache-miss: forced (FORCE_REBUILD=1)');
    expect(run.output).toContain('[sweep-lambda] reproducible: the forced rebuild gave a byte-identical zip');
    expect(Buffer.compare(zip(), before)).toBe(0);
    const diff = await cdktf(project, ['diff']);
    expect(diff.output).toMatch(/\[sweep-lambda\] cache-hit/);
    expect(diff.output).toMatch(/No changes\. Your infrastructure matches the configuration\./);
    expect(await planExitCode(project)).toBe(0);
  });

  it('4. a comment appended to a Rust source: cache-miss naming it, a byte-identical zip, and no changes', async () => {
    const before = zip();
    appendLine(project.file('crates/sweep-core/src/json.rs'), '// a note at the end of the file');
    const run = await cdktf(project, ['diff']);
    expect(run.exitCode).toBe(0);
    expect(run.output).toContain('[sweep-lambda] cache-miss: changed crates/sweep-core/src/json.rs');
    expect(Buffer.compare(zip(), before)).toBe(0);
    expect(run.output).toMatch(/No changes\. Your infrastructure matches the configuration\./);
    expect(await planExitCode(project)).toBe(0);
  });
});

const cdktf = (project: TestProject, args: string[], env: Record<string, string> = {}) =>
  runCdktf(project.root, args, { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE, ...env });
const planExitCode = (project: TestProject) => planExitCodeOf(project.root, STACK);

/**
 * A copy of the deployed project for one test: its app is written again for its own folder (the
 * app names its folder and state file), its state is the deployed one, and cdktf.out is left
 * behind (terraform's working folder remembers the old backend path).
 */
function copyDeployed(deployed: TestProject): TestProject {
  const root = fs.mkdtempSync(path.join(path.dirname(deployed.root), 'sweep-e2e-'));
  fs.cpSync(deployed.root, root, {
    recursive: true,
    preserveTimestamps: true,
    verbatimSymlinks: true,
    filter: (source) => path.basename(source) !== 'cdktf.out' && path.basename(source) !== 'node_modules',
  });
  writeTestApp(root);
  return projectAt(root);
}

/**
 * A CDKTF project in `root` whose app deploys the artifact's path and hashes as terraform_data.
 * It imports the construct from this repository and resolves packages through a node_modules link.
 */
function writeTestApp(root: string): void {
  writeCdktfApp(root, {
    name: 'sweep-e2e-app',
    main: `import { App, DataResource, LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import { RuntimeArtifact } from ${constructModule('runtime-artifact.ts')};

const app = new App();
const stack = new TerraformStack(app, ${JSON.stringify(STACK)});
new LocalBackend(stack, { path: ${JSON.stringify(path.join(root, 'terraform.e2e.tfstate'))} });
const artifact = new RuntimeArtifact(stack, 'runtime', { projectRoot: ${JSON.stringify(root)} });
// What a Lambda function takes from the artifact: the zip's path and its hashes.
const deployed = new DataResource(stack, 'function-code', {
  input: {
    filename: artifact.asset.path,
    source_code_hash: artifact.codeSha256,
    deployed_fingerprint: artifact.deployedFingerprint,
  },
});
new TerraformOutput(stack, 'code', { value: deployed.output });
app.synth();
`,
  });
}
