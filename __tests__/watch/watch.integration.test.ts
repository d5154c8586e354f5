import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { execaSync, type ResultPromise } from 'execa';
import { builtProject } from '../helpers/built-project.js';
import { runCli, startCli } from '../helpers/cli.js';
import { DOCKER, describeWithDocker, TOOLCHAIN_IMAGE } from '../helpers/docker.js';
import type { TestProject } from '../helpers/project.js';
import { artifactKey, removeBuildContainersOf } from '../trust/support.js';

/**
 * `sweep-runtime watch` as a developer runs it, on a copy of a built project with the real Docker
 * engine, cargo and the SDK's LambdaClient: a save is rebuilt in the warm container and the next
 * invocation answers with the new code; a compile error is shown once and the next save
 * recovers; a settings change in cdktf.json re-registers the function; Ctrl-C leaves no container
 * and no lock. No timing is asserted: waits are for lines and answers.
 */
const FUNCTION = 'sweep-lambda';
const DEPLOYED = 'sweep-watch-test';
const MAIN_RS = 'crates/sweep-lambda/src/main.rs';
const SQUARE = { start: 0, stop: 10, step: 2.5, function: 'square' };
/** The line of sweep-lambda's `invoke` an edit changes: the answer then starts with `{"edit":N,`. */
const ANSWER_LINE = '        .map_err(|e| report(&e))';
const env = { SWEEP_TOOLCHAIN_IMAGE: TOOLCHAIN_IMAGE };

/** One function, as the built template has it (same package, binary and name: its zip is a hit). */
function writeCdktfJson(project: TestProject, environment: Record<string, string> = {}): void {
  const sweep = {
    artifact: { workspace: 'rust' },
    functions: { [FUNCTION]: { functionName: DEPLOYED, environment, artifact: { package: FUNCTION, binary: 'bootstrap' } } },
  };
  fs.writeFileSync(path.join(project.root, 'cdktf.json'), JSON.stringify({ app: 'true', context: { sweep } }, null, 2));
}

/** sweep-lambda's main.rs, answering `{"edit":n,...}`; 'broken' does not compile. */
function editMain(project: TestProject, original: string, version: number | 'broken'): void {
  if (!original.includes(ANSWER_LINE)) throw new Error(`${MAIN_RS} no longer has the line the tests edit: ${ANSWER_LINE}`);
  const edited =
    version === 'broken'
      ? `${original}\nfn broken() -> u32 {\n    "not a number"\n}\n`
      : original.replace(ANSWER_LINE, `        .map(|body| body.replacen('{', "{\\"edit\\":${version},", 1))\n${ANSWER_LINE}`);
  fs.writeFileSync(project.file(MAIN_RS), edited);
}

/** A running watch: its output so far, waits on it, and the Invoke API through the SDK. */
interface Watching {
  readonly child: ResultPromise<{ all: true }>;
  readonly client: LambdaClient;
  output(): string;
  /** Resolves with the output's length once `pattern` matches the output after `from`. */
  waitFor(pattern: RegExp, from?: number): Promise<number>;
  /** The function's answer to the square sweep: its payload, and whether it was a function error. */
  invoke(payload?: unknown): Promise<{ body: string; functionError?: string }>;
}

/** Every watch a test started, killed after it whatever happened. */
const started: ResultPromise[] = [];

async function startWatch(project: TestProject): Promise<Watching> {
  const child = startCli(['watch', '--port', '0'], { cwd: project.root, env });
  started.push(child);
  let seen = '';
  const waiters = new Set<() => void>();
  child.all.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  let ended = false;
  void child.then(() => {
    ended = true;
    for (const waiter of waiters) waiter();
  });
  const waitFor = (pattern: RegExp, from = 0) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        if (pattern.test(seen.slice(from))) {
          waiters.delete(check);
          resolve(seen.length);
        } else if (ended) {
          waiters.delete(check);
          reject(new Error(`watch ended before printing ${pattern}:\n${seen}`));
        }
      };
      waiters.add(check);
      check();
    });
  await waitFor(/\[watch\] ready: .*\n\[watch\] Invoke API on http:\/\/127\.0\.0\.1:\d+/);
  const endpoint = /Invoke API on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen)![1]!;
  const client = new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIALOCALTEST', secretAccessKey: 'local-test-secret' },
    maxAttempts: 1,
  });
  return {
    child,
    client,
    output: () => seen,
    waitFor,
    async invoke(payload = SQUARE) {
      const out = await client.send(new InvokeCommand({ FunctionName: DEPLOYED, Payload: Buffer.from(JSON.stringify(payload)) }));
      return { body: Buffer.from(out.Payload!).toString('utf8'), functionError: out.FunctionError };
    },
  };
}

/** Build containers whose owner is this pid (a watch's warm container is one). */
function containersOwnedBy(pid: number): string[] {
  const { stdout } = execaSync(DOCKER, [
    'ps',
    '-a',
    '--filter',
    'label=org.sweep.build',
    '--format',
    '{{.Names}}\t{{.Label "org.sweep.owner"}}',
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.split('\t')[1]?.split(':')[1] === String(pid))
    .map((line) => line.split('\t')[0]!);
}

describeWithDocker('sweep-runtime watch', () => {
  const prepared = builtProject();
  beforeAll(() => prepared.build());
  afterAll(() => prepared.remove());

  let project: TestProject;
  let original: string;
  let watching: Watching | undefined;
  beforeEach(() => {
    project = prepared.copy('sweep-watch-');
    writeCdktfJson(project);
    original = fs.readFileSync(project.file(MAIN_RS), 'utf8');
  });
  afterEach(async () => {
    watching?.client.destroy();
    watching = undefined;
    for (const child of started.splice(0)) {
      child.kill('SIGKILL');
      await child.catch(() => undefined);
    }
    removeBuildContainersOf(artifactKey(project.root, FUNCTION)); // only this project's artifact carries this key
    project.remove();
  });

  it('GIVEN a save of the Lambda crate THEN it is rebuilt in the warm container, the next invocation runs the new code, status is a hit, and Ctrl-C leaves no container and no lock', async () => {
    watching = await startWatch(project);
    const { child } = watching;
    expect(watching.output()).toMatch(/\[sweep-lambda\] builder: started the warm container sweep-warm-\S+/);
    expect(watching.output()).toMatch(/\[watch\] build #1 \(start\) done in \S+ \S+: sweep-lambda unchanged \(cache-hit\) \(1 served\)/);
    expect(watching.output()).toContain(`--function-name ${DEPLOYED}`);
    const before = await watching.invoke();
    expect(before).toEqual({ body: expect.stringMatching(/^\{"function":"square","count":5,/), functionError: undefined });

    const mark = watching.output().length;
    editMain(project, original, 1);
    await watching.waitFor(/\[watch\] build #2 \(\S*main\.rs\) done in \S+ \S+: sweep-lambda rebuilt/, mark);
    const rebuild = watching.output().slice(mark);
    // The engine's own lines: the miss and why, cargo in the kept container (no new one started).
    expect(rebuild).toContain('[sweep-lambda] cache-miss: changed crates/sweep-lambda/src/main.rs');
    expect(rebuild).toContain('[sweep-lambda] compile: cargo build --locked');
    expect(rebuild).not.toContain('builder: started');
    expect(await watching.invoke()).toEqual({
      body: expect.stringMatching(/^\{"edit":1,"function":"square","count":5,/),
      functionError: undefined,
    });

    // What the save built is what a deploy would find: a hit, nothing left to build.
    const status = await runCli(['status'], { cwd: project.root, env });
    expect(status.stdout.split('\n')[0]).toBe('[sweep-lambda] cache-hit');

    expect(containersOwnedBy(child.pid!)).toHaveLength(1);
    child.kill('SIGINT');
    const ended = await child;
    expect(ended.exitCode).toBe(130);
    expect(String(ended.stdout)).toMatch(/\[watch\] stopped by SIGINT; removed the warm builder container sweep-warm-\S+$/);
    expect(containersOwnedBy(child.pid!)).toEqual([]);
    expect(fs.readdirSync(project.dist).filter((file) => file.endsWith('.lock'))).toEqual([]);
    expect(fs.existsSync(path.join(project.cache, 'cargo-target.lock'))).toBe(false);
  });

  it('GIVEN a watch killed with SIGKILL THEN its idle container outlives it, and the next build of its function removes it as an orphan', async () => {
    watching = await startWatch(project);
    const { child } = watching;
    const [name] = containersOwnedBy(child.pid!);
    expect(name).toMatch(/^sweep-warm-/);
    child.kill('SIGKILL');
    expect((await child).signal).toBe('SIGKILL');
    expect(containersOwnedBy(child.pid!)).toEqual([name]);

    const build = await runCli(['build', '--force-rebuild'], { cwd: project.root, env });
    expect(build.exitCode).toBe(0);
    expect(build.stdout).toContain(`[sweep-lambda] removed build container ${name} left by pid ${child.pid}, which is no longer running`);
    expect(containersOwnedBy(child.pid!)).toEqual([]);
  });

  it('GIVEN a save that does not compile THEN the error is shown once, the previous code is still served, and the next save recovers', async () => {
    watching = await startWatch(project);
    let mark = watching.output().length;
    editMain(project, original, 'broken');
    await watching.waitFor(
      /\[watch\] build #2 \(\S*main\.rs\) done in \S+ \S+: sweep-lambda failed \(compile\), still serving its previous code/,
      mark,
    );
    const failed = watching.output().slice(mark);
    // cargo's error as cargo printed it, once; then the engine's error, without repeating it.
    expect(failed.match(/error\[E0308\]: mismatched types/g)).toHaveLength(1);
    expect(failed.match(/error \(compile\): cargo could not build sweep-lambda \(exit code 101\); its messages are above/g)).toHaveLength(
      1,
    );
    expect(failed).toContain('[sweep-lambda]   fix: fix the errors cargo printed above; the previous zip and metadata are unchanged');
    expect((await watching.invoke()).body).toMatch(/^\{"function":"square",/);
    expect(watching.child.exitCode).toBeNull();

    mark = watching.output().length;
    editMain(project, original, 2);
    await watching.waitFor(/\[watch\] build #3 \(\S*main\.rs\) done in \S+ \S+: sweep-lambda rebuilt/, mark);
    expect((await watching.invoke()).body).toMatch(/^\{"edit":2,"function":"square",/);
  });

  it('GIVEN a second save while the first is compiling THEN the last save is what is committed and served', async () => {
    watching = await startWatch(project);
    const mark = watching.output().length;
    editMain(project, original, 1);
    await watching.waitFor(/\[sweep-lambda\] compile: cargo build/, mark);
    editMain(project, original, 2);
    // The engine refuses to commit the first save's zip (its sources changed during the compile)
    // or commits it and the follow-up build commits the second: either way the second is served.
    for (;;) {
      const { body } = await watching.invoke();
      if (body.startsWith('{"edit":2,')) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await watching.waitFor(/\[watch\] build #\d+ \([^)]*\) done in \S+ \S+: sweep-lambda (rebuilt|unchanged)/, mark);
    const status = await runCli(['status'], { cwd: project.root, env });
    expect(status.stdout.split('\n')[0]).toBe('[sweep-lambda] cache-hit');
  });

  it('GIVEN a function setting changed in cdktf.json THEN it is served again with it, without a build', async () => {
    watching = await startWatch(project);
    expect((await watching.invoke()).functionError).toBeUndefined();
    const mark = watching.output().length;
    writeCdktfJson(project, { SWEEP_MAX_POINTS: '3' });
    await watching.waitFor(/\[watch\] build #2 \(\S*cdktf\.json\) done in \S+ \S+: sweep-lambda unchanged \(cache-hit\)/, mark);
    // Five points are now more than the function allows: its new environment is the one it runs with.
    const limited = await watching.invoke();
    expect(limited.functionError).toBe('Unhandled');
    expect(JSON.parse(limited.body)).toMatchObject({
      errorMessage: 'too many points: start 0, stop 10, step 2.5 gives 5 points, the limit is 3',
    });
  });
});
