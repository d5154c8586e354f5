// Runs the project's TypeScript without a compile step the user has to remember, and without
// paying for a TypeScript loader on every start: an entry point is bundled once with esbuild into
// an ES module (our sources plus small pure-JS dependencies; the jsii packages, execa and the AWS
// SDK stay external), kept under the nearest node_modules/.cache, and reused while every source
// file it was built from has the same content. An edit to main.ts or a construct is picked up by
// the next run; an unchanged tree costs one read and hash of each source file.
//
// Plain JavaScript on purpose: this file is what makes TypeScript runnable.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The format of current.json (a change to this file's code is caught by hashing the file itself). */
const BUNDLER_VERSION = 4;
const CACHE_NAME = 'aws-serverless-sweep';
/** Packages never bundled: jsii packages load their own metadata; execa and the AWS SDK load only when a run needs them. */
const EXTERNAL = ['cdktf', 'constructs', '@cdktf/*', 'execa', '@aws-sdk/*', '@smithy/*', 'esbuild'];

/** Imports the TypeScript module `entry` (a path), compiling it first if any of its sources changed. */
export async function importCompiled(entry) {
  const file = await compiledPath(path.resolve(entry));
  return import(pathToFileURL(file).href);
}

/** The path of the up-to-date bundle of `entry`, building it when needed. */
export async function compiledPath(entry) {
  const folder = path.join(cacheRoot(entry), `${path.basename(entry, path.extname(entry))}-${sha256(entry).slice(0, 16)}`);
  const current = readCurrent(folder);
  if (current && isFresh(folder, current)) return path.join(folder, current.build, 'entry.mjs');
  return build(entry, folder);
}

function cacheRoot(entry) {
  for (let dir = path.dirname(entry); ; dir = path.dirname(dir)) {
    const modules = path.join(dir, 'node_modules');
    if (fs.existsSync(modules)) return path.join(modules, '.cache', CACHE_NAME);
    if (path.dirname(dir) === dir) {
      throw new Error(`no node_modules folder above ${entry}: run \`npm ci\` in the project first`);
    }
  }
}

function readCurrent(folder) {
  try {
    const current = JSON.parse(fs.readFileSync(path.join(folder, 'current.json'), 'utf8'));
    return current.version === BUNDLER_VERSION ? current : undefined;
  } catch {
    return undefined;
  }
}

function isFresh(folder, current) {
  for (const [file, hash] of Object.entries(current.inputs)) {
    let content;
    try {
      content = fs.readFileSync(file);
    } catch {
      return false;
    }
    if (sha256(content) !== hash) return false;
  }
  return fs.existsSync(path.join(folder, current.build, 'entry.mjs'));
}

async function build(entry, folder) {
  const esbuild = await import('esbuild');
  let staging;
  try {
    fs.mkdirSync(folder, { recursive: true });
    staging = fs.mkdtempSync(path.join(folder, 'staging-'));
    // mkdtemp makes it private; other users of this node_modules must be able to run the bundle.
    fs.chmodSync(staging, 0o755);
  } catch (error) {
    process.stderr.write(
      `error: cannot compile ${entry}: its compile cache ${folder} is not writable (${error.code ?? error.message})\n` +
        '  fix: run it once as the owner of node_modules (which compiles it), or make node_modules/.cache writable for this user\n',
    );
    process.exit(1);
  }
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
      plugins: [keepModuleUrls, englishOnlyZod],
    });
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    const messages = error.errors ? (await esbuild.formatMessages(error.errors, { kind: 'error' })).join('') : String(error);
    process.stderr.write(`error: cannot compile ${entry}\n${messages}`);
    process.exit(1);
  }
  const inputs = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    if (/^[a-z-]+:/.test(input)) continue; // a module a plugin made (namespace:path), not a file
    const absolute = path.resolve(path.dirname(entry), input);
    // A bundled package changes only with its package.json (a reinstall); watching every file of
    // zod would cost more than it saves.
    const watched = absolute.includes(`${path.sep}node_modules${path.sep}`) ? packageJsonOf(absolute) : absolute;
    if (watched) inputs[watched] = sha256(fs.readFileSync(watched));
  }
  // This file too: a change to how bundles are made makes every bundle stale.
  const self = fileURLToPath(import.meta.url);
  inputs[self] = sha256(fs.readFileSync(self));
  const buildName = sha256(JSON.stringify(Object.entries(inputs).sort())).slice(0, 16);
  const target = path.join(folder, buildName);
  try {
    fs.renameSync(staging, target);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true }); // Another process built the same sources first.
  }
  const temporary = path.join(folder, `current.json.${process.pid}.tmp`);
  fs.writeFileSync(temporary, JSON.stringify({ version: BUNDLER_VERSION, build: buildName, inputs }));
  fs.renameSync(temporary, path.join(folder, 'current.json'));
  removeOldBuilds(folder, buildName);
  return path.join(target, 'entry.mjs');
}

/** esbuild would give every bundled module the bundle's import.meta.url; each keeps its own. */
const keepModuleUrls = {
  name: 'keep-module-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await fs.promises.readFile(args.path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
    });
  },
};

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

function packageJsonOf(file) {
  for (let dir = path.dirname(file); path.basename(dir) !== 'node_modules' && path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) return manifest;
  }
  return undefined;
}

/**
 * Builds older than an hour are removed (a long-running process may still load chunks from a
 * recent one), keeping the last few.
 */
function removeOldBuilds(folder, keep) {
  const hourAgo = Date.now() - 3600_000;
  const builds = fs
    .readdirSync(folder, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && entry.name !== keep)
    .map((entry) => ({ dir: path.join(folder, entry.name), mtime: fs.statSync(path.join(folder, entry.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(2)) if (old.mtime < hourAgo) fs.rmSync(old.dir, { recursive: true, force: true });
}

function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}
