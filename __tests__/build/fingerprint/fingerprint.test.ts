import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { crateFolders, readCargoWorkspace, selectPackage } from '../../../build/cargo/workspace.js';
import {
  type BuildSettings,
  byCodePoint,
  canonicalJson,
  computeFingerprint,
  ENGINE_PACKAGING_VERSION,
} from '../../../build/fingerprint/fingerprint.js';
import { FileHashIndex } from '../../../build/fingerprint/hash-index.js';
import { collectInputs, EXCLUDED_FOLDER_NAMES, type InputCollection, MAX_INPUTS } from '../../../build/fingerprint/inputs.js';
import { testSettings } from '../../helpers/artifact-records.js';
import { sweepError } from '../../helpers/errors.js';
import { sha256Hex as sha256 } from '../../helpers/hash.js';
import { openToOthers, runInChild } from '../../helpers/in-child.js';

// Covers input-files.ts (what is an input), file-hash-index.ts (hashes reused between runs) and
// fingerprint.ts (the cache key). Fixtures are copied to temp folders before they are changed.
const FIXTURES = fileURLToPath(new URL('../../fixtures/workspaces/', import.meta.url));

const SETTINGS = testSettings({ engine: ENGINE_PACKAGING_VERSION, builderRecipe: 'b'.repeat(64) });

let temp: string;
const savedTz = process.env.TZ;
beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-fingerprint-'));
});
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
  fs.rmSync(temp, { recursive: true, force: true });
});

/** Copies a fixture workspace to `<temp>/<as>` and returns its path. */
function copyFixture(name: string, as = name): string {
  const to = path.join(temp, as);
  fs.cpSync(path.join(FIXTURES, name), to, { recursive: true });
  return to;
}

interface Selection {
  readonly package?: string;
  readonly binary?: string;
  readonly hashIndex?: FileHashIndex;
  readonly excludedPaths?: readonly string[];
  readonly maxInputs?: number;
}

/** The inputs of a binary, collected the way the fast path does. */
function inputsOf(root: string, selection: Selection = {}): InputCollection {
  const workspace = readCargoWorkspace(root);
  const pkg = selectPackage(workspace, selection.package, selection.binary ?? 'bootstrap');
  return collectInputs({
    workspace,
    crateFolders: crateFolders(workspace, pkg),
    excludedPaths: selection.excludedPaths ?? [],
    hashIndex: selection.hashIndex,
    maxInputs: selection.maxInputs,
  });
}

function fingerprintOf(root: string, selection: Selection = {}, settings: BuildSettings = SETTINGS): string {
  return computeFingerprint(settings, inputsOf(root, selection).inputs).value;
}

function write(root: string, relative: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
  fs.writeFileSync(path.join(root, relative), content);
}

function append(root: string, relative: string, text: string): void {
  fs.appendFileSync(path.join(root, relative), text);
}

function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** Sets every file's mtime (and so its ctime) to `seconds` ago: outside the hash index's racy window. */
function ageFiles(root: string, seconds = 3600): Date {
  const then = new Date(Date.now() - seconds * 1000);
  for (const file of allFiles(root)) fs.utimesSync(file, then, then);
  return then;
}

describe('fingerprint: every input kind changes it', () => {
  // GIVEN the cargo-workspace fixture: app (bootstrap) -> lib (workspace = true) -> util,
  //   app -build-> codegen, app -cfg(unix)-> platform, app -dev-> testkit, and unused
  it.each([
    ['the root Cargo.toml', 'Cargo.toml'],
    ['the Cargo.toml of a member nothing depends on', 'crates/unused/Cargo.toml'],
    ['Cargo.lock', 'Cargo.lock'],
    ['a source file of the package', 'crates/app/src/main.rs'],
    ['a source file of a `workspace = true` path dependency', 'crates/lib/src/lib.rs'],
    ['a source file of a transitive path dependency', 'crates/util/src/lib.rs'],
    ['a source file of a build dependency', 'crates/codegen/src/lib.rs'],
    ['a source file of a target-specific dependency', 'crates/platform/src/lib.rs'],
    ['a non-.rs file in the crate folder (a template)', 'crates/app/templates/page.html'],
  ])('an edit of %s (%s)', (_what, relative) => {
    const root = copyFixture('cargo-workspace');
    const before = fingerprintOf(root);
    // WHEN the file changes
    append(root, relative, '\n# edited\n');
    // THEN the fingerprint changes, and the input records the new content
    const after = inputsOf(root);
    expect(computeFingerprint(SETTINGS, after.inputs).value).not.toBe(before);
    expect(after.inputs.get(relative)).toBe(sha256(fs.readFileSync(path.join(root, relative))));
  });

  it.each(['.cargo/config.toml', '.cargo/config', 'rust-toolchain', 'rust-toolchain.toml'])(
    'creating and then editing %s at the workspace root',
    (relative) => {
      const root = copyFixture('cargo-workspace');
      const original = fingerprintOf(root);
      // WHEN the file appears
      write(root, relative, relative.startsWith('rust-toolchain') ? '[toolchain]\nchannel = "1.80"\n' : '[build]\njobs = 2\n');
      const created = fingerprintOf(root);
      // AND is then edited
      append(root, relative, '# edited\n');
      const edited = fingerprintOf(root);
      // THEN each step changes the fingerprint
      expect(new Set([original, created, edited]).size).toBe(3);
    },
  );

  it('creating build.rs in the crate folder', () => {
    const root = copyFixture('cargo-workspace');
    const before = fingerprintOf(root);
    write(root, 'crates/app/build.rs', 'fn main() {}\n');
    expect(fingerprintOf(root)).not.toBe(before);
  });

  it.each(['build.rs', 'proto/messages.proto'])('an edit of %s in the build-script fixture', (relative) => {
    const root = copyFixture('build-script');
    const before = fingerprintOf(root);
    append(root, relative, '// edited\n');
    expect(fingerprintOf(root)).not.toBe(before);
  });

  it('an edit of a crate a [patch] entry points at', () => {
    const root = copyFixture('patch-path');
    const before = fingerprintOf(root);
    append(root, 'vendor/serde/src/lib.rs', '// edited\n');
    expect(fingerprintOf(root)).not.toBe(before);
  });

  it.each([
    ['a source file of a member nothing depends on', 'crates/unused/src/lib.rs'],
    ['a source file of a dev-dependency', 'crates/testkit/src/lib.rs'],
    ['a file at the workspace root that cargo does not read', 'README.md'],
    ['a folder under crates/ that is not a member', 'crates/notes/README.md'],
    ['an excluded crate', 'crates/excluded/src/main.rs'],
  ])('does NOT change for an edit of %s (%s)', (_what, relative) => {
    const root = copyFixture('cargo-workspace');
    const before = inputsOf(root);
    append(root, relative, '\n// edited\n');
    const after = inputsOf(root);
    expect(after.inputs.has(relative)).toBe(false);
    expect(computeFingerprint(SETTINGS, after.inputs).value).toBe(computeFingerprint(SETTINGS, before.inputs).value);
  });

  it('has exactly the expected inputs for the cargo-workspace fixture', () => {
    // The whole list, so a walk that adds or drops a file shows here first.
    const root = copyFixture('cargo-workspace');
    expect([...inputsOf(root).inputs.keys()]).toEqual([
      'Cargo.lock',
      'Cargo.toml',
      'crates/app/Cargo.toml',
      'crates/app/src/main.rs',
      'crates/app/templates/page.html',
      'crates/codegen/Cargo.toml',
      'crates/codegen/src/lib.rs',
      'crates/lib/Cargo.toml',
      'crates/lib/src/lib.rs',
      'crates/platform/Cargo.toml',
      'crates/platform/src/lib.rs',
      'crates/testkit/Cargo.toml',
      'crates/unused/Cargo.toml',
      'crates/util/Cargo.toml',
      'crates/util/src/lib.rs',
    ]);
  });
});

describe('fingerprint: every setting changes it', () => {
  const inputs = new Map([
    ['Cargo.toml', 'a'.repeat(64)],
    ['src/main.rs', 'c'.repeat(64)],
  ]);
  const changed: [keyof BuildSettings, BuildSettings[keyof BuildSettings]][] = [
    ['engine', ENGINE_PACKAGING_VERSION + 1],
    ['package', 'other'],
    ['binary', 'handler'],
    ['target', 'aarch64-unknown-linux-gnu'],
    ['profile', 'dev'],
    ['features', ['trace']],
    ['runtime', 'provided.al2'],
    ['toolchainImage', 'rust:1-bookworm'],
    ['builderRecipe', 'c'.repeat(64)],
    ['env', { RUSTFLAGS: '-C target-cpu=native' }],
  ];

  it('covers every field of BuildSettings', () => {
    expect(changed.map(([key]) => key).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it.each(changed)('%s', (key, value) => {
    const base = computeFingerprint(SETTINGS, inputs).value;
    expect(computeFingerprint({ ...SETTINGS, [key]: value }, inputs).value).not.toBe(base);
  });

  it('gives ten different values for the ten changes', () => {
    const values = changed.map(([key, value]) => computeFingerprint({ ...SETTINGS, [key]: value }, inputs).value);
    expect(new Set([computeFingerprint(SETTINGS, inputs).value, ...values]).size).toBe(changed.length + 1);
  });

  it('does not depend on the key order of the env object', () => {
    const a = computeFingerprint({ ...SETTINGS, env: { RUSTFLAGS: 'x', CARGO_PROFILE_RELEASE_LTO: 'fat' } }, inputs).value;
    const b = computeFingerprint({ ...SETTINGS, env: { CARGO_PROFILE_RELEASE_LTO: 'fat', RUSTFLAGS: 'x' } }, inputs).value;
    expect(a).toBe(b);
  });

  it('tells an env value from another split differently', () => {
    const a = computeFingerprint({ ...SETTINGS, env: { RUSTFLAGS: '-C a', CARGO_INCREMENTAL: '0' } }, inputs).value;
    const b = computeFingerprint({ ...SETTINGS, env: { RUSTFLAGS: '-C a,CARGO_INCREMENTAL=0' } }, inputs).value;
    expect(a).not.toBe(b);
  });
});

describe('fingerprint: files added, removed, renamed', () => {
  it('changes on add, remove and rename, each to a different value', () => {
    const root = copyFixture('single-package');
    const original = fingerprintOf(root, { binary: 'single-fn' });
    write(root, 'src/extra.rs', 'pub fn extra() {}\n');
    const added = fingerprintOf(root, { binary: 'single-fn' });
    fs.renameSync(path.join(root, 'src/extra.rs'), path.join(root, 'src/renamed.rs'));
    const renamed = fingerprintOf(root, { binary: 'single-fn' });
    fs.rmSync(path.join(root, 'src/renamed.rs'));
    const removed = fingerprintOf(root, { binary: 'single-fn' });
    expect(new Set([original, added, renamed]).size).toBe(3);
    // Removing the added file gives the original back: the fingerprint is a function of the content
    expect(removed).toBe(original);
  });

  it('changes when two files swap their contents', () => {
    const root = copyFixture('single-package');
    write(root, 'src/a.rs', 'pub fn a() {}\n');
    write(root, 'src/b.rs', 'pub fn b() {}\n');
    const before = fingerprintOf(root, { binary: 'single-fn' });
    write(root, 'src/a.rs', 'pub fn b() {}\n');
    write(root, 'src/b.rs', 'pub fn a() {}\n');
    expect(fingerprintOf(root, { binary: 'single-fn' })).not.toBe(before);
  });

  it('changes when an empty file is added', () => {
    const root = copyFixture('single-package');
    const before = fingerprintOf(root, { binary: 'single-fn' });
    write(root, 'src/empty.rs', '');
    expect(fingerprintOf(root, { binary: 'single-fn' })).not.toBe(before);
  });
});

describe('fingerprint: independent of where and when', () => {
  it('is the same for the same sources at two different absolute paths', () => {
    // GIVEN the fixture copied to two folders of different depth
    const a = copyFixture('cargo-workspace', 'a');
    const b = copyFixture('cargo-workspace', 'deeper/still/b');
    // THEN the fingerprints are equal, and equal to the fixture read in place
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    expect(fingerprintOf(a)).toBe(fingerprintOf(path.join(FIXTURES, 'cargo-workspace')));
  });

  it('is the same whatever order the files were created in', () => {
    const files: [string, string][] = [
      ['Cargo.toml', '[package]\nname = "order"\nversion = "0.1.0"\n'],
      ['src/main.rs', 'mod z; mod a;\nfn main() {}\n'],
      ['src/z.rs', '// z\n'],
      ['src/a.rs', '// a\n'],
      ['src/m/mod.rs', '// m\n'],
      ['assets/Z.txt', 'Z\n'],
      ['assets/a.txt', 'a\n'],
    ];
    const forward = path.join(temp, 'forward');
    const backward = path.join(temp, 'backward');
    for (const [relative, content] of files) write(forward, relative, content);
    for (const [relative, content] of [...files].reverse()) write(backward, relative, content);
    const one = inputsOf(forward, { binary: 'order' });
    const two = inputsOf(backward, { binary: 'order' });
    expect([...one.inputs.entries()]).toEqual([...two.inputs.entries()]);
    expect(computeFingerprint(SETTINGS, one.inputs).value).toBe(computeFingerprint(SETTINGS, two.inputs).value);
    // The inputs are listed in code-point order ("Z" before "a"), not the file system's
    const keys = [...one.inputs.keys()];
    expect(keys).toEqual([...keys].sort(byCodePoint));
  });

  it('does not depend on the insertion order of the inputs map, and returns them sorted', () => {
    const entries: [string, string][] = [
      ['src/main.rs', '1'.repeat(64)],
      ['Cargo.toml', '2'.repeat(64)],
      ['src/Zeta.rs', '3'.repeat(64)],
    ];
    const one = computeFingerprint(SETTINGS, new Map(entries));
    const two = computeFingerprint(SETTINGS, new Map([...entries].reverse()));
    expect(one.value).toBe(two.value);
    expect([...one.inputs.keys()]).toEqual(['Cargo.toml', 'src/Zeta.rs', 'src/main.rs']);
  });

  it('does not depend on mtimes', () => {
    const root = copyFixture('cargo-workspace');
    const before = fingerprintOf(root);
    ageFiles(root, 86_400 * 365);
    const aged = fingerprintOf(root);
    const now = new Date();
    for (const file of allFiles(root)) fs.utimesSync(file, now, now);
    expect(aged).toBe(before);
    expect(fingerprintOf(root)).toBe(before);
  });

  it('has no time input: it is the SHA-256 of a text made of the settings and inputs only, in any TZ', () => {
    // GIVEN the canonical text written out independently: a header, sorted settings, sorted inputs
    const inputs = new Map([
      ['src/main.rs', 'd'.repeat(64)],
      ['Cargo.toml', 'e'.repeat(64)],
    ]);
    const settings: BuildSettings = { ...SETTINGS, features: ['b', 'a'], env: { RUSTFLAGS: '-C x' } };
    const text =
      'sweep-fingerprint v1\n' +
      Object.keys(settings)
        .sort()
        .map((key) => `setting ${key}=${canonicalJson(settings[key as keyof BuildSettings])}\n`)
        .join('') +
      `input Cargo.toml\0${'e'.repeat(64)}\n` +
      `input src/main.rs\0${'d'.repeat(64)}\n`;
    // WHEN the fingerprint is computed in two timezones
    process.env.TZ = 'America/Los_Angeles';
    const west = computeFingerprint(settings, inputs).value;
    process.env.TZ = 'Asia/Kolkata';
    const east = computeFingerprint(settings, inputs).value;
    // THEN both are the hash of that text: nothing else (no clock, no zone) goes in
    expect(west).toBe(sha256(text));
    expect(east).toBe(west);
  });

  it('is the same in two timezones for a real workspace', () => {
    const root = copyFixture('cargo-workspace');
    process.env.TZ = 'Pacific/Chatham';
    const one = fingerprintOf(root);
    process.env.TZ = 'UTC';
    expect(fingerprintOf(root)).toBe(one);
  });

  it('is pinned for the single-package fixture', () => {
    // Like aws-cdk's pinned asset hashes: this value is in every dist/<name>.json in the wild.
    // If it changes, every artifact rebuilds once; that must be deliberate. It changes when the
    // framing in fingerprint.ts changes (header, separators, order), when ENGINE_PACKAGING_VERSION
    // is bumped (2: CARGO_HOME moved into the container), when input-files.ts records
    // different paths or hashes, or when the fixture's files change (keep them byte-identical,
    // LF line endings).
    const value = fingerprintOf(
      path.join(FIXTURES, 'single-package'),
      { binary: 'single-fn' },
      { ...SETTINGS, package: 'single-fn', binary: 'single-fn' },
    );
    expect(value).toBe('81ccf57ddfe39a047f83e57132807fc41906a0dfb01c94ef0df89ae0abd5650a');
  });
});

describe('input files: excluded folders', () => {
  it('lists the excluded folder names', () => {
    expect([...EXCLUDED_FOLDER_NAMES].sort()).toEqual(['.cache', '.git', 'cdktf.out', 'dist', 'node_modules', 'target']);
  });

  it.each(EXCLUDED_FOLDER_NAMES.map((name) => [name]))('skips folders named %s at any depth', (name) => {
    // GIVEN files in a folder of that name at the crate root and deep inside src/
    const root = copyFixture('cargo-workspace');
    const before = fingerprintOf(root);
    write(root, `crates/app/${name}/a.rs`, 'pub fn a() {}\n');
    write(root, `crates/app/src/${name}/deep/b.rs`, 'pub fn b() {}\n');
    write(root, `crates/lib/${name}/c.txt`, 'c\n');
    // THEN none of them is an input and the fingerprint is unchanged
    const after = inputsOf(root);
    expect([...after.inputs.keys()].filter((key) => key.split('/').includes(name))).toEqual([]);
    expect(computeFingerprint(SETTINGS, after.inputs).value).toBe(before);
  });

  it('excludes by folder name only: a source file named like an excluded folder is an input', () => {
    // The rule in input-files.ts is "folder names never walked": src/target.rs is a module file.
    const root = copyFixture('cargo-workspace');
    write(root, 'crates/app/src/target.rs', 'pub fn t() {}\n');
    expect(inputsOf(root).inputs.has('crates/app/src/target.rs')).toBe(true);
  });

  // Regression: the configured dist and cache folders were excluded by their names at any depth,
  // so SWEEP_CACHE_DIR=/x/src removed every `src/` from the inputs and edits became cache hits.
  it('skips the configured dist and cache folders by their path, not by their name', () => {
    // GIVEN a cache folder configured outside the workspace in a folder named `src`
    const root = copyFixture('cargo-workspace');
    const cacheNamedSrc = path.join(temp, 'elsewhere', 'src');
    fs.mkdirSync(cacheNamedSrc, { recursive: true });
    // AND a dist folder configured inside a crate folder, under a name that is not excluded anyway
    write(root, 'crates/app/out/app.zip', 'zip bytes');
    const before = inputsOf(root, { excludedPaths: [cacheNamedSrc, path.join(root, 'crates/app/out')] });
    // THEN every src/ is still an input, and only the configured folder itself is left out
    expect(before.inputs.has('crates/app/src/main.rs')).toBe(true);
    expect(before.inputs.has('crates/lib/src/lib.rs')).toBe(true);
    expect(before.inputs.has('crates/app/out/app.zip')).toBe(false);
    // AND a folder of the same name elsewhere in a crate folder is an input
    write(root, 'crates/lib/out/data.txt', 'data');
    expect(inputsOf(root, { excludedPaths: [path.join(root, 'crates/app/out')] }).inputs.has('crates/lib/out/data.txt')).toBe(true);
    // AND an edit under src/ changes the fingerprint
    append(root, 'crates/app/src/main.rs', '// edited\n');
    const after = inputsOf(root, { excludedPaths: [cacheNamedSrc, path.join(root, 'crates/app/out')] });
    expect(computeFingerprint(SETTINGS, after.inputs).value).not.toBe(computeFingerprint(SETTINGS, before.inputs).value);
  });

  it('compares real paths: a configured folder given through a symlink is still left out', () => {
    const root = copyFixture('cargo-workspace');
    write(root, 'crates/app/out/app.zip', 'zip bytes');
    const alias = path.join(temp, 'dist-alias');
    fs.symlinkSync(path.join(root, 'crates/app/out'), alias);
    expect(inputsOf(root, { excludedPaths: [alias] }).inputs.has('crates/app/out/app.zip')).toBe(false);
  });

  it('does not follow a symlink into a configured folder', () => {
    const root = copyFixture('cargo-workspace');
    write(root, 'build-out/app.zip', 'zip bytes');
    fs.symlinkSync('../../../build-out', path.join(root, 'crates/app/src/out'));
    expect(inputsOf(root).inputs.has('crates/app/src/out/app.zip')).toBe(true);
    const excluded = inputsOf(root, { excludedPaths: [path.join(root, 'build-out')] });
    expect([...excluded.inputs.keys()].filter((key) => key.startsWith('crates/app/src/out'))).toEqual([]);
  });

  it('notes a configured folder that lies inside a crate folder (not one whose name is excluded anyway)', () => {
    const root = copyFixture('cargo-workspace');
    const out = path.join(root, 'crates/app/out');
    const cache = path.join(root, 'crates/app/.cache');
    const elsewhere = path.join(temp, 'dist');
    fs.mkdirSync(out, { recursive: true });
    expect(inputsOf(root, { excludedPaths: [out, cache, elsewhere] }).notes).toEqual([
      `the configured folder ${out} lies inside the crate folder crates/app: its files are not inputs, so editing them never causes a rebuild`,
    ]);
    expect(inputsOf(root, { excludedPaths: [elsewhere] }).notes).toEqual([]);
  });

  it('does not exclude a configured folder that holds a crate folder, and says so', () => {
    // GIVEN a cache folder set to the workspace's crates/ folder (every crate is inside it)
    const root = copyFixture('cargo-workspace');
    const crates = path.join(root, 'crates');
    const collected = inputsOf(root, { excludedPaths: [crates] });
    // THEN the crates' files are inputs as without it
    expect([...collected.inputs.keys()]).toEqual([...inputsOf(root).inputs.keys()]);
    expect(collected.notes).toContain(
      `the configured folder ${crates} holds the crate folder crates/app: it is not left out of the inputs`,
    );
  });
});

describe('input files: symlinks', () => {
  it("follows a symlink whose target is inside the workspace: the target's content is the input", () => {
    // GIVEN crates/app/src/shared.rs -> ../../../shared/common.rs, a file outside every crate folder
    const root = copyFixture('cargo-workspace');
    write(root, 'shared/common.rs', 'pub const A: u8 = 1;\n');
    fs.symlinkSync('../../../shared/common.rs', path.join(root, 'crates/app/src/shared.rs'));
    const before = inputsOf(root);
    expect(before.inputs.get('crates/app/src/shared.rs')).toBe(sha256('pub const A: u8 = 1;\n'));
    // WHEN the target's content changes
    write(root, 'shared/common.rs', 'pub const A: u8 = 2;\n');
    // THEN the fingerprint changes
    expect(fingerprintOf(root)).not.toBe(computeFingerprint(SETTINGS, before.inputs).value);
  });

  it('follows a symlinked folder inside the workspace', () => {
    const root = copyFixture('cargo-workspace');
    write(root, 'shared/gen/types.rs', 'pub struct T;\n');
    fs.symlinkSync('../../../shared/gen', path.join(root, 'crates/app/src/gen'));
    const before = fingerprintOf(root);
    expect(inputsOf(root).inputs.get('crates/app/src/gen/types.rs')).toBe(sha256('pub struct T;\n'));
    write(root, 'shared/gen/types.rs', 'pub struct U;\n');
    expect(fingerprintOf(root)).not.toBe(before);
  });

  it('does not follow a symlink pointing outside the workspace: its link text is the input', () => {
    // GIVEN crates/app/src/ext.rs -> <outside>/ext.rs
    const root = copyFixture('cargo-workspace');
    const outside = path.join(temp, 'outside');
    write(outside, 'ext.rs', 'pub fn v1() {}\n');
    write(outside, 'other.rs', 'pub fn other() {}\n');
    const link = path.join(root, 'crates/app/src/ext.rs');
    fs.symlinkSync(path.join(outside, 'ext.rs'), link);
    const before = inputsOf(root);
    expect(before.inputs.get('crates/app/src/ext.rs')).toBe(`symlink:${sha256(path.join(outside, 'ext.rs'))}`);
    const beforeValue = computeFingerprint(SETTINGS, before.inputs).value;
    // WHEN the content outside changes
    write(outside, 'ext.rs', 'pub fn v2() {}\n');
    // THEN the fingerprint does not
    expect(fingerprintOf(root)).toBe(beforeValue);
    // BUT WHEN the link text changes, it does
    fs.rmSync(link);
    fs.symlinkSync(path.join(outside, 'other.rs'), link);
    expect(fingerprintOf(root)).not.toBe(beforeValue);
  });

  it('records a dangling symlink by its link text', () => {
    const root = copyFixture('cargo-workspace');
    fs.symlinkSync('missing.rs', path.join(root, 'crates/app/src/gone.rs'));
    expect(inputsOf(root).inputs.get('crates/app/src/gone.rs')).toBe(`symlink:${sha256('missing.rs')}`);
  });

  it('does not hang on a symlink loop or a link to an ancestor folder', () => {
    // GIVEN a -> b -> a, and src/again -> .. (the crate folder itself)
    const root = copyFixture('cargo-workspace');
    const src = path.join(root, 'crates/app/src');
    fs.symlinkSync('loop-b', path.join(src, 'loop-a'));
    fs.symlinkSync('loop-a', path.join(src, 'loop-b'));
    fs.symlinkSync('..', path.join(src, 'again'));
    // WHEN the inputs are collected
    const started = Date.now();
    const { inputs } = inputsOf(root);
    // THEN it returns promptly; the loop is recorded by link text, the ancestor is not walked twice
    expect(Date.now() - started).toBeLessThan(2000);
    expect(inputs.get('crates/app/src/loop-a')).toBe(`symlink:${sha256('loop-b')}`);
    expect(inputs.get('crates/app/src/loop-b')).toBe(`symlink:${sha256('loop-a')}`);
    expect([...inputs.keys()].filter((key) => key.startsWith('crates/app/src/again/'))).toEqual([]);
    expect(inputs.has('crates/app/src/main.rs')).toBe(true);
  });

  // Regression (fixed bug in build/fingerprint/inputs.ts, walk: the global `visitedFolders` set keyed by real path): a folder
  // reached first through a symlink is never walked again under its own path. Here app/src/shared
  // -> ../../lib/src is walked first (folders are sorted), so crates/lib/src/lib.rs, a file in a
  // crate folder, is not an input under its own name. Within one folder the winner depends on the
  // order readdir returns entries (unsorted), so the recorded paths, and the fingerprint, can
  // differ between machines for the same sources.
  it('records a file under its own path even when a symlink elsewhere reaches its folder first', () => {
    const root = copyFixture('cargo-workspace');
    fs.symlinkSync('../../lib/src', path.join(root, 'crates/app/src/shared'));
    const { inputs } = inputsOf(root);
    expect(inputs.get('crates/lib/src/lib.rs')).toBe(sha256(fs.readFileSync(path.join(root, 'crates/lib/src/lib.rs'))));
  });
});

describe('input files: symlinks fanning out', () => {
  // GIVEN fan/d0 .. fan/d5 outside the crate folders, each d<i> holding three links a, b, c to
  // d<i+1>, and the crate linking to d0: followed naively that is 3^5 = 243 copies of d5.
  function fanOut(root: string, depth = 5, width = 3): void {
    for (let i = 0; i <= depth; i++) fs.mkdirSync(path.join(root, `fan/d${i}`), { recursive: true });
    write(root, `fan/d${depth}/leaf.rs`, 'pub fn leaf() {}\n');
    for (let i = 0; i < depth; i++) {
      for (const name of 'abc'.slice(0, width)) fs.symlinkSync(`../d${i + 1}`, path.join(root, `fan/d${i}/${name}`));
    }
    fs.symlinkSync('../../../fan/d0', path.join(root, 'crates/app/src/fan'));
  }

  it('walks each folder once, by its real path: the first link in walk order wins, the others are link text', () => {
    const root = copyFixture('cargo-workspace');
    fanOut(root);
    const { inputs } = inputsOf(root);
    const fan = [...inputs.entries()].filter(([key]) => key.startsWith('crates/app/src/fan'));
    // THEN d1..d5 are each walked once, through the first link (a), and leaf.rs is one input
    const link = (text: string) => `symlink:${sha256(text)}`;
    expect(fan).toEqual([
      ['crates/app/src/fan/a/a/a/a/a/leaf.rs', sha256('pub fn leaf() {}\n')],
      ['crates/app/src/fan/a/a/a/a/b', link('../d5')],
      ['crates/app/src/fan/a/a/a/a/c', link('../d5')],
      ['crates/app/src/fan/a/a/a/b', link('../d4')],
      ['crates/app/src/fan/a/a/a/c', link('../d4')],
      ['crates/app/src/fan/a/a/b', link('../d3')],
      ['crates/app/src/fan/a/a/c', link('../d3')],
      ['crates/app/src/fan/a/b', link('../d2')],
      ['crates/app/src/fan/a/c', link('../d2')],
      ['crates/app/src/fan/b', link('../d1')],
      ['crates/app/src/fan/c', link('../d1')],
    ]);
    // AND an edit of the shared file still changes the fingerprint
    const before = computeFingerprint(SETTINGS, inputs).value;
    append(root, 'fan/d5/leaf.rs', '// edited\n');
    expect(fingerprintOf(root)).not.toBe(before);
  });

  it('gives the same inputs for the same tree, wherever it is', () => {
    const a = copyFixture('cargo-workspace', 'a');
    const b = copyFixture('cargo-workspace', 'b');
    fanOut(a);
    fanOut(b);
    expect([...inputsOf(a).inputs.entries()]).toEqual([...inputsOf(b).inputs.entries()]);
  });

  it('stops with an error naming the count once there are more inputs than the cap', () => {
    const root = copyFixture('cargo-workspace');
    const error = sweepError(() => inputsOf(root, { maxInputs: 10 }));
    expect(error.stage).toBe('inputs');
    expect(error.message).toBe(
      'inputs: the crate folders (crates/app, crates/codegen, crates/lib, crates/platform, crates/util) hold more than 10 input files; the walk stopped there',
    );
    expect(error.fix).toBe(
      'move generated files, data and vendored trees out of the crate folders (or into a folder named `target`), and remove symlinks that repeat folders',
    );
    // The fixture's 15 inputs are within a cap of 15
    expect(inputsOf(root, { maxInputs: 15 }).inputs.size).toBe(15);
  });

  it('has a default cap of 200,000 inputs', () => {
    expect(MAX_INPUTS).toBe(200_000);
  });
});

describe('input files: FIFOs, sockets and devices', () => {
  const mkfifo = (file: string): void => {
    execFileSync('mkfifo', [file]);
  };

  it('records a FIFO in a crate folder by its kind, without opening it', () => {
    // A FIFO opened for reading would block the walk; it is never opened, but its presence is an input.
    const root = copyFixture('cargo-workspace');
    const before = fingerprintOf(root);
    mkfifo(path.join(root, 'crates/app/src/pipe'));
    const { inputs } = inputsOf(root);
    expect(inputs.get('crates/app/src/pipe')).toBe('special:fifo');
    expect(computeFingerprint(SETTINGS, inputs).value).not.toBe(before);
  });

  it('records a socket in a crate folder by its kind', async () => {
    const root = copyFixture('cargo-workspace');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(root, 'crates/app/src/sock'), resolve));
    try {
      expect(inputsOf(root).inputs.get('crates/app/src/sock')).toBe('special:socket');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('records a symlink to a FIFO inside the workspace by the kind of its target', () => {
    const root = copyFixture('cargo-workspace');
    mkfifo(path.join(root, 'pipe'));
    fs.symlinkSync('../../../pipe', path.join(root, 'crates/app/src/pipe-link'));
    expect(inputsOf(root).inputs.get('crates/app/src/pipe-link')).toBe('special:fifo');
  });

  it('is an error naming a workspace-level file that became a FIFO after the manifests were read', () => {
    const root = copyFixture('cargo-workspace');
    const workspace = readCargoWorkspace(root);
    fs.rmSync(path.join(root, 'Cargo.lock'));
    mkfifo(path.join(root, 'Cargo.lock'));
    const error = sweepError(() =>
      collectInputs({
        workspace,
        crateFolders: crateFolders(workspace, selectPackage(workspace, undefined, 'bootstrap')),
        excludedPaths: [],
      }),
    );
    expect(error.message).toBe('workspace: Cargo.lock is a FIFO (named pipe), not a regular file, so it is not read');
  });

  it('refuses to hash a file that is a FIFO (one swapped in after the walk looked), without blocking', () => {
    // The hash index reads through readRegularFile, which opens without blocking and checks the
    // kind of what it opened. Run in a child process so a blocking read fails the test instead
    // of hanging the run.
    const root = copyFixture('cargo-workspace');
    openToOthers(temp);
    const pipe = path.join(root, 'crates/app/src/pipe.rs');
    mkfifo(pipe);
    expect(runInChild({ op: 'hash-file', root: pipe })).toEqual({
      outcome: 'error',
      sweepError: false,
      message: `NotRegularFileError: ${pipe} is a FIFO (named pipe), not a regular file`,
    });
  });
});

describe('input files: what cannot be read is an error', () => {
  // chmod does not stop root: the walk runs in a child as `nobody` when the tests run as root.
  it('is one clear error naming an unreadable file in a crate folder (it was a stack trace)', () => {
    openToOthers(temp);
    const root = copyFixture('cargo-workspace');
    const file = path.join(root, 'crates/app/src/secret.rs');
    write(root, 'crates/app/src/secret.rs', 'pub const K: u8 = 1;\n');
    fs.chmodSync(file, 0o000);
    expect(runInChild({ op: 'collect-inputs', root }, { unprivileged: true })).toEqual({
      outcome: 'error',
      sweepError: true,
      stage: 'inputs',
      message: `inputs: cannot read the input file crates/app/src/secret.rs: EACCES: permission denied, open '${file}'`,
      fix: `make ${file} readable by this user (chmod u+r), or move it out of the crate folder; every file in a crate folder is an input`,
    });
  });

  it('is one clear error naming an unreadable folder in a crate folder (it was silently skipped)', () => {
    openToOthers(temp);
    const root = copyFixture('cargo-workspace');
    const folder = path.join(root, 'crates/lib/src/private');
    write(root, 'crates/lib/src/private/key.rs', 'pub const K: u8 = 1;\n');
    fs.chmodSync(folder, 0o000);
    expect(runInChild({ op: 'collect-inputs', root }, { unprivileged: true })).toEqual({
      outcome: 'error',
      sweepError: true,
      stage: 'inputs',
      message: `inputs: cannot list the folder crates/lib/src/private in a crate folder: EACCES: permission denied, scandir '${folder}'`,
      fix: `make ${folder} readable and searchable by this user (chmod u+rx), or move it out of the crate folder; every file in a crate folder is an input`,
    });
  });

  it('collects the same inputs in the child as in this process when everything is readable', () => {
    openToOthers(temp);
    const root = copyFixture('cargo-workspace');
    const result = runInChild({ op: 'collect-inputs', root }, { unprivileged: true });
    expect(result).toEqual({ outcome: 'ok', inputs: [...inputsOf(root).inputs.entries()] });
  });
});

describe('file hash index', () => {
  const indexFile = () => path.join(temp, 'cache', 'file-hashes', 'app.json');

  it('does not re-read unchanged files on the second collection', () => {
    // GIVEN a workspace whose files are older than the racy window
    const root = copyFixture('cargo-workspace');
    ageFiles(root);
    // WHEN the inputs are collected twice, each time with the index loaded from disk
    const first = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    const second = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    // THEN the first run hashes the inputs, the second none, and both agree
    expect(first.hashedFiles).toBeGreaterThanOrEqual(first.inputs.size);
    expect(second.hashedFiles).toBe(0);
    expect([...second.inputs.entries()]).toEqual([...first.inputs.entries()]);
  });

  // Regression (fixed bug in build/fingerprint/inputs.ts, collectInputs): member manifests are hashed by addFile and
  // then again by the walk of their crate folder (walk does not check `inputs.has`), so a cold run
  // reads each depended-on crate's Cargo.toml twice and `hashedFiles` (shown to users as the
  // number of files hashed) is 20 for this fixture's 15 inputs.
  it('reads each input once on a cold run: hashedFiles equals the number of inputs', () => {
    const root = copyFixture('cargo-workspace');
    ageFiles(root);
    const first = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    expect(first.hashedFiles).toBe(first.inputs.size);
  });

  it('re-hashes only the file that changed', () => {
    const root = copyFixture('cargo-workspace');
    ageFiles(root);
    inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    append(root, 'crates/app/src/main.rs', '// edited\n');
    const second = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    expect(second.hashedFiles).toBe(1);
    expect(second.inputs.get('crates/app/src/main.rs')).toBe(sha256(fs.readFileSync(path.join(root, 'crates/app/src/main.rs'))));
  });

  it('re-hashes files modified within the racy window (their stat may not show the next edit)', () => {
    // GIVEN files written just now
    const root = copyFixture('cargo-workspace');
    const now = new Date();
    for (const file of allFiles(root)) fs.utimesSync(file, now, now);
    // WHEN collected twice
    const first = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    const second = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    // THEN none was trusted to the index: the second run reads as much as the first
    expect(first.hashedFiles).toBeGreaterThanOrEqual(first.inputs.size);
    expect(second.hashedFiles).toBe(first.hashedFiles);
  });

  it('re-hashes a file whose content changed with size and mtime restored, because its ctime changed', () => {
    // GIVEN an aged, indexed file
    const root = copyFixture('cargo-workspace');
    const then = ageFiles(root);
    const file = path.join(root, 'crates/app/src/main.rs');
    const before = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    const { size, mtimeMs } = fs.statSync(file);
    // WHEN its content changes to the same size and its mtime is put back
    const original = fs.readFileSync(file, 'utf8');
    const edited = original.replace('println', 'PRINTLN');
    expect(edited.length).toBe(original.length);
    fs.writeFileSync(file, edited);
    fs.utimesSync(file, then, then);
    expect(fs.statSync(file).size).toBe(size);
    expect(fs.statSync(file).mtimeMs).toBe(mtimeMs);
    // THEN the ctime gives it away: it is read again and the new content is the input
    const after = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    expect(after.hashedFiles).toBe(1);
    expect(after.inputs.get('crates/app/src/main.rs')).toBe(sha256(edited));
    expect(after.inputs.get('crates/app/src/main.rs')).not.toBe(before.inputs.get('crates/app/src/main.rs'));
  });

  it.each([
    ['not JSON', '{"version": 1, "entries": '],
    ['another version', JSON.stringify({ version: 99, entries: {} })],
    ['entries whose stats match no file', 'FORGED'],
  ])('ignores an index file that is %s', (_what, content) => {
    const root = copyFixture('cargo-workspace');
    ageFiles(root);
    const truth = inputsOf(root);
    if (content === 'FORGED') {
      // An index whose entries do not match the files' stats (other inodes): nothing is trusted.
      const entries = Object.fromEntries([...truth.inputs.keys()].map((key) => [key, [1, 1, 1, 1, '0'.repeat(64)]]));
      write(path.dirname(indexFile()), path.basename(indexFile()), JSON.stringify({ version: 1, entries }));
    } else {
      write(path.dirname(indexFile()), path.basename(indexFile()), content);
    }
    const collected = inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    // THEN it hashes as much as a run with no index at all, and gets the true hashes
    expect(collected.hashedFiles).toBe(truth.hashedFiles);
    expect([...collected.inputs.entries()]).toEqual([...truth.inputs.entries()]);
    // AND the index is rewritten, so the next run is fast again
    expect(inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) }).hashedFiles).toBe(0);
  });

  it('drops the entries of files that are gone', () => {
    const root = copyFixture('cargo-workspace');
    ageFiles(root);
    inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    fs.rmSync(path.join(root, 'crates/app/templates/page.html'));
    inputsOf(root, { hashIndex: FileHashIndex.load(indexFile()) });
    const stored = JSON.parse(fs.readFileSync(indexFile(), 'utf8')) as { entries: Record<string, unknown> };
    expect(Object.keys(stored.entries)).not.toContain('crates/app/templates/page.html');
    expect(Object.keys(stored.entries)).toContain('crates/app/src/main.rs');
  });
});
