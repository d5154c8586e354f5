// Runs the project's TypeScript without a compile step the user has to remember, and without
// paying for a TypeScript loader on every start: an entry point is bundled once with esbuild into
// an ES module (our sources plus small pure-JS dependencies; the jsii packages, execa and the AWS
// SDK stay external), kept under the nearest node_modules/.cache (or, where that cannot be written,
// the user's cache folder), and reused while every input it was built from has the same content.
// An edit to main.ts or a construct is picked up by the next run; an unchanged tree costs one read
// and hash of each input, a stat of each module of the bundle and one small marker file.
//
// What it guarantees (README, "Start-up"):
// - a bundle is recorded only under the hashes of the bytes esbuild compiled: sources are read and
//   hashed by this file's onLoad hook and handed to esbuild; files esbuild reads itself
//   (package.json, tsconfig.json) must not have changed while it ran; a build whose inputs changed
//   while it ran is built again (at most ATTEMPTS times);
// - a build that a live process may still load a chunk from is never removed (see claim());
// - a damaged bundle (a truncated or deleted file) is noticed on start and rebuilt;
// - the esbuild package and every tsconfig.json/package.json esbuild used are inputs too.
//
// Plain JavaScript on purpose: this file is what makes TypeScript runnable.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The format of current.json (a change to this file's code is caught by hashing the file itself). */
const FORMAT = 5;
const CACHE_NAME = 'aws-serverless-sweep';
/** Packages never bundled: jsii packages load their own metadata; execa and the AWS SDK load only when a run needs them. */
const EXTERNAL = ['cdktf', 'constructs', '@cdktf/*', 'execa', '@aws-sdk/*', '@smithy/*', 'esbuild'];
/** How often a build whose inputs changed while esbuild ran is tried before giving up. */
const ATTEMPTS = 3;
/** A build that is not current and has no live process is removed once its folder is this old. */
const GRACE_MS = 10 * 60_000;
/** A marker written in another pid namespace or host cannot be checked; it counts as live this long. */
const FOREIGN_MARKER_MS = 7 * 24 * 3600_000;
/** How esbuild would load each extension (its defaults); other files are left to esbuild. */
const LOADERS = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
  '.json': 'json',
};
/**
 * Test-only: the path of a module whose `onRead(file)` is awaited after each source is read and
 * hashed, before esbuild compiles it, so a test can save a file exactly while a build runs
 * (__tests__/bin/compile-cache.test.ts). Read only when a build runs.
 */
const TEST_HOOK = 'SWEEP_COMPILE_CACHE_TEST_HOOK';
const SELF = fileURLToPath(import.meta.url);

// node:os and node:module are loaded when used: importing each costs about 0.4 ms of every start.
let os;
let createRequire;

/** Imports the TypeScript module `entry` (a path), compiling it first if any of its inputs changed. */
export async function importCompiled(entry) {
  const file = await compiledPath(path.resolve(entry));
  return import(pathToFileURL(file).href);
}

/** The path of the up-to-date bundle of `entry`, building it when needed. */
export async function compiledPath(entry) {
  entry = path.resolve(entry);
  os ??= process.getBuiltinModule?.('node:os') ?? (await import('node:os'));
  const name = `${path.basename(entry, path.extname(entry))}-${sha256(entry).slice(0, 16)}`;
  /** Hashes taken by this process (each input is read once here, whichever place is tried). */
  const seen = new Map();
  const refused = [];
  for (const { root, modules } of cacheRoots(entry)) {
    const folder = path.join(root, name);
    try {
      if (modules) linkModules(root, modules);
      return await compiledIn(entry, folder, seen);
    } catch (error) {
      if (!(error instanceof NotWritable)) throw error;
      refused.push(`  ${folder}\n    ${error.message}`);
    }
  }
  process.stderr.write(
    `error: cannot compile ${entry}: none of its compile cache folders is writable by this user\n${refused.join('\n')}\n` +
      '  fix: make node_modules/.cache writable for this user, or point XDG_CACHE_HOME at a writable folder\n',
  );
  process.exit(1);
}

/**
 * Where bundles may live, in order: the nearest node_modules/.cache, then the user's cache folder.
 * A bundle imports the packages it leaves external (cdktf, execa, ...) by name, which Node
 * resolves from the bundle's own folder upwards: a root outside node_modules gets a folder per
 * project with a `node_modules` link to the project's (`modules`), so those imports resolve there.
 */
function cacheRoots(entry) {
  const roots = [];
  let modules;
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules');
    if (fs.existsSync(candidate)) {
      modules = candidate;
      roots.push({ root: path.join(modules, '.cache', CACHE_NAME) });
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  const xdg = process.env.XDG_CACHE_HOME;
  const user = path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), CACHE_NAME);
  if (modules) roots.push({ root: path.join(user, sha256(modules).slice(0, 16)), modules });
  return roots;
}

/** Makes `<root>/node_modules` a link to `modules` (see cacheRoots); a root that cannot be written is NotWritable. */
function linkModules(root, modules) {
  const link = path.join(root, 'node_modules');
  try {
    if (fs.readlinkSync(link) === modules) return;
    fs.rmSync(link, { force: true });
  } catch {
    // no link yet
  }
  try {
    fs.mkdirSync(root, { recursive: true });
    fs.symlinkSync(modules, link);
  } catch (error) {
    if (error.code === 'EEXIST') return; // another process linked it
    throw new NotWritable(`${error.code ?? error.message}`);
  }
}

async function compiledIn(entry, folder, seen) {
  for (let look = 0; look < ATTEMPTS; look++) {
    const text = readText(path.join(folder, 'current.json'));
    const current = parseCurrent(text);
    if (!current || !isFresh(current, seen) || !isIntact(folder, current)) break;
    const marker = claim(folder, current.build);
    // Still current after the marker was written: no clean-up can have missed it (see claim()).
    if (readText(path.join(folder, 'current.json')) === text) return path.join(folder, current.build, 'entry.mjs');
    release(marker);
  }
  return build(entry, folder, seen);
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function parseCurrent(text) {
  try {
    const current = JSON.parse(text);
    const valid = current.version === FORMAT && typeof current.build === 'string' && current.inputs && current.files;
    return valid ? current : undefined;
  } catch {
    return undefined;
  }
}

function readCurrent(folder) {
  return parseCurrent(readText(path.join(folder, 'current.json')));
}

function isFresh(current, seen) {
  for (const [file, hash] of Object.entries(current.inputs)) if (hashOf(file, seen) !== hash) return false;
  return true;
}

/** Every module of the build is there with the size it was written with (a stat each: truncation and deletion show). */
function isIntact(folder, current) {
  const dir = path.join(folder, current.build);
  for (const [file, size] of Object.entries(current.files)) {
    if (fs.statSync(path.join(dir, file), { throwIfNoEntry: false })?.size !== size) return false;
  }
  return 'entry.mjs' in current.files;
}

/** The hash of `file` as this process first read it (undefined when it cannot be read). */
function hashOf(file, seen) {
  if (!seen.has(file)) seen.set(file, hashNow(file));
  return seen.get(file);
}

/** One buffer for every read of the check: no allocation per file (readFileSync's cost on ~80 files). */
let buffer;

function hashNow(file) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
    buffer ??= Buffer.allocUnsafe(64 * 1024);
    const hash = createHash('sha256');
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
    return hash.digest('hex');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

// --- Markers: which builds live processes use -----------------------------------------------
//
// A process that runs a build first writes `live/<build>.<pid>.<random>` (its host and pid
// namespace inside), removed when it exits. A build folder is removed only when it is not the one
// current.json names, no marker of a live process names it, and it is older than GRACE_MS.
// The clean-up reads current.json before it lists the markers; a process re-reads current.json
// after writing its marker and uses the build only if it is still current. So a clean-up that saw
// the build as no longer current read current.json after that re-read, and lists the markers after
// the marker was written: it sees it. Build names are never reused, so a removed build cannot become
// current again. The grace period covers a build between its esbuild run and its marker.

const markers = new Set();
let scope;

/** Marks `build` as used by this process until it exits; throws NotWritable where no marker can be written. */
function claim(folder, build) {
  const live = path.join(folder, 'live');
  const marker = path.join(live, `${build}.${process.pid}.${Math.random().toString(36).slice(2, 10)}`);
  writable(() => {
    try {
      fs.writeFileSync(marker, processScope());
    } catch (error) {
      if (error.code !== 'ENOENT') throw error;
      fs.mkdirSync(live, { recursive: true });
      fs.writeFileSync(marker, processScope());
    }
  });
  if (markers.size === 0) process.once('exit', releaseAll);
  markers.add(marker);
  return marker;
}

function release(marker) {
  markers.delete(marker);
  fs.rmSync(marker, { force: true });
}

function releaseAll() {
  for (const marker of markers) fs.rmSync(marker, { force: true });
}

/** Where this process's pid means this process: the host and, on Linux, the pid namespace. */
function processScope() {
  if (scope === undefined) {
    let namespace = '';
    try {
      namespace = fs.readlinkSync('/proc/self/ns/pid');
    } catch {
      // Not Linux: the host name alone.
    }
    scope = `${os.hostname()} ${namespace}`;
  }
  return scope;
}

/** The builds that a live process's marker names; markers of processes that are gone are removed. */
function liveBuilds(folder) {
  const dir = path.join(folder, 'live');
  const live = new Set();
  let names = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return live;
  }
  for (const name of names) {
    const [build, pid] = name.split('.');
    if (isLive(path.join(dir, name), Number(pid))) live.add(build);
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return live;
}

function isLive(marker, pid) {
  let content;
  let stat;
  try {
    content = fs.readFileSync(marker, 'utf8');
    stat = fs.statSync(marker);
  } catch {
    return false; // Removed meanwhile: its process exited.
  }
  if (content !== processScope()) return Date.now() - stat.mtimeMs < FOREIGN_MARKER_MS;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM'; // Alive, another user's.
  }
}

function removeOldBuilds(folder) {
  let current;
  try {
    current = JSON.parse(fs.readFileSync(path.join(folder, 'current.json'), 'utf8')).build;
  } catch {
    // No current build: none is kept for being current.
  }
  const live = liveBuilds(folder); // after current.json was read (see claim())
  const cutoff = Date.now() - GRACE_MS;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'live' || entry.name === current || live.has(entry.name)) continue;
    const dir = path.join(folder, entry.name);
    try {
      if (fs.statSync(dir).mtimeMs < cutoff) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: another process removed it, or it is not ours to remove.
    }
  }
}

// --- Building ---------------------------------------------------------------------------------

async function build(entry, folder, seen) {
  const previous = readCurrent(folder);
  // Before esbuild is loaded: where this user cannot write, the next place is tried at once.
  writable(() => {
    fs.mkdirSync(path.join(folder, 'live'), { recursive: true });
    fs.accessSync(folder, fs.constants.W_OK);
  });
  ({ createRequire } = await import('node:module'));
  const esbuildPackage = packageRootJson(createRequire(import.meta.url).resolve('esbuild'));
  const hookFile = process.env[TEST_HOOK];
  const hook = hookFile ? await import(pathToFileURL(hookFile).href) : undefined;
  let changed = [];
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    // Before the build, the hashes of what esbuild will read itself as far as they are known (the
    // last build's inputs; after a failed attempt, what that attempt found): checkInputs compares
    // them for files on another filesystem than the cache. esbuild's package.json before esbuild loads.
    for (const file of Object.keys(previous?.inputs ?? {})) hashOf(file, seen);
    const esbuildHash = hashOf(esbuildPackage, seen);
    const esbuild = await import('esbuild');
    const staging = writable(() => {
      const dir = fs.mkdtempSync(path.join(folder, 'staging-'));
      // mkdtemp makes it private; the bundle is readable like the rest of the cache.
      fs.chmodSync(dir, 0o755);
      return dir;
    });
    // When the build started, by the clock of the cache's filesystem.
    const started = fs.statSync(staging);
    const loaded = new Map();
    let result;
    try {
      result = await esbuild.build({
        entryPoints: { entry },
        absWorkingDir: path.dirname(entry),
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        outdir: staging,
        outExtension: { '.js': '.mjs' },
        external: EXTERNAL,
        metafile: true,
        sourcemap: 'linked',
        // Less to parse on every start; identifiers are kept, so stack traces stay readable.
        minifyWhitespace: true,
        minifySyntax: true,
        logLevel: 'silent',
        plugins: [readAndHash(loaded, hook), englishOnlyZod],
      });
    } catch (error) {
      fs.rmSync(staging, { recursive: true, force: true });
      const messages = error.errors ? (await esbuild.formatMessages(error.errors, { kind: 'error' })).join('') : String(error);
      process.stderr.write(`error: cannot compile ${entry}\n${messages}`);
      process.exit(1);
    }
    const checked = checkInputs(entry, result, loaded, seen, started);
    changed = checked.changed;
    checked.inputs[esbuildPackage] = esbuildHash;
    if (esbuildHash === undefined || hashNow(esbuildPackage) !== esbuildHash || versionOf(esbuildPackage) !== esbuild.version) {
      changed.push(esbuildPackage);
    }
    // This file too: a change to how bundles are made makes every bundle stale.
    checked.inputs[SELF] = hashOf(SELF, seen);
    if (changed.length === 0) return commit(folder, staging, checked.inputs, esbuild.version);
    fs.rmSync(staging, { recursive: true, force: true });
  }
  process.stderr.write(
    `error: cannot compile ${entry}: its inputs changed while esbuild read them, ${ATTEMPTS} times in a row:\n` +
      `${[...new Set(changed)].map((file) => `  ${file}\n`).join('')}` +
      '  fix: run it again once the files are saved (an editor, a git checkout or npm install was writing them)\n',
  );
  process.exit(1);
}

/**
 * What the bundle depends on, hashed as esbuild used it, and which of it changed while esbuild ran:
 * - a file read by readAndHash: the bytes esbuild compiled; changed if it differs now;
 * - the tsconfig.json and package.json files esbuild read itself (and any file it loaded without
 *   us): hashed now, and changed unless its change time is before the build started (same
 *   filesystem, so the same clock) or, on another filesystem, it had this hash before the build.
 * A package in node_modules is watched through its package.json (a reinstall), not file by file.
 */
function checkInputs(entry, result, loaded, seen, started) {
  const inputs = {};
  const changed = [];
  const read = new Map(); // files esbuild read itself -> recorded as an input?
  for (const input of Object.keys(result.metafile.inputs)) {
    if (/^[a-z-]+:/.test(input)) continue; // a module a plugin made (namespace:path), not a file
    const file = path.resolve(path.dirname(entry), input);
    const packaged = file.includes(`${path.sep}node_modules${path.sep}`);
    if (loaded.has(file)) {
      if (hashNow(file) !== loaded.get(file)) changed.push(file);
      else if (!packaged) inputs[file] = loaded.get(file);
    } else {
      read.set(file, !packaged);
    }
    for (const config of configsOf(file, packaged)) read.set(config, true);
  }
  for (const [file, recorded] of read) {
    const after = hashNow(file);
    const stat = fs.statSync(file, { throwIfNoEntry: false }); // after the hash: covers the read
    const unchanged = stat?.dev === started.dev ? stat.ctimeMs < started.ctimeMs : seen.get(file) === after;
    if (after === undefined || !unchanged) changed.push(file);
    seen.set(file, after); // the next attempt's "before"
    if (recorded) inputs[file] = after;
  }
  return { inputs, changed };
}

const configs = new Map();

/**
 * The configuration files esbuild reads for `file`: the nearest package.json (and, in a package,
 * its root package.json: its version), and outside node_modules the nearest tsconfig.json or
 * jsconfig.json with what it extends.
 */
function configsOf(file, packaged) {
  const dir = path.dirname(file);
  if (!configs.has(dir)) {
    const found = [];
    const manifest = nearest(dir, ['package.json'], packaged);
    if (manifest) found.push(manifest);
    if (packaged) {
      const root = packageRootJson(file);
      if (root && root !== manifest && fs.existsSync(root)) found.push(root);
    } else {
      for (let tsconfig = nearest(dir, ['tsconfig.json', 'jsconfig.json'], false); tsconfig; tsconfig = extended(tsconfig)) {
        if (found.includes(tsconfig)) break;
        found.push(tsconfig);
      }
    }
    configs.set(dir, found);
  }
  return configs.get(dir);
}

/** The first of `names` in `dir` or above it (in a package: not above the folder under node_modules). */
function nearest(dir, names, packaged) {
  for (; ; dir = path.dirname(dir)) {
    for (const name of names) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
    if (path.dirname(dir) === dir || (packaged && path.basename(path.dirname(dir)) === 'node_modules')) return undefined;
  }
}

/** The file a tsconfig's `extends` names, when it names one file that exists. */
function extended(tsconfig) {
  const name = /"extends"\s*:\s*"([^"]+)"/.exec(fs.readFileSync(tsconfig, 'utf8'))?.[1];
  if (!name) return undefined;
  try {
    if (name.startsWith('.') || path.isAbsolute(name)) {
      const file = path.resolve(path.dirname(tsconfig), name);
      return fs.existsSync(file) ? file : `${file}.json`;
    }
    return createRequire(tsconfig).resolve(name);
  } catch {
    return undefined;
  }
}

/** `node_modules/<name>/package.json` (or `<@scope>/<name>`) of the package `file` is in. */
function packageRootJson(file) {
  const marker = `${path.sep}node_modules${path.sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) return undefined;
  const parts = file.slice(at + marker.length).split(path.sep);
  const name = parts[0].startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1);
  return path.join(file.slice(0, at + marker.length), ...name, 'package.json');
}

function versionOf(packageJson) {
  try {
    return JSON.parse(fs.readFileSync(packageJson, 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Makes the build in `staging` the current one, under a name never used before. */
function commit(folder, staging, inputs, esbuildVersion) {
  const files = {}; // what node loads (the source maps are not checked on start)
  for (const file of fs.readdirSync(staging, { recursive: true })) {
    const stat = fs.statSync(path.join(staging, file));
    if (stat.isFile() && file.endsWith('.mjs')) files[file] = stat.size;
  }
  const build = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  const target = path.join(folder, build);
  writable(() => fs.renameSync(staging, target));
  claim(folder, build);
  const temporary = path.join(folder, `current.json.${process.pid}.tmp`);
  writable(() => {
    fs.writeFileSync(temporary, JSON.stringify({ version: FORMAT, build, esbuild: esbuildVersion, inputs, files }));
    fs.renameSync(temporary, path.join(folder, 'current.json'));
  });
  removeOldBuilds(folder);
  return path.join(target, 'entry.mjs');
}

/**
 * Hands esbuild every file it loads from disk through this hook, so the hash recorded for a file is
 * the hash of the bytes esbuild compiled. esbuild would also give every bundled module the
 * bundle's import.meta.url: each .ts file keeps its own.
 */
function readAndHash(loaded, hook) {
  return {
    name: 'read-and-hash',
    setup(build) {
      build.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
        const loader = LOADERS[path.extname(args.path)];
        if (!loader) return undefined; // esbuild reads it: checked with the files it reads itself
        const bytes = await fs.promises.readFile(args.path);
        loaded.set(args.path, sha256(bytes));
        await hook?.onRead?.(args.path);
        if (!args.path.endsWith('.ts')) return { contents: bytes, loader };
        const source = bytes.toString('utf8');
        return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader };
      });
    },
  };
}

/**
 * zod's entry re-exports its error messages in 40-odd languages (`z.locales`), about half of the
 * bundle's bytes, parsed on every start. This project configures none of them (zod's English
 * messages are built in), so the bundle keeps English only: a start parses half as much.
 */
const englishOnlyZod = {
  name: 'english-only-zod',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}node_modules${path.sep}zod${path.sep}`)
        ? { path: 'zod-english-locales', namespace: 'english-only-zod' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'english-only-zod' }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";',
      resolveDir: path.dirname(build.initialOptions.entryPoints.entry),
      loader: 'js',
    }));
  },
};

/** A cache folder this process cannot write: the next place is tried. */
class NotWritable extends Error {}

function writable(write) {
  try {
    return write();
  } catch (error) {
    if (typeof error?.code === 'string') throw new NotWritable(error.message);
    throw error;
  }
}

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}
