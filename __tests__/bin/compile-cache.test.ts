import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { REPO_ROOT } from '../helpers/project.js';

/**
 * bin/compile-cache.mjs, the real file, run by fresh node processes (`node bin/run-ts.mjs main.ts`,
 * as cdktf runs the app) on a small TypeScript project in a temp folder whose node_modules holds the
 * cache. Races are made deterministic with the file's test hook (SWEEP_COMPILE_CACHE_TEST_HOOK: a
 * module whose onRead(file) runs after a source is read, before esbuild compiles it), so a file is
 * saved exactly while a build runs; ages are set with utimes, never waited for.
 */
const RUN_TS = path.join(REPO_ROOT, 'bin', 'run-ts.mjs');
const COMPILE_CACHE = path.join(REPO_ROOT, 'bin', 'compile-cache.mjs');
const HOOK = 'SWEEP_COMPILE_CACHE_TEST_HOOK';
const DAY_AGO = () => new Date(Date.now() - 24 * 3600_000);

const MAIN_TS = `import { value } from './value.js';
console.log(\`value \${value}\`);
if (process.env.WAIT_FOR_STDIN) {
  console.log('ready');
  await new Promise((resolve) => process.stdin.once('data', resolve));
}
const { lazy } = await import('./lazy.js');
console.log(\`lazy \${lazy}\`);
`;

interface Project {
  readonly root: string;
  /** The cache folder of main.ts in the project's node_modules. */
  readonly folder: string;
  file(name: string): string;
  write(name: string, text: string): void;
  /** current.json of that folder. */
  current(): { build: string; inputs: Record<string, string> };
  build(name: string): string;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function makeProject(files: Record<string, string> = {}): Project {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-ccache-'));
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'node_modules'));
  fs.mkdirSync(path.join(root, 'home'));
  const all = { 'main.ts': MAIN_TS, 'value.ts': "export const value = 'one';\n", 'lazy.ts': "export const lazy = 'ok';\n", ...files };
  for (const [name, text] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), text);
  }
  const folder = path.join(root, 'node_modules', '.cache', 'aws-serverless-sweep', cacheFolderName(path.join(root, 'main.ts')));
  return {
    root,
    folder,
    file: (name) => path.join(root, name),
    write: (name, text) => fs.writeFileSync(path.join(root, name), text),
    current: () => JSON.parse(fs.readFileSync(path.join(folder, 'current.json'), 'utf8')),
    build: (name) => path.join(folder, name),
  };
}

/** `main-<first 16 hex of sha256(entry path)>`, as bench/project.ts's bundleCacheOf spells it. */
function cacheFolderName(entry: string): string {
  return `main-${createHash('sha256').update(entry).digest('hex').slice(0, 16)}`;
}

function childEnv(project: Project, env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: project.file('home'), XDG_CACHE_HOME: project.file('xdg'), ...env };
}

/** `node bin/run-ts.mjs main.ts` in the project (or `command` instead of run-ts). */
async function run(project: Project, env: Record<string, string> = {}, command: string[] = [RUN_TS, 'main.ts']) {
  const result = await execa(process.execPath, command, {
    cwd: project.root,
    env: childEnv(project, env),
    extendEnv: false,
    reject: false,
    timeout: 15_000,
  });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

/** Writes a hook module; `body` is the inside of `async function onRead(file)`, with `fs` and `log(line)` in scope. */
function hook(project: Project, body: string): { env: Record<string, string>; log: () => string[] } {
  const logFile = project.file(`hook-${cleanups.length}-${Math.random().toString(36).slice(2)}.log`);
  const file = `${logFile}.mjs`;
  fs.writeFileSync(
    file,
    `import * as fs from 'node:fs';\nconst log = (line) => fs.appendFileSync(${JSON.stringify(logFile)}, line + '\\n');\n` +
      `export async function onRead(file) {\n${body}\n}\n`,
  );
  return {
    env: { [HOOK]: file },
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').trim().split('\n') : []),
  };
}

describe('compile-cache: a build is recorded under what esbuild compiled', () => {
  it('GIVEN a source saved while esbuild compiles it THEN that build is not recorded: this run and the next run the saved text', async () => {
    const project = makeProject();
    const saveDuringBuild = hook(
      project,
      `log(file);
      if (file.endsWith('value.ts') && !globalThis.saved) {
        globalThis.saved = true;
        fs.writeFileSync(file, "export const value = 'saved';\\n");
      }`,
    );
    const first = await run(project, saveDuringBuild.env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('value saved');
    // The save really happened during a build: value.ts was read by a first attempt and again by a second.
    expect(saveDuringBuild.log().filter((file) => file.endsWith('value.ts'))).toHaveLength(2);

    const build = project.current().build;
    const watch = hook(project, 'log(file);');
    const second = await run(project, watch.env);
    expect(second.stdout).toContain('value saved');
    expect(project.current().build).toBe(build);
    expect(watch.log()).toEqual([]); // nothing compiled: the unchanged tree is a hit
  });

  it('GIVEN the package.json esbuild resolved a package with changes while the build runs THEN the build is made again from the new one', async () => {
    const project = makeProject({
      'main.ts': "import { pkg } from 'fakepkg';\nconsole.log(`pkg ${pkg}`);\n",
      'node_modules/fakepkg/package.json': JSON.stringify({ name: 'fakepkg', version: '1.0.0', main: 'v1.js' }),
      'node_modules/fakepkg/v1.js': "export const pkg = 'v1';\n",
      'node_modules/fakepkg/v2.js': "export const pkg = 'v2';\n",
    });
    const manifest = project.file('node_modules/fakepkg/package.json');
    // esbuild has read package.json (to resolve 'fakepkg' to v1.js) when v1.js is read: a reinstall lands then.
    const reinstall = hook(
      project,
      `log(file);
      if (file.endsWith('v1.js')) fs.writeFileSync(${JSON.stringify(manifest)}, JSON.stringify({ name: 'fakepkg', version: '2.0.0', main: 'v2.js' }));`,
    );
    const first = await run(project, reinstall.env);
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toContain('pkg v2');
    expect(reinstall.log().some((file) => file.endsWith('v1.js'))).toBe(true);

    const second = await run(project);
    expect(second.stdout).toContain('pkg v2');
  });

  it('GIVEN a source that changes during every build THEN it gives up after 3 attempts with an error and records nothing', async () => {
    const project = makeProject();
    const keepSaving = hook(
      project,
      `if (file.endsWith('value.ts')) {
        globalThis.saves = (globalThis.saves ?? 0) + 1;
        fs.writeFileSync(file, 'export const value = ' + JSON.stringify('save ' + globalThis.saves) + ';\\n');
        log(file);
      }`,
    );
    const failed = await run(project, keepSaving.env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).not.toContain('value');
    expect(failed.stderr).toContain('its inputs changed while esbuild read them, 3 times in a row');
    expect(failed.stderr).toContain(project.file('value.ts'));
    expect(keepSaving.log()).toHaveLength(3);
    expect(fs.existsSync(path.join(project.folder, 'current.json'))).toBe(false);

    const next = await run(project);
    expect(next.stdout).toContain('value save 3');
  });
});

describe('compile-cache: inputs besides the sources', () => {
  it('GIVEN tsconfig.json changes THEN the bundle is rebuilt with the new settings', async () => {
    const tsconfig = (useDefine: boolean) => JSON.stringify({ compilerOptions: { useDefineForClassFields: useDefine } });
    const project = makeProject({
      'main.ts': 'class Point {\n  x!: number;\n}\nconsole.log(`fields ${Object.keys(new Point()).length}`);\n',
      'tsconfig.json': tsconfig(false),
    });
    expect((await run(project)).stdout).toBe('fields 0');
    project.write('tsconfig.json', tsconfig(true));
    expect((await run(project)).stdout).toBe('fields 1');
  });

  it('GIVEN another esbuild version THEN the bundle is rebuilt', async () => {
    const project = makeProject();
    // A copy of compile-cache.mjs next to an esbuild package of our own: the real esbuild under another version.
    const tool = project.file('tool');
    fs.mkdirSync(path.join(tool, 'bin'), { recursive: true });
    fs.copyFileSync(COMPILE_CACHE, path.join(tool, 'bin', 'compile-cache.mjs'));
    fs.writeFileSync(
      path.join(tool, 'bin', 'run.mjs'),
      "import { importCompiled } from './compile-cache.mjs';\nawait importCompiled(process.argv[2]);\n",
    );
    const fakeEsbuild = path.join(tool, 'node_modules', 'esbuild');
    fs.mkdirSync(fakeEsbuild, { recursive: true });
    const realEsbuild = pathToFileURL(createRequire(path.join(REPO_ROOT, 'package.json')).resolve('esbuild')).href;
    const installEsbuild = (version: string) => {
      fs.writeFileSync(path.join(fakeEsbuild, 'package.json'), JSON.stringify({ name: 'esbuild', version, main: 'main.mjs' }));
      fs.writeFileSync(
        path.join(fakeEsbuild, 'main.mjs'),
        `import * as real from ${JSON.stringify(realEsbuild)};\n` +
          `export const build = real.build;\nexport const formatMessages = real.formatMessages;\nexport const version = ${JSON.stringify(version)};\n`,
      );
    };
    const command = [path.join(tool, 'bin', 'run.mjs'), project.file('main.ts')];

    installEsbuild('1.0.0');
    expect((await run(project, {}, command)).stdout).toContain('value one');
    const first = project.current().build;
    expect((await run(project, {}, command)).stdout).toContain('value one');
    expect(project.current().build).toBe(first);

    installEsbuild('1.0.1');
    expect((await run(project, {}, command)).stdout).toContain('value one');
    expect(project.current().build).not.toBe(first);
  });
});

describe('compile-cache: a damaged bundle is rebuilt', () => {
  it('GIVEN the current build with a truncated entry.mjs THEN the next run rebuilds it and runs', async () => {
    const project = makeProject();
    await run(project);
    const damaged = project.current().build;
    const entry = path.join(project.build(damaged), 'entry.mjs');
    fs.truncateSync(entry, Math.floor(fs.statSync(entry).size / 2));

    const next = await run(project);
    expect(next).toMatchObject({ code: 0 });
    expect(next.stdout).toBe('value one\nlazy ok');
    expect(project.current().build).not.toBe(damaged);
  });

  it('GIVEN the current build with a chunk deleted THEN the next run rebuilds it and the lazy import works', async () => {
    const project = makeProject();
    await run(project);
    const damaged = project.current().build;
    const chunk = fs.readdirSync(project.build(damaged)).find((file) => file.startsWith('lazy-') && file.endsWith('.mjs'));
    expect(chunk).toBeDefined();
    fs.rmSync(path.join(project.build(damaged), chunk!));

    const next = await run(project);
    expect(next).toMatchObject({ code: 0 });
    expect(next.stdout).toBe('value one\nlazy ok');
    expect(project.current().build).not.toBe(damaged);
  });
});

describe('compile-cache: old builds', () => {
  /** `node bin/run-ts.mjs main.ts` that stops after its first import until stdin says go; its lazy chunk loads after. */
  async function startWaiting(project: Project): Promise<{ child: ChildProcess; stdout: () => string; exited: Promise<number | null> }> {
    const child = spawn(process.execPath, [RUN_TS, 'main.ts'], {
      cwd: project.root,
      env: childEnv(project, { WAIT_FOR_STDIN: '1' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (data: Buffer) => {
        stdout += data.toString();
        if (stdout.includes('ready')) resolve();
      });
      child.on('exit', () => reject(new Error(`the waiting app exited before it was ready: ${stdout}`)));
    });
    return { child, stdout: () => stdout, exited };
  }

  /** Edits value.ts and runs the app: a new build, made current. */
  async function rebuild(project: Project, value: string): Promise<string> {
    project.write('value.ts', `export const value = '${value}';\n`);
    const result = await run(project);
    expect(result.stdout).toContain(`value ${value}`);
    return project.current().build;
  }

  const age = (project: Project, build: string) => fs.utimesSync(project.build(build), DAY_AGO(), DAY_AGO());

  it('GIVEN a process still running an old build THEN clean-up keeps that build until the process exits; unused old builds go, recent ones stay', async () => {
    const project = makeProject();
    const waiting = await startWaiting(project);
    const used = project.current().build;
    age(project, used);

    const unused = await rebuild(project, 'two');
    age(project, unused);
    const recent = await rebuild(project, 'three');
    expect(fs.existsSync(project.build(used))).toBe(true);
    expect(fs.existsSync(project.build(unused))).toBe(false);

    // The running process now loads its lazy chunk from the old build.
    waiting.child.stdin!.end('go\n');
    expect(await waiting.exited).toBe(0);
    expect(waiting.stdout()).toContain('value one\nready\nlazy ok');

    await rebuild(project, 'four');
    expect(fs.existsSync(project.build(used))).toBe(false);
    expect(fs.existsSync(project.build(recent))).toBe(true); // younger than the grace period
  });

  it('GIVEN a process killed while running an old build (its marker left behind) THEN its build is removed', async () => {
    const project = makeProject();
    const waiting = await startWaiting(project);
    const used = project.current().build;
    waiting.child.kill('SIGKILL');
    await waiting.exited;
    const markers = () => fs.readdirSync(path.join(project.folder, 'live')).filter((name) => name.startsWith(`${used}.`));
    expect(markers()).toHaveLength(1);
    age(project, used);

    await rebuild(project, 'two');
    expect(fs.existsSync(project.build(used))).toBe(false);
    expect(markers()).toEqual([]);
  });
});

describe('compile-cache: where bundles live', () => {
  // Root ignores permission bits, so "cannot write" is made with a file where a folder must be: it
  // fails for every user, as a read-only node_modules does for its non-owners.
  // A folder per project (named by its node_modules), holding a node_modules link to it.
  const userFolder = (project: Project, xdg = project.file('xdg')) =>
    path.join(
      xdg,
      'aws-serverless-sweep',
      createHash('sha256').update(project.file('node_modules')).digest('hex').slice(0, 16),
      path.basename(project.folder),
    );

  it('GIVEN node_modules/.cache cannot be created THEN the bundle is made in $XDG_CACHE_HOME/aws-serverless-sweep and reused from there, its external packages found in the project', async () => {
    // execa is one of the packages a bundle leaves external: imported by name from the bundle's folder.
    const project = makeProject({
      'main.ts': `${MAIN_TS}import { marker } from 'execa';\nconsole.log(marker);\n`,
      'node_modules/execa/package.json': JSON.stringify({ name: 'execa', version: '0.0.0', type: 'module', main: 'index.js' }),
      'node_modules/execa/index.js': "export const marker = 'external ok';\n",
    });
    fs.writeFileSync(project.file('node_modules/.cache'), 'not a folder');
    // The user cache outside the project, as ~/.cache is: nothing above it leads to the project's node_modules.
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-ccache-xdg-'));
    cleanups.push(() => fs.rmSync(xdg, { recursive: true, force: true }));

    const first = await run(project, { XDG_CACHE_HOME: xdg });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('value one\nlazy ok\nexternal ok');
    const current = () => JSON.parse(fs.readFileSync(path.join(userFolder(project, xdg), 'current.json'), 'utf8')).build;
    const build = current();

    expect((await run(project, { XDG_CACHE_HOME: xdg })).stdout).toBe('value one\nlazy ok\nexternal ok');
    expect(current()).toBe(build);
  });

  it('GIVEN a current build in a folder where this user cannot leave a marker THEN it is not used: the user cache is', async () => {
    const project = makeProject();
    await run(project);
    const shared = project.current().build;
    fs.rmSync(path.join(project.folder, 'live'), { recursive: true });
    fs.writeFileSync(path.join(project.folder, 'live'), 'not a folder');

    const next = await run(project);
    expect(next).toMatchObject({ code: 0, stdout: 'value one\nlazy ok' });
    expect(fs.existsSync(path.join(userFolder(project), 'current.json'))).toBe(true);
    expect(project.current().build).toBe(shared);
  });

  it('GIVEN no writable folder at all THEN one short error names each folder tried and the fix', async () => {
    const project = makeProject();
    fs.writeFileSync(project.file('node_modules/.cache'), 'not a folder');
    fs.writeFileSync(project.file('xdg'), 'not a folder');

    const failed = await run(project);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    const lines = failed.stderr.split('\n');
    expect(lines[0]).toBe(`error: cannot compile ${project.file('main.ts')}: none of its compile cache folders is writable by this user`);
    expect(failed.stderr).toContain(project.folder);
    expect(failed.stderr).toContain(userFolder(project));
    expect(failed.stderr).toContain('ENOTDIR');
    expect(failed.stderr).toContain('fix: ');
    expect(failed.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(lines.length).toBeLessThanOrEqual(8);
  });
});
