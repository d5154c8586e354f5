import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { unzipSync } from 'fflate';
import { type ArtifactResult, ensureArtifacts } from '../../build/engine/engine.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import type { ArtifactOptions } from '../../build/options/schema.js';
import { SweepError } from '../../build/support/errors.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { runCli } from '../helpers/cli.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import { sha256Hex as sha256 } from '../helpers/hash.js';
import { appendLine, makeTestProject, projectAt, REPO_ROOT, type TestProject } from '../helpers/project.js';

/**
 * Many functions of one Cargo workspace through the engine, with the real Docker engine and
 * cargo (issue 11). Each describe makes one cold build in beforeAll; every test works on its own
 * copy of that project (timestamps kept, so cargo's fingerprints stay fresh and only what a test
 * changes is compiled again), so each test passes alone and in any order.
 *
 * "Exactly one cargo run" is counted from the engine's log: it writes one `compile: cargo build
 * ...` line per cargo invocation, prefixed with the batch's names.
 */
const MULTI = path.join(REPO_ROOT, '__tests__/fixtures/workspaces/multi-function');
const FEATURES = path.join(REPO_ROOT, '__tests__/fixtures/workspaces/feature-unification');
const FUNCTIONS = ['api', 'worker', 'scheduler', 'reporter'] as const;
const HEAD = 'cargo build --locked --profile release --target x86_64-unknown-linux-gnu';
/** What each function's bootstrap prints, with the shared crate's version marker. */
const PRINTS: Record<(typeof FUNCTIONS)[number], string> = {
  api: 'api: 200 OK',
  worker: 'worker: processed 0 jobs',
  scheduler: 'scheduler: next run at minute 15',
  reporter: 'reporter: report sent',
};
const printed = (name: (typeof FUNCTIONS)[number], shared = 'v1') => `${PRINTS[name]} (shared ${shared})`;

/** The environment every engine call and CLI run here gets, and nothing else from the host's. */
const ENV = { SWEEP_DOCKER: DOCKER };

/** Options of a fixture function whose package and binary are both `name`. */
function fn(root: string, name: string, extra: ArtifactOptions = {}, env: Record<string, string> = {}) {
  return resolveArtifactOptions(
    { projectRoot: root, package: name, binary: name, name, toolchainImage: TOOLCHAIN_IMAGE, ...extra },
    { env: { ...ENV, ...env } },
  );
}

interface Run {
  readonly results: ArtifactResult[];
  readonly lines: string[];
  /** One artifact's lines, without its `[name] ` prefix. */
  of(name: string): string[];
  /** The `cargo build ...` commands of the run's compile lines, one per cargo invocation. */
  readonly compiles: string[];
  readonly ms: number;
}

async function ensure(list: ReturnType<typeof fn>[]): Promise<Run> {
  const output = createRecordingOutput();
  const started = performance.now();
  const results = await ensureArtifacts(list, { output });
  return { results, ...recorded(output), ms: performance.now() - started };
}

/** ensureArtifacts, which must fail: its error and what it logged. */
async function ensureFailing(list: ReturnType<typeof fn>[]): Promise<Omit<Run, 'results' | 'ms'> & { error: SweepError }> {
  const output = createRecordingOutput();
  try {
    await ensureArtifacts(list, { output });
  } catch (error) {
    expect(error).toBeInstanceOf(SweepError);
    return { error: error as SweepError, ...recorded(output) };
  }
  throw new Error(`expected ensureArtifacts to fail; it logged:\n${output.lines.join('\n')}`);
}

function recorded(output: ReturnType<typeof createRecordingOutput>) {
  return {
    lines: output.lines,
    of: output.of,
    compiles: output.lines.map((line) => /^\[[^\]]+\] compile: (cargo build .*)$/.exec(line)?.[1]).filter((c) => c !== undefined),
  };
}

/** A copy of a prepared project, timestamps kept (cargo's fingerprints use mtimes). */
function copyProject(from: TestProject, prefix: string): TestProject {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.cpSync(from.root, root, { recursive: true, preserveTimestamps: true });
  return projectAt(root);
}

function replaceIn(file: string, from: string, to: string): void {
  const text = fs.readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  fs.writeFileSync(file, text.replace(from, to));
}

const bytesOf = (file: string) => fs.readFileSync(file);

let bootstraps = 0;
/** Runs the `bootstrap` inside a zip (a std-only program that prints one line) and returns what it printed. */
async function runBootstrap(zipPath: string): Promise<string> {
  const entries = unzipSync(fs.readFileSync(zipPath));
  expect(Object.keys(entries)).toEqual(['bootstrap']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-bootstrap-'));
  try {
    const file = path.join(dir, `bootstrap-${++bootstraps}`);
    fs.writeFileSync(file, entries.bootstrap!, { mode: 0o755 });
    return (await execa(file, [], { stdin: 'ignore' })).stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The metadata the engine committed for `name`, and whether the zip on disk is the one it vouches for. */
function committed(project: TestProject, name: string, dist = project.dist) {
  const metadata = JSON.parse(fs.readFileSync(path.join(dist, `${name}.json`), 'utf8'));
  const zip = bytesOf(path.join(dist, `${name}.zip`));
  return { metadata, zip, matches: metadata.zip.sha256 === sha256(zip) };
}

/** Where the time went, for the report (no assertion on it). */
function logTime(what: string, run: { ms: number }): void {
  process.stdout.write(`[timing] ${what}: ${(run.ms / 1000).toFixed(1)} s\n`);
}

describeWithDocker('many functions of one workspace (multi-function fixture)', () => {
  let prepared: TestProject;
  let cold: Run;
  const copies: TestProject[] = [];
  const copy = () => {
    const project = copyProject(prepared, 'sweep-multi-copy-');
    copies.push(project);
    return project;
  };
  const all = (project: TestProject, extra: Partial<Record<string, ArtifactOptions>> = {}) =>
    FUNCTIONS.map((name) => fn(project.root, name, extra[name]));

  beforeAll(async () => {
    prepared = makeTestProject({ workspace: MULTI, prefix: 'sweep-multi-' });
    writeCdktfJson(prepared.root);
    cold = await ensure(all(prepared));
    logTime('cold build of four functions', cold);
  });
  afterAll(() => {
    for (const project of [...copies, prepared]) project?.remove();
  });

  it('GIVEN a cold workspace WHEN ensuring four functions THEN all miss, one cargo run builds them, each zip is verified and committed', async () => {
    expect(cold.results.map((r) => [r.name, r.outcome, r.via])).toEqual(FUNCTIONS.map((name) => [name, 'cache-miss', 'build']));
    expect(cold.compiles).toEqual([
      `${HEAD} -p api --bin api -p worker --bin worker -p scheduler --bin scheduler -p reporter --bin reporter`,
    ]);
    // No function needs a run of its own, so the planner says nothing about splitting.
    expect(cold.lines.filter((line) => / batch: /.test(line))).toEqual([]);
    for (const name of FUNCTIONS) {
      const lines = cold.of(name);
      expect(lines[0]).toBe('cache-miss: no metadata (first build)');
      expect(lines).toContainEqual(
        expect.stringMatching(/^verify: x86_64 ELF, dynamic, needs glibc 2\.\d+ \(provided\.al2023 has 2\.34\)$/),
      );
      expect(lines.at(-1)).toMatch(new RegExp(`^done: cache-miss, rebuilt dist/${name}\\.zip: `));
      const { metadata, matches } = committed(prepared, name);
      expect(matches).toBe(true);
      expect(metadata.settings.package).toBe(name);
      expect(await runBootstrap(path.join(prepared.dist, `${name}.zip`))).toBe(printed(name));
    }
  });

  it("GIVEN one function's crate edited WHEN ensuring all four THEN only it misses, and one cargo run compiles only its package", async () => {
    const project = copy();
    const before = Object.fromEntries(FUNCTIONS.map((name) => [name, committed(project, name)]));
    replaceIn(project.file('crates/worker/src/main.rs'), 'processed 0 jobs', 'processed 1 job');
    const run = await ensure(all(project));
    logTime("rebuild after editing one function's crate", run);

    expect(run.results.map((r) => [r.name, r.outcome, r.via])).toEqual([
      ['api', 'cache-hit', 'local'],
      ['worker', 'cache-miss', 'build'],
      ['scheduler', 'cache-hit', 'local'],
      ['reporter', 'cache-hit', 'local'],
    ]);
    expect(run.of('worker')[0]).toBe('cache-miss: changed crates/worker/src/main.rs');
    expect(run.compiles).toEqual([`${HEAD} --package worker --bin worker`]);
    // The persistent target folder kept the shared crate: cargo compiled the edited package only.
    const compiled = run.lines.filter((line) => /compile \|\s+Compiling /.test(line));
    expect(compiled).toEqual([expect.stringMatching(/^\[worker\] compile \|\s+Compiling worker v0\.1\.0/)]);
    for (const name of ['api', 'scheduler', 'reporter'] as const) {
      expect(run.of(name)[0]).toMatch(/^cache-hit: inputs unchanged since /);
      const after = committed(project, name);
      expect(after.metadata.builtAt).toBe(before[name]!.metadata.builtAt);
      expect(Buffer.compare(after.zip, before[name]!.zip)).toBe(0);
    }
    expect(committed(project, 'worker').matches).toBe(true);
    expect(await runBootstrap(path.join(project.dist, 'worker.zip'))).toBe('worker: processed 1 job (shared v1)');
  });

  it('GIVEN the shared crate edited WHEN ensuring all four THEN every function misses and one cargo run builds them all', async () => {
    const project = copy();
    replaceIn(project.file('crates/shared/src/lib.rs'), '(shared v1)', '(shared v2)');
    const run = await ensure(all(project));
    logTime('rebuild of four functions after editing the shared crate', run);

    expect(run.results.map((r) => [r.name, r.outcome, r.via])).toEqual(FUNCTIONS.map((name) => [name, 'cache-miss', 'build']));
    expect(run.compiles).toEqual([
      `${HEAD} -p api --bin api -p worker --bin worker -p scheduler --bin scheduler -p reporter --bin reporter`,
    ]);
    // Features depend on manifests only: a source edit plans from the features cached by the cold build.
    expect(run.lines.filter((line) => / features: /.test(line))).toEqual([]);
    for (const name of FUNCTIONS) {
      expect(run.of(name)[0]).toBe('cache-miss: changed crates/shared/src/lib.rs');
      expect(run.of(name)).toContainEqual(expect.stringMatching(/^verify: x86_64 ELF/));
      expect(committed(project, name).matches).toBe(true);
      expect(await runBootstrap(path.join(project.dist, `${name}.zip`))).toBe(printed(name, 'v2'));
    }
  });

  it('GIVEN a comment-only edit of the shared crate WHEN ensuring all four THEN they miss, rebuild in one run, and every zip is byte-identical', async () => {
    const project = copy();
    const before = Object.fromEntries(FUNCTIONS.map((name) => [name, committed(project, name).zip]));
    appendLine(project.file('crates/shared/src/lib.rs'), '// a note that changes no code');
    const run = await ensure(all(project));

    expect(run.results.map((r) => r.outcome)).toEqual(FUNCTIONS.map(() => 'cache-miss'));
    expect(run.compiles).toHaveLength(1);
    for (const name of FUNCTIONS) {
      expect(run.of(name)[0]).toBe('cache-miss: changed crates/shared/src/lib.rs');
      expect(Buffer.compare(committed(project, name).zip, before[name]!)).toBe(0);
    }
  });

  it('GIVEN one function failing its checks in a shared run WHEN ensuring all four THEN the others are committed and the error names it', async () => {
    // The toolchain's glibc (2.31) gives every binary a GLIBC_2.28 symbol, which provided.al2
    // (glibc 2.26) does not have: a real binary that fails verification for one runtime only.
    const project = copy();
    const previousWorker = committed(project, 'worker');
    replaceIn(project.file('crates/shared/src/lib.rs'), '(shared v1)', '(shared v2)');
    const { error, compiles, of } = await ensureFailing(all(project, { worker: { runtime: 'provided.al2' } }));

    // The runtime does not change what cargo compiles, so worker still shared the one run.
    expect(compiles).toEqual([`${HEAD} -p api --bin api -p worker --bin worker -p scheduler --bin scheduler -p reporter --bin reporter`]);
    expect(error.stage).toBe('verify');
    expect(error.problem).toMatch(
      /^worker: bootstrap needs GLIBC_2\.\d+, but provided\.al2 has glibc 2\.26; the zip was not committed, the previous one is unchanged$/,
    );
    expect(of('worker').some((line) => line.startsWith('done:'))).toBe(false);
    // The failing function's previous zip and metadata are left as they were...
    const worker = committed(project, 'worker');
    expect(Buffer.compare(worker.zip, previousWorker.zip)).toBe(0);
    expect(worker.metadata).toEqual(previousWorker.metadata);
    // ...and the others are committed with the new code.
    for (const name of ['api', 'scheduler', 'reporter'] as const) {
      expect(of(name).at(-1)).toMatch(/^done: cache-miss, rebuilt /);
      expect(committed(project, name).matches).toBe(true);
      expect(await runBootstrap(path.join(project.dist, `${name}.zip`))).toBe(printed(name, 'v2'));
    }
    // So the next run has only the failed function left to build.
    const next = await ensure(all(project));
    expect(next.results.map((r) => [r.name, r.outcome])).toEqual([
      ['api', 'cache-hit'],
      ['worker', 'cache-miss'],
      ['scheduler', 'cache-hit'],
      ['reporter', 'cache-hit'],
    ]);
    expect(next.compiles).toEqual([`${HEAD} --package worker --bin worker`]);
  });

  it('GIVEN one function that does not compile in a shared run WHEN ensuring all four THEN the others are committed and only it is named', async () => {
    // cargo runs with --keep-going: it builds every crate it can, and its JSON messages say which
    // binaries it made, so one broken function neither blocks nor is blamed on the others, in one run.
    const project = copy();
    const previousWorker = committed(project, 'worker');
    replaceIn(project.file('crates/shared/src/lib.rs'), '(shared v1)', '(shared v2)');
    replaceIn(project.file('crates/worker/src/main.rs'), 'println!', 'printline!');
    const { error, compiles, lines, of } = await ensureFailing(all(project));

    expect(error.stage).toBe('compile');
    expect(error.problem).toBe('worker: cargo could not build worker (exit code 101); its messages are above');
    // cargo's messages were streamed once, as they came; the error does not repeat them.
    expect(error.details).toBeUndefined();
    expect(lines.filter((line) => line.includes('could not compile `worker`'))).toHaveLength(1);
    expect(compiles).toEqual([`${HEAD} -p api --bin api -p worker --bin worker -p scheduler --bin scheduler -p reporter --bin reporter`]);
    expect(Buffer.compare(committed(project, 'worker').zip, previousWorker.zip)).toBe(0);
    for (const name of ['api', 'scheduler', 'reporter'] as const) {
      expect(of(name).at(-1)).toMatch(/^done: cache-miss, rebuilt /);
      expect(await runBootstrap(path.join(project.dist, `${name}.zip`))).toBe(printed(name, 'v2'));
    }
  });

  describe('the CLI', () => {
    const cli = (project: TestProject, args: string[]) => sweepRuntime(args, project.root);
    const verdicts = (stdout: string) => stdout.split('\n').filter((line) => /^\[[^\]]+\] cache-(hit|miss)/.test(line));

    it('status prints one hit or miss line per function, without Docker', async () => {
      const project = copy();
      replaceIn(project.file('crates/scheduler/src/main.rs'), 'next run', 'next job');
      const run = await sweepRuntime(['status'], project.root, { SWEEP_DOCKER: '/nonexistent/docker-that-must-not-run' });
      expect(run.exitCode).toBe(0);
      expect(verdicts(run.stdout)).toEqual([
        '[api] cache-hit',
        '[worker] cache-hit',
        '[scheduler] cache-miss: changed crates/scheduler/src/main.rs',
        '[reporter] cache-hit',
      ]);
    });

    it('--function NAME acts on that function only: build rebuilds it, status shows it alone', async () => {
      const project = copy();
      replaceIn(project.file('crates/shared/src/lib.rs'), '(shared v1)', '(shared v2)');
      const build = await cli(project, ['build', '--function', 'reporter']);
      expect(build.exitCode).toBe(0);
      expect(build.stdout).toContain(`[reporter] compile: ${HEAD} --package reporter --bin reporter`);
      expect(build.stdout.split('\n').filter((line) => line.startsWith('[') && !line.startsWith('[reporter] '))).toEqual([]);
      expect(await runBootstrap(path.join(project.dist, 'reporter.zip'))).toBe(printed('reporter', 'v2'));

      const status = await cli(project, ['status']);
      expect(verdicts(status.stdout)).toEqual([
        '[api] cache-miss: changed crates/shared/src/lib.rs',
        '[worker] cache-miss: changed crates/shared/src/lib.rs',
        '[scheduler] cache-miss: changed crates/shared/src/lib.rs',
        '[reporter] cache-hit',
      ]);
      const one = await cli(project, ['status', '--function', 'worker', '--function', 'api']);
      expect(one.exitCode).toBe(0);
      expect(verdicts(one.stdout)).toEqual([
        '[api] cache-miss: changed crates/shared/src/lib.rs',
        '[worker] cache-miss: changed crates/shared/src/lib.rs',
      ]);
      expect(one.stdout.split('\n').every((line) => line === '' || /^\[(api|worker)\] /.test(line))).toBe(true);
    });

    it('an unknown --function is an error that lists the known ones, and builds nothing', async () => {
      const project = copy();
      const run = await cli(project, ['build', '--function', 'mailer']);
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain('mailer');
      expect(run.stderr).toContain('the name of a function in cdktf.json (api, worker, scheduler, reporter)');
      expect(run.stdout).toBe('');
    });
  });
});

describeWithDocker('feature unification and binary names through the engine (feature-unification fixture)', () => {
  let prepared: TestProject;
  let solo: Run;
  const copies: TestProject[] = [];
  const copy = () => {
    const project = copyProject(prepared, 'sweep-features-copy-');
    copies.push(project);
    return project;
  };
  // fn-d's package has a binary named fn-a, like package fn-a's. The fixture's release binaries
  // keep std's debug info (10 MiB); stripped (a build variable, so every build here has it) they
  // zip in a fraction of the time, and what is compared is unchanged: the code each one links.
  const fnOf = (project: TestProject, name: string, distDir: string) =>
    fn(project.root, name, { binary: name === 'fn-d' ? 'fn-a' : name, distDir }, { CARGO_PROFILE_RELEASE_STRIP: 'true' });
  const soloZip = () => bytesOf(path.join(prepared.dist, 'fn-a.zip'));

  beforeAll(async () => {
    prepared = makeTestProject({ workspace: FEATURES, prefix: 'sweep-features-' });
    solo = await ensure([fnOf(prepared, 'fn-a', 'dist')]);
    logTime('cold build of fn-a alone', solo);
  });
  afterAll(() => {
    for (const project of [...copies, prepared]) project?.remove();
  });

  it('GIVEN fn-a built alone THEN it links common without `loud`', async () => {
    expect(solo.compiles).toEqual([`${HEAD} --package fn-a --bin fn-a`]);
    expect(await runBootstrap(path.join(prepared.dist, 'fn-a.zip'))).toBe('fn-a: hello from common');
  });

  it('GIVEN fn-a with fn-b (which turns on common/loud) and fn-c THEN fn-b is split off and fn-a has the bytes it has built alone', async () => {
    const project = copy();
    const dist = path.join(project.root, 'dist-together');
    const run = await ensure(['fn-a', 'fn-b', 'fn-c'].map((name) => fnOf(project, name, 'dist-together')));
    logTime('fn-a, fn-b and fn-c in one call', run);

    expect(run.results.map((r) => r.outcome)).toEqual(['cache-miss', 'cache-miss', 'cache-miss']);
    expect(run.lines).toContain(
      '[fn-a, fn-b, fn-c] batch: fn-b builds in run 2, not run 1: fn-b turns on common/loud, which fn-a does not',
    );
    expect(run.compiles).toEqual([`${HEAD} -p fn-a --bin fn-a -p fn-c --bin fn-c`, `${HEAD} --package fn-b --bin fn-b`]);
    expect(Buffer.compare(bytesOf(path.join(dist, 'fn-a.zip')), soloZip())).toBe(0);
    expect(await runBootstrap(path.join(dist, 'fn-a.zip'))).toBe('fn-a: hello from common');
    expect(await runBootstrap(path.join(dist, 'fn-b.zip'))).toBe('fn-b: HELLO FROM COMMON, LOUDLY');
    expect(await runBootstrap(path.join(dist, 'fn-c.zip'))).toBe('fn-c: hello from common');
  });

  it.each([
    ['fn-a first', ['fn-a', 'fn-d']],
    ['fn-d first', ['fn-d', 'fn-a']],
  ])(
    'GIVEN packages fn-a and fn-d with binaries both named fn-a (%s) THEN two cargo runs, and each zip holds its own binary',
    async (_, order) => {
      const project = copy();
      const dist = path.join(project.root, 'dist-names');
      const run = await ensure(order.map((name) => fnOf(project, name, 'dist-names')));

      const [first, second] = order;
      expect(run.lines.filter((line) => / batch: /.test(line))).toEqual([
        `[${first}, ${second}] batch: ${second} builds in run 2, not run 1: ${second}'s binary "fn-a" is also a binary of package ${first}, and one run would write both to the same file`,
      ]);
      expect(run.compiles).toEqual([`${HEAD} --package ${first} --bin fn-a`, `${HEAD} --package ${second} --bin fn-a`]);
      // cargo writes both binaries to the same file; each zip must still hold its own function's.
      expect(await runBootstrap(path.join(dist, 'fn-a.zip'))).toBe('fn-a: hello from common');
      expect(await runBootstrap(path.join(dist, 'fn-d.zip'))).toBe('fn-d (binary fn-a): hello from common');
      expect(Buffer.compare(bytesOf(path.join(dist, 'fn-a.zip')), soloZip())).toBe(0);
    },
  );
});

/**
 * cdktf.json with the four functions (the CLI reads it; the engine calls above pass their
 * options directly, with the same values, so both see the same cache).
 */
function writeCdktfJson(root: string): void {
  const functions = Object.fromEntries(FUNCTIONS.map((name) => [name, { artifact: { package: name, binary: name } }]));
  const sweep = { artifact: { workspace: 'rust', toolchainImage: TOOLCHAIN_IMAGE }, functions };
  fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify({ language: 'typescript', app: 'true', context: { sweep } }, null, 2));
}

/** `sweep-runtime` with only PATH, HOME and this file's environment (a host's RUSTFLAGS or FORCE_REBUILD would change what it sees). */
function sweepRuntime(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runCli(args, { cwd, env: { ...ENV, ...env }, isolated: true });
}
