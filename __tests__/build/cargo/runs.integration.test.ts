import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execa } from 'execa';
import {
  type CargoFunction,
  featuresAgree,
  featureTreeCommand,
  parseFeatureTree,
  type ResolvedFeatures,
} from '../../../build/cargo/feature-tree.js';
import { cargoBuildArgs, type PlannedFunction, planCargoRuns } from '../../../build/cargo/runs.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../../helpers/docker.js';
import { copyWorkspace, REPO_ROOT } from '../../helpers/project.js';

/**
 * Real cargo in the toolchain container, on a copy of the feature-unification fixture, mounted
 * the way build/builder/compile.ts mounts a workspace (read-only at /work, the target folder and
 * CARGO_HOME as bind mounts, as the caller's uid). It shows that building functions together can
 * change a function's bytes, and that the runs planCargoRuns gives do not.
 */
const FIXTURE = path.join(REPO_ROOT, '__tests__/fixtures/workspaces/feature-unification');
const TRIPLE = 'x86_64-unknown-linux-gnu';
const PROFILE = 'release';

const fn = (pkg: string, binary = pkg): PlannedFunction => ({ package: pkg, binary, features: [], packageBinaries: [binary] });
const A = fn('fn-a');
const B = fn('fn-b');
const C = fn('fn-c');
const D = fn('fn-d', 'fn-a');
const E = fn('fn-e');

let root: string;
let workspace: string;
let target: string;
let cargoHome: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-features-'));
  workspace = path.join(root, 'workspace');
  target = path.join(root, 'target');
  cargoHome = path.join(root, 'cargo-home');
  copyWorkspace(FIXTURE, workspace);
  fs.mkdirSync(target);
  fs.mkdirSync(cargoHome);
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

function userArgs(): string[] {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  return uid === undefined || gid === undefined ? [] : ['--user', `${uid}:${gid}`];
}

/** Runs a command in the toolchain container; fails the test with its output if it fails. */
async function inContainer(command: string[], env: Record<string, string> = {}): Promise<{ stdout: string; all: string }> {
  const run = await execa(
    DOCKER,
    [
      'run',
      '--rm',
      ...userArgs(),
      '-v',
      `${workspace}:/work:ro`,
      '-v',
      `${target}:/cache/target`,
      '-v',
      `${cargoHome}:/cache/cargo-home`,
      '-e',
      'CARGO_TARGET_DIR=/cache/target',
      '-e',
      'CARGO_HOME=/cache/cargo-home',
      '-e',
      'HOME=/tmp',
      ...Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]),
      '-w',
      '/work',
      TOOLCHAIN_IMAGE,
      ...command,
    ],
    { reject: false, all: true },
  );
  if (run.exitCode !== 0) throw new Error(`${command.join(' ')} failed (exit code ${run.exitCode}):\n${run.all}`);
  return { stdout: run.stdout, all: String(run.all) };
}

const tree = async (f: CargoFunction): Promise<ResolvedFeatures> =>
  parseFeatureTree((await inContainer(featureTreeCommand(f, TRIPLE))).stdout);
const captured = (name: string): ResolvedFeatures =>
  parseFeatureTree(fs.readFileSync(path.join(REPO_ROOT, `__tests__/fixtures/cargo-tree/${name}.txt`), 'utf8'));
const binaryPath = (name: string) => path.join(target, TRIPLE, PROFILE, name);
const bytesOf = (name: string) => fs.readFileSync(binaryPath(name));
const runBinary = async (name: string) => (await execa(binaryPath(name), [])).stdout;

describeWithDocker('feature unification across the functions of one cargo run (real cargo)', () => {
  const trees = new Map<PlannedFunction, ResolvedFeatures>();
  beforeAll(async () => {
    for (const f of [A, B, C, D, E]) trees.set(f, await tree(f));
  });

  it('cargo tree says fn-b turns on a feature of common that fn-a does not, and fn-c agrees with fn-a', async () => {
    expect(featuresAgree(trees.get(A)!, trees.get(B)!)).toEqual({
      agree: false,
      package: 'common',
      packageId: 'common v0.1.0 (/work/crates/common)',
      kind: 'target',
      a: [],
      b: ['loud'],
    });
    expect(featuresAgree(trees.get(A)!, trees.get(C)!)).toEqual({ agree: true });
    // The captured outputs the unit tests read are still what this cargo prints.
    expect(Object.fromEntries(trees.get(A)!)).toEqual(Object.fromEntries(captured('fn-a')));
    expect(Object.fromEntries(trees.get(B)!)).toEqual(Object.fromEntries(captured('fn-b')));
    expect(Object.fromEntries(trees.get(E)!)).toEqual(Object.fromEntries(captured('fn-e')));
    const rich = await tree({ package: 'fn-e', binary: 'fn-e', features: ['chatty', 'extra', 'quick'] });
    expect(Object.fromEntries(rich)).toEqual(Object.fromEntries(captured('fn-e-chatty-extra-quick')));
  });

  it("reads host and target units exactly as cargo's own build plan (--unit-graph) has them", async () => {
    // --unit-graph is unstable; RUSTC_BOOTSTRAP=1 lets a stable cargo print it. Used here only
    // as an oracle for the parser: it lists every unit `cargo build` would compile.
    const features = ['chatty', 'extra', 'quick'];
    const graph = JSON.parse(
      await inContainer(
        [
          'cargo',
          'build',
          '--locked',
          '--unit-graph',
          '-Z',
          'unstable-options',
          '--target',
          TRIPLE,
          '--package',
          'fn-e',
          '--bin',
          'fn-e',
          '--features',
          features.join(','),
        ],
        { RUSTC_BOOTSTRAP: '1' },
      ).then((run) => run.stdout),
    ) as { units: { pkg_id: string; platform: string | null; features: string[]; target: { kind: string[] } }[] };
    const fromPlan = new Map<string, Record<string, string[]>>();
    for (const unit of graph.units) {
      if (unit.target.kind.includes('custom-build')) continue; // build scripts are not in cargo tree
      const name = unit.pkg_id.split(' ')[0]!;
      fromPlan.set(name, { ...fromPlan.get(name), [unit.platform === null ? 'host' : 'target']: [...unit.features].sort() });
    }
    const fromTree = new Map<string, Record<string, readonly string[]>>();
    for (const [id, kinds] of await tree({ package: 'fn-e', binary: 'fn-e', features })) fromTree.set(id.split(' ')[0]!, { ...kinds });
    expect(Object.fromEntries(fromTree)).toEqual(Object.fromEntries(fromPlan));
    expect(fromPlan.get('common')).toEqual({ target: ['loud'], host: ['loud', 'verbose'] });
  });

  it("building fn-a next to fn-b changes fn-a's bytes; the runs planCargoRuns gives do not", async () => {
    await inContainer(cargoBuildArgs([A], PROFILE, TRIPLE));
    const alone = bytesOf('fn-a');
    expect(await runBinary('fn-a')).toBe('fn-a: hello from common');

    // The naive run: what cargoBuildArgs writes for fn-a and fn-b, which the planner would not group.
    const naive = cargoBuildArgs([A, B], PROFILE, TRIPLE);
    expect(naive).toEqual([
      ...cargoBuildArgs([A], PROFILE, TRIPLE).slice(0, 7),
      '-p',
      'fn-a',
      '--bin',
      'fn-a',
      '-p',
      'fn-b',
      '--bin',
      'fn-b',
    ]);
    await inContainer(naive);
    expect(bytesOf('fn-a').equals(alone)).toBe(false);
    expect(await runBinary('fn-a')).toBe('fn-a: HELLO FROM COMMON, LOUDLY');

    const resolved = (f: PlannedFunction) => trees.get(f)!;
    const pair = planCargoRuns([A, C], resolved);
    expect(pair).toEqual({ runs: [[A, C]], splits: [] });
    await inContainer(cargoBuildArgs(pair.runs[0]!, PROFILE, TRIPLE));
    expect(bytesOf('fn-a').equals(alone)).toBe(true);
    expect(await runBinary('fn-c')).toBe('fn-c: hello from common');

    // All five: fn-e joins fn-a and fn-c, because its loud common is a host unit (build script and
    // proc-macro), apart from the common fn-a links; fn-b and fn-d get runs of their own.
    const all = planCargoRuns([A, B, C, D, E], resolved);
    expect(all.runs).toEqual([[A, C, E], [B], [D]]);
    expect(all.splits).toEqual([
      'fn-b builds in run 2, not run 1: fn-b turns on common/loud, which fn-a does not',
      'fn-d (binary fn-a) builds in run 3, not run 1: fn-d (binary fn-a)\'s binary "fn-a" is also a binary of package fn-a, and one run would write both to the same file; not run 2: fn-b turns on common/loud, which fn-d (binary fn-a) does not',
    ]);
    await inContainer(cargoBuildArgs(all.runs[0]!, PROFILE, TRIPLE));
    expect(bytesOf('fn-a').equals(alone)).toBe(true);
    expect(await runBinary('fn-e')).toBe(
      'fn-e: hello from common / build script saw: HELLO FROM COMMON, LOUDLY / macro saw: HELLO FROM COMMON, LOUDLY / stamped',
    );
  });

  it('cargo only warns when two packages of one run have a binary of the same name, and one overwrites the other', async () => {
    const { all: log } = await inContainer([
      'cargo',
      'build',
      '--locked',
      '--profile',
      PROFILE,
      '--target',
      TRIPLE,
      '-p',
      'fn-a',
      '-p',
      'fn-d',
      '--bin',
      'fn-a',
    ]);
    expect(log).toContain('warning: output filename collision.');
    expect(log).toContain('The bin target `fn-a` in package `fn-d v0.1.0 (/work/crates/fn-d)` has the same output filename');
    expect(['fn-a: hello from common', 'fn-d (binary fn-a): hello from common']).toContain(await runBinary('fn-a'));
  });

  it('measures a container start and a cargo tree call in the container', async () => {
    const starts: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const began = performance.now();
      await execa(DOCKER, ['run', '--rm', TOOLCHAIN_IMAGE, 'true']);
      starts.push(performance.now() - began);
    }
    // Three calls in one container: the first writes cargo's rustc cache to the target folder
    // (already there from the builds above), the rest read it.
    const quoted = featureTreeCommand(A, TRIPLE)
      .map((arg) => `'${arg}'`)
      .join(' ');
    const script = `for i in 1 2 3; do s=$(date +%s%N); ${quoted} > /tmp/tree; e=$(date +%s%N); echo "ms $(( (e - s) / 1000000 ))"; done; cat /tmp/tree`;
    const output = (await inContainer(['sh', '-c', script])).stdout;
    const treeMs = [...output.matchAll(/^ms (\d+)$/gm)].map((m) => Number(m[1]));
    expect(treeMs).toHaveLength(3);
    expect(Object.fromEntries(parseFeatureTree(output.replace(/^ms \d+\n/gm, '')))).toEqual(Object.fromEntries(captured('fn-a')));
    console.log(`container start (docker run --rm ${TOOLCHAIN_IMAGE} true): ${starts.map((ms) => `${Math.round(ms)} ms`).join(', ')}`);
    console.log(`cargo tree in the container: ${treeMs.map((ms) => `${ms} ms`).join(', ')}`);
  });
});
