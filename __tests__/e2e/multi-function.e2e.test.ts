import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import {
  type CdktfRun,
  constructModule,
  planExitCode as planExitCodeOf,
  runCdktf,
  runTerraform,
  writeCdktfApp,
} from '../helpers/cdktf-project.js';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { appendLine, makeTestProject, projectAt, REPO_ROOT, type TestProject } from '../helpers/project.js';

/**
 * Four functions of one workspace deployed with the real cdktf CLI and terraform (issue 11): a
 * test app declares one RustArtifact per function (built together at synth, issue 21) and gives
 * each one's asset path, source_code_hash and deployed fingerprint to a `terraform_data` of its own (Terraform's built-in resource: no provider
 * download), with local state. beforeAll deploys once; each test works on a copy of that
 * deployed project (state, cdktf.out and cargo's target folder, timestamps kept) and asks
 * terraform itself what would change: the saved plan's JSON, or `plan -detailed-exitcode`.
 */
const MULTI = path.join(REPO_ROOT, '__tests__/fixtures/workspaces/multi-function');
const STACK = 'multi';
const FUNCTIONS = ['api', 'worker', 'scheduler', 'reporter'] as const;
/** Each function's terraform_data, as the test app names it. */
const ADDRESS = (name: string) => `terraform_data.code_${name}`;

describeWithDocker('cdktf deploy and plan with RustArtifacts of four functions (real cdktf-cli and terraform)', () => {
  let prepared: TestProject;
  let deploy: CdktfRun;
  const copies: TestProject[] = [];

  const cdktf = (project: TestProject, args: string[]): Promise<CdktfRun> =>
    runCdktf(project.root, args, { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE });
  const terraform = (project: TestProject, args: string[]) => runTerraform(project.root, STACK, args);
  const planExitCode = (project: TestProject) => planExitCodeOf(project.root, STACK);
  /** The actions terraform plans per resource address, from a saved plan's JSON. */
  const plannedActions = async (project: TestProject) => {
    await terraform(project, ['plan', '-out=tfplan', '-input=false', '-lock=false', '-no-color']);
    const plan = JSON.parse((await terraform(project, ['show', '-json', 'tfplan'])).stdout) as {
      resource_changes: { address: string; change: { actions: string[]; before: { input: unknown }; after: { input: unknown } } }[];
    };
    return new Map(plan.resource_changes.map((change) => [change.address, change.change]));
  };
  const compileLines = (output: string) => output.split('\n').filter((line) => /\] compile: cargo build /.test(line));
  const copy = () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-e2e-multi-copy-'));
    fs.cpSync(prepared.root, root, { recursive: true, preserveTimestamps: true });
    const project = projectAt(root);
    copies.push(project);
    return project;
  };

  beforeAll(async () => {
    prepared = makeTestProject({ workspace: MULTI, prefix: 'sweep-e2e-multi-' });
    writeTestApp(prepared.root);
    const started = performance.now();
    deploy = await cdktf(prepared, ['deploy', '--auto-approve']);
    process.stdout.write(`[timing] cold cdktf deploy of four functions: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  });
  afterAll(() => {
    for (const project of [...copies, prepared]) project?.remove();
  });

  it('GIVEN a cold workspace WHEN cdktf deploy THEN four functions build in one cargo run and four resources are created', async () => {
    expect(deploy.exitCode).toBe(0);
    for (const name of FUNCTIONS) expect(deploy.output).toContain(`[${name}] cache-miss: no metadata (first build)`);
    expect(compileLines(deploy.output)).toHaveLength(1);
    expect(deploy.output).toMatch(/Apply complete! Resources: 4 added, 0 changed, 0 destroyed/);
    expect(deploy.output).not.toMatch(/\[ERROR\]/); // progress goes to stdout, so none of it is shown as an error
    expect(await planExitCode(prepared)).toBe(0);
  });

  it("GIVEN one function's crate edited WHEN planning THEN only that function's resource changes", async () => {
    const project = copy();
    const main = project.file('crates/worker/src/main.rs');
    fs.writeFileSync(main, fs.readFileSync(main, 'utf8').replace('processed 0 jobs', 'processed 1 job'));
    const diff = await cdktf(project, ['diff']);
    expect(diff.exitCode).toBe(0);
    expect(diff.output).toContain('[worker] cache-miss: changed crates/worker/src/main.rs');
    for (const name of ['api', 'scheduler', 'reporter'])
      expect(diff.output).toMatch(new RegExp(`\\[${name}\\] cache-hit: inputs unchanged`));
    expect(compileLines(diff.output)).toEqual([
      expect.stringMatching(/^\[worker\] compile: cargo build .* --package worker --bin worker$/),
    ]);

    const actions = await plannedActions(project);
    expect([...actions.keys()].sort()).toEqual(FUNCTIONS.map(ADDRESS).sort());
    for (const name of FUNCTIONS) {
      const change = actions.get(ADDRESS(name))!;
      if (name === 'worker') {
        expect(change.actions).not.toEqual(['no-op']);
        const before = change.before.input as Record<string, string>;
        const after = change.after.input as Record<string, string>;
        expect(after.source_code_hash).not.toBe(before.source_code_hash);
        expect(after.deployed_fingerprint).not.toBe(before.deployed_fingerprint);
        expect(after.filename).not.toBe(before.filename);
      } else {
        expect(change.actions).toEqual(['no-op']);
      }
    }
  });

  it('GIVEN a comment-only edit of the shared crate WHEN planning THEN every function rebuilds in one run and terraform plans no changes', async () => {
    const project = copy();
    appendLine(project.file('crates/shared/src/lib.rs'), '// a note that changes no code');
    const diff = await cdktf(project, ['diff']);
    expect(diff.exitCode).toBe(0);
    for (const name of FUNCTIONS) expect(diff.output).toContain(`[${name}] cache-miss: changed crates/shared/src/lib.rs`);
    expect(compileLines(diff.output)).toHaveLength(1);
    expect(diff.output).toMatch(/No changes\. Your infrastructure matches the configuration\./);
    expect(await planExitCode(project)).toBe(0);
  });
});

/**
 * A CDKTF project in `root` whose app deploys each function's artifact as a terraform_data. It
 * imports the construct from this repository and resolves packages through a node_modules link.
 * Every path the app and its state use is relative to the project, so a copy of the deployed
 * project is a deployed project of its own.
 */
function writeTestApp(root: string): void {
  writeCdktfApp(root, {
    name: 'sweep-e2e-multi-app',
    main: `import { App, DataResource, LocalBackend, TerraformStack } from 'cdktf';
import { RustArtifact } from ${constructModule('index.ts')};

const FUNCTIONS = ${JSON.stringify(FUNCTIONS)};
const app = new App();
const stack = new TerraformStack(app, ${JSON.stringify(STACK)});
// Relative to the stack's folder (cdktf.out/stacks/${STACK}): the state stays in the project.
new LocalBackend(stack, { path: '../../../terraform.${STACK}.tfstate' });
// One construct per function; the project root is the current directory, where cdktf runs the app.
for (const name of FUNCTIONS) {
  const artifact = new RustArtifact(stack, name, { package: name });
  // What a Lambda function takes from its artifact: the zip's path and its hashes (tokens until synth builds them all).
  new DataResource(stack, \`code_\${name}\`, {
    input: {
      filename: artifact.filename,
      source_code_hash: artifact.codeSha256,
      deployed_fingerprint: artifact.deployedFingerprint,
    },
  });
}
app.synth();
`,
  });
}
