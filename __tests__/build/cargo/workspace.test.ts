import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { parse as parseToml, TomlError } from 'smol-toml';
import {
  type CargoPackage,
  type CargoWorkspace,
  crateFolders,
  readCargoWorkspace,
  selectPackage,
  unknownFeatures,
} from '../../../build/cargo/workspace.js';
import { isSafeName, SAFE_NAME_RULE } from '../../../build/support/safe-name.js';
import { sweepError } from '../../helpers/errors.js';
import { openToOthers, runInChild } from '../../helpers/in-child.js';

// The workspaces under __tests__/fixtures/workspaces are only read here, never compiled.
const FIXTURES = fileURLToPath(new URL('../../fixtures/workspaces/', import.meta.url));
const fixture = (name: string): string => path.join(FIXTURES, name);

function member(workspace: CargoWorkspace, name: string): CargoPackage {
  const found = workspace.members.find((m) => m.name === name);
  if (!found) throw new Error(`no member ${name} in ${workspace.members.map((m) => m.name).join(', ')}`);
  return found;
}

let temp: string;
beforeEach(() => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-cargo-ws-'));
});
afterEach(() => {
  fs.rmSync(temp, { recursive: true, force: true });
});

/** Writes `files` (relative path -> content) under a fresh folder in `temp`. */
function writeTree(name: string, files: Record<string, string>): string {
  const root = path.join(temp, name);
  for (const [relative, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), content);
  }
  return root;
}

const mkfifo = (file: string): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  execFileSync('mkfifo', [file]);
};

const pkgToml = (name: string, extra = '') => `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\n${extra}`;

describe('readCargoWorkspace: members', () => {
  it('expands a members glob, skips excluded folders and folders without a Cargo.toml', () => {
    // GIVEN members = ["crates/*"], exclude = ["crates/excluded"], and crates/notes without a manifest
    const workspace = readCargoWorkspace(fixture('cargo-workspace'));
    // THEN the members are every other crate, sorted by folder
    expect(workspace.members.map((m) => m.dir)).toEqual([
      'crates/app',
      'crates/codegen',
      'crates/lib',
      'crates/platform',
      'crates/testkit',
      'crates/unused',
      'crates/util',
    ]);
    expect(workspace.root).toBe(fixture('cargo-workspace'));
  });

  it('lists the workspace-level files that exist', () => {
    expect(readCargoWorkspace(fixture('cargo-workspace')).rootFiles).toEqual(['Cargo.toml', 'Cargo.lock']);
  });

  it('lists every workspace-level file kind when all exist', () => {
    // GIVEN a package with every file that changes how all crates build
    const root = writeTree('all-root-files', {
      'Cargo.toml': pkgToml('p'),
      'Cargo.lock': 'version = 3\n',
      '.cargo/config.toml': '[build]\n',
      '.cargo/config': '[build]\n',
      'rust-toolchain': '1.80\n',
      'rust-toolchain.toml': '[toolchain]\nchannel = "1.80"\n',
    });
    expect(readCargoWorkspace(root).rootFiles).toEqual([
      'Cargo.toml',
      'Cargo.lock',
      '.cargo/config.toml',
      '.cargo/config',
      'rust-toolchain',
      'rust-toolchain.toml',
    ]);
  });

  it('reads a root package as the member with dir ""', () => {
    const workspace = readCargoWorkspace(fixture('single-package'));
    expect(workspace.members).toEqual([
      { name: 'single-fn', dir: '', binaries: ['single-fn'], features: ['verbose'], pathDependencies: [] },
    ]);
  });

  it('has the root package and the listed members when the root is both a package and a workspace', () => {
    const root = writeTree('root-and-members', {
      'Cargo.toml': `${pkgToml('root-app')}\n[workspace]\nmembers = ["tools/gen"]\n`,
      'src/main.rs': 'fn main() {}\n',
      'tools/gen/Cargo.toml': pkgToml('gen'),
    });
    expect(readCargoWorkspace(root).members.map((m) => [m.dir, m.name])).toEqual([
      ['', 'root-app'],
      ['tools/gen', 'gen'],
    ]);
  });

  it('expands `**` to every folder below, at any depth', () => {
    // GIVEN members = ["crates/*", "nested/**"] with nested/deep/leaf holding a crate
    const workspace = readCargoWorkspace(fixture('binary-discovery'));
    expect(workspace.members.map((m) => m.dir)).toEqual(['crates/manual', 'crates/multi', 'nested/deep/leaf']);
  });

  it('matches `?` and `[...]` in a members pattern against one character', () => {
    const root = writeTree('char-globs', {
      'Cargo.toml': '[workspace]\nmembers = ["svc-?", "lib-[ab]"]\n',
      'svc-1/Cargo.toml': pkgToml('svc-1'),
      'svc-10/Cargo.toml': pkgToml('svc-10'),
      'lib-a/Cargo.toml': pkgToml('lib-a'),
      'lib-c/Cargo.toml': pkgToml('lib-c'),
    });
    expect(readCargoWorkspace(root).members.map((m) => m.name)).toEqual(['lib-a', 'svc-1']);
  });

  it('is an error naming the folder when there is no Cargo.toml', () => {
    // GIVEN an empty folder
    const root = writeTree('empty', { 'README.md': 'nothing here\n' });
    // WHEN it is read as a workspace
    const error = sweepError(() => readCargoWorkspace(root));
    // THEN the message names the folder and says how to point at the right one
    expect(error.stage).toBe('workspace');
    expect(error.message).toBe(`workspace: no Cargo.toml in the workspace folder ${root}`);
    expect(error.fix).toBe(
      'point `workspace` (cdktf.json context sweep.artifact.workspace) at the folder that holds the Cargo.toml of your workspace',
    );
  });

  it("is an error naming the file, the parser's line and column, and its reason when a member manifest is not valid TOML", () => {
    // GIVEN a member whose Cargo.toml has an unterminated string on line 2
    const broken = '[package]\nname = "broken\n';
    const root = writeTree('bad-toml', { 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n', 'crates/broken/Cargo.toml': broken });
    let parserError: TomlError | undefined;
    try {
      parseToml(broken);
    } catch (error) {
      parserError = error as TomlError;
    }
    // (smol-toml says where: line 2, column 15, under the string's end)
    expect(parserError).toBeInstanceOf(TomlError);
    expect([parserError!.line, parserError!.column]).toEqual([2, 15]);
    // WHEN the workspace is read
    const error = sweepError(() => readCargoWorkspace(root));
    // THEN the message names the manifest relative to the workspace, the position and the reason
    // (without the parser's "Invalid TOML document" prefix); the fix names the full path and position
    expect(error.message).toBe(
      'workspace: crates/broken/Cargo.toml is not valid TOML at line 2, column 15: control characters are not allowed in strings',
    );
    expect(error.fix).toBe(`correct the syntax of ${path.join(root, 'crates', 'broken', 'Cargo.toml')}:2:15`);
    // AND the lines around it, with the caret, are the details
    expect(error.details).toBe(parserError!.codeblock.trimEnd());
  });

  it('is an error naming the root manifest and the position when it is not valid TOML', () => {
    const root = writeTree('bad-root-toml', { 'Cargo.toml': '[workspace\n' });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe('workspace: Cargo.toml is not valid TOML at line 1, column 11: illegal character in key');
    expect(error.fix).toBe(`correct the syntax of ${path.join(root, 'Cargo.toml')}:1:11`);
  });

  it('is an error when a member has no package name', () => {
    const root = writeTree('nameless', {
      'Cargo.toml': '[workspace]\nmembers = ["a"]\n',
      'a/Cargo.toml': '[package]\nversion = "0.1.0"\n',
    });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe('workspace: a/Cargo.toml has no [package] name');
    expect(error.fix).toBe('add `name = "..."` under [package], or remove the folder from the workspace members');
  });
});

describe('readCargoWorkspace: binaries', () => {
  it('discovers src/main.rs, src/bin/x.rs, src/bin/y/main.rs and [[bin]] targets', () => {
    // GIVEN package "multi" with every kind of binary target
    const multi = member(readCargoWorkspace(fixture('binary-discovery')), 'multi');
    // THEN each is a binary: main.rs under the package name, the others under their own names
    expect(multi.binaries).toEqual(['multi', 'named', 'x', 'y']);
  });

  it('discovers nothing with autobins = false: only the [[bin]] targets count', () => {
    expect(member(readCargoWorkspace(fixture('binary-discovery')), 'manual').binaries).toEqual(['only']);
  });

  it('has no binaries for a library crate', () => {
    expect(member(readCargoWorkspace(fixture('binary-discovery')), 'leaf').binaries).toEqual([]);
  });

  // Regression: cargo drops an inferred target whose path an explicit [[bin]] already uses, so
  // `[[bin]] name = "bootstrap", path = "src/main.rs"` is one binary, not also one named "app".
  it('does not invent a binary for src/main.rs when a [[bin]] target already uses that path', () => {
    expect(member(readCargoWorkspace(fixture('cargo-workspace')), 'app').binaries).toEqual(['bootstrap']);
  });

  it('does not infer a binary for a src/bin file that a renamed [[bin]] target claims', () => {
    // GIVEN src/bin/tool.rs built as "renamed", and src/bin/other.rs left to inference
    const root = writeTree('renamed-bin', {
      'Cargo.toml': pkgToml('pkg', '\n[[bin]]\nname = "renamed"\npath = "src/bin/tool.rs"\n'),
      'src/bin/tool.rs': 'fn main() {}\n',
      'src/bin/other.rs': 'fn main() {}\n',
    });
    // THEN the binaries are what cargo builds
    expect(readCargoWorkspace(root).members[0]!.binaries).toEqual(['other', 'renamed']);
  });

  it('lists the features the manifest declares, sorted', () => {
    expect(member(readCargoWorkspace(fixture('cargo-workspace')), 'app').features).toEqual(['default', 'trace']);
  });
});

describe('selectPackage', () => {
  it('picks the only member with the binary when no package is named', () => {
    // GIVEN the excluded crate also has a `bootstrap` binary, but it is not a member
    const workspace = readCargoWorkspace(fixture('cargo-workspace'));
    expect(selectPackage(workspace, undefined, 'bootstrap').name).toBe('app');
  });

  it('picks the named package', () => {
    const workspace = readCargoWorkspace(fixture('two-binaries'));
    expect(selectPackage(workspace, 'beta', 'bootstrap').dir).toBe('crates/beta');
  });

  it('is an error listing the packages when the named package does not exist', () => {
    const workspace = readCargoWorkspace(fixture('two-binaries'));
    const error = sweepError(() => selectPackage(workspace, 'gamma', 'bootstrap'));
    expect(error.message).toBe(`workspace: the workspace ${workspace.root} has no package named "gamma" (its packages: alpha, beta)`);
    expect(error.fix).toBe('set `package` (cdktf.json context sweep.artifact.package) to one of the packages listed');
  });

  it('is an error listing the binaries when the named package lacks the binary', () => {
    const workspace = readCargoWorkspace(fixture('binary-discovery'));
    const error = sweepError(() => selectPackage(workspace, 'multi', 'bootstrap'));
    expect(error.message).toBe('workspace: package "multi" has no binary named "bootstrap" (its binaries: multi, named, x, y)');
    expect(error.fix).toBe(
      'set `binary` (cdktf.json context sweep.artifact.binary) to one of the binaries listed, or add a [[bin]] target to the package',
    );
  });

  it('says "none" for a named library package', () => {
    const workspace = readCargoWorkspace(fixture('binary-discovery'));
    expect(sweepError(() => selectPackage(workspace, 'leaf', 'bootstrap')).message).toBe(
      'workspace: package "leaf" has no binary named "bootstrap" (its binaries: none)',
    );
  });

  it("is an error listing every package's binaries when no package has the binary", () => {
    const workspace = readCargoWorkspace(fixture('binary-discovery'));
    const error = sweepError(() => selectPackage(workspace, undefined, 'bootstrap'));
    expect(error.message).toBe(
      `workspace: no package in ${workspace.root} has a binary named "bootstrap" (binaries: manual (only); multi (multi, named, x, y))`,
    );
    expect(error.fix).toBe(
      'set `package` (cdktf.json context sweep.artifact.package) to say which package to build, and `binary` (cdktf.json context sweep.artifact.binary) for its binary',
    );
  });

  it('is an error telling to use `package` when two packages have the binary', () => {
    // GIVEN alpha and beta both declare [[bin]] bootstrap
    const workspace = readCargoWorkspace(fixture('two-binaries'));
    // WHEN no package is named
    const error = sweepError(() => selectPackage(workspace, undefined, 'bootstrap'));
    // THEN the message names both and the fix says to use `package`
    expect(error.message).toBe('workspace: several packages have a binary named "bootstrap": alpha, beta');
    expect(error.fix).toBe(
      'set `package` (cdktf.json context sweep.artifact.package) to say which package to build, and `binary` (cdktf.json context sweep.artifact.binary) for its binary',
    );
  });
});

describe('crateFolders', () => {
  it('follows path and `workspace = true` dependencies transitively: normal, build and target-specific, not dev', () => {
    // GIVEN app -> lib (workspace = true) -> util (path), app -build-> codegen, app -cfg(unix)-> platform,
    //   app -dev-> testkit, and `unused` that nothing depends on
    const workspace = readCargoWorkspace(fixture('cargo-workspace'));
    const app = member(workspace, 'app');
    // THEN the folders are app and everything it is built from, and nothing else
    expect(app.pathDependencies).toEqual(['crates/codegen', 'crates/lib', 'crates/platform']);
    expect(crateFolders(workspace, app)).toEqual(['crates/app', 'crates/codegen', 'crates/lib', 'crates/platform', 'crates/util']);
  });

  it('is the package alone when it has no path dependencies', () => {
    const workspace = readCargoWorkspace(fixture('single-package'));
    expect(crateFolders(workspace, workspace.members[0]!)).toEqual(['']);
  });

  it('follows a path dependency that is not a listed member', () => {
    const workspace = readCargoWorkspace(fixture('path-dep-not-member'));
    expect(crateFolders(workspace, member(workspace, 'app'))).toContain('crates/mid');
  });

  // Regression (fixed bug in build/cargo/workspace.ts, crateFolders -> describePackage(..., undefined)): cargo makes
  // every path dependency inside the workspace folder a member, so `mid`'s `leaf.workspace = true`
  // resolves through [workspace.dependencies]. The engine reads non-listed crates without the
  // workspace's dependency table, drops `crates/leaf`, and an edit to leaf never rebuilds the zip.
  it('follows `workspace = true` dependencies of a path dependency that is not a listed member', () => {
    const workspace = readCargoWorkspace(fixture('path-dep-not-member'));
    expect(crateFolders(workspace, member(workspace, 'app'))).toEqual(['crates/app', 'crates/leaf', 'crates/mid']);
  });

  it('survives a cycle of path dependencies', () => {
    const root = writeTree('cycle', {
      'Cargo.toml': '[workspace]\nmembers = ["a", "b"]\n',
      'a/Cargo.toml': pkgToml('a', '\n[dependencies]\nb = { path = "../b" }\n'),
      'b/Cargo.toml': pkgToml('b', '\n[dependencies]\na = { path = "../a" }\n'),
    });
    const workspace = readCargoWorkspace(root);
    expect(crateFolders(workspace, member(workspace, 'a'))).toEqual(['a', 'b']);
  });

  it('is an error naming the dependency when a path dependency is outside the workspace', () => {
    // GIVEN the fixture (a package depending on ../outside) copied next to an `outside` crate
    const root = path.join(temp, 'ws');
    fs.cpSync(fixture('path-dep-outside'), root, { recursive: true });
    writeTree('outside', { 'Cargo.toml': pkgToml('outside'), 'src/lib.rs': 'pub fn hello() {}\n' });
    // WHEN the workspace is read
    const error = sweepError(() => readCargoWorkspace(root));
    // THEN the message says which dependency, where it points, and why that cannot work
    expect(error.message).toBe(
      `workspace: Cargo.toml dependency "outside" points outside the workspace (../outside); the build container mounts only ${root}`,
    );
    expect(error.fix).toBe(
      'move the crate inside the workspace folder, or point `workspace` (cdktf.json context sweep.artifact.workspace) at a folder that contains both',
    );
  });

  it('is an error naming the [workspace.dependencies] entry when it points outside', () => {
    const root = writeTree('ws-dep-outside', {
      'Cargo.toml': '[workspace]\nmembers = ["app"]\n\n[workspace.dependencies]\nshared = { path = "../shared" }\n',
      'app/Cargo.toml': pkgToml('app', '\n[dependencies]\nshared.workspace = true\n'),
    });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe(
      `workspace: [workspace.dependencies] "shared" points outside the workspace (../shared); the build container mounts only ${root}`,
    );
  });

  // Regression (fixed bug in build/cargo/workspace.ts, pathDependencies -> resolveInside): the message shows
  // the path after joining it to the crate folder ("../x", relative to the workspace root), not
  // the path written in the manifest it names ("../../../x"), so searching the manifest for it fails.
  it('is an error quoting the path as written in the member manifest when it climbs out of the workspace', () => {
    const root = writeTree('climb', {
      'Cargo.toml': '[workspace]\nmembers = ["crates/app"]\n',
      'crates/app/Cargo.toml': pkgToml('app', '\n[dependencies]\nx = { path = "../../../x" }\n'),
    });
    expect(sweepError(() => readCargoWorkspace(root)).message).toBe(
      `workspace: crates/app/Cargo.toml dependency "x" points outside the workspace (../../../x); the build container mounts only ${root}`,
    );
  });

  // Regression (fixed bug in build/cargo/workspace.ts, resolveInside): an absolute `path` is not recognised as outside
  // the workspace. It is kept as a "relative" folder ("/abs/..."), joined under the root, and
  // fails later with `cannot read /abs/.../Cargo.toml: ENOENT ...` instead of the message that
  // says what to do.
  it('is an error for an absolute path dependency outside the workspace', () => {
    const outside = writeTree('abs-outside', { 'Cargo.toml': pkgToml('abs'), 'src/lib.rs': '' });
    const root = writeTree('abs-ws', {
      'Cargo.toml': pkgToml('app', `\n[dependencies]\nabs = { path = ${JSON.stringify(outside)} }\n`),
      'src/main.rs': '',
    });
    const error = sweepError(() => {
      const workspace = readCargoWorkspace(root);
      crateFolders(workspace, workspace.members[0]!);
    });
    expect(error.message).toBe(
      `workspace: Cargo.toml dependency "abs" points outside the workspace (${outside}); the build container mounts only ${root}`,
    );
  });

  it('lists [patch] path folders', () => {
    expect(readCargoWorkspace(fixture('patch-path')).patchDirs).toEqual(['vendor/serde']);
  });
});

describe('unknownFeatures', () => {
  it('returns the features the package does not declare, ignoring dependency features', () => {
    const app = member(readCargoWorkspace(fixture('cargo-workspace')), 'app');
    expect(unknownFeatures(app, ['trace', 'metrics', 'serde/derive', 'dep:lib', 'default', 'tracing'])).toEqual(['metrics', 'tracing']);
    expect(unknownFeatures(app, ['trace'])).toEqual([]);
  });
});

describe('names from manifests are checked before they are used as file names', () => {
  // The package name becomes dist/<name>.zip and .json, dist/.<name>.lock and the hash index's
  // file name: `name = "../../../tmp/x"` made `status` read /tmp/x.json and `clean` delete /tmp/x.zip.
  const fixOf = (manifest: string, inferred = false) =>
    `rename it in ${manifest}${inferred ? ' (or rename the file)' : ''} to use only ${SAFE_NAME_RULE}`;

  it.each([
    ['a path that climbs out of dist/', '../../../tmp/x'],
    ['an absolute path', '/tmp/x'],
    ['a path with a folder', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a leading dot (a hidden file, or ..)', '.hidden'],
    ['an empty name', ''],
  ])('is an error naming the manifest and the value for a package name with %s', (_what, name) => {
    // GIVEN a member whose [package] name is not a plain name
    const root = writeTree('bad-package-name', {
      'Cargo.toml': '[workspace]\nmembers = ["crates/app"]\n',
      'crates/app/Cargo.toml': pkgToml('PLACEHOLDER').replace('"PLACEHOLDER"', JSON.stringify(name)),
    });
    // WHEN the workspace is read
    const error = sweepError(() => readCargoWorkspace(root));
    // THEN the error names the manifest and the value, and how to fix it
    if (name === '') {
      expect(error.message).toBe('workspace: crates/app/Cargo.toml has no [package] name');
      return;
    }
    expect(error.message).toBe(
      `workspace: crates/app/Cargo.toml has the package name "${name.replace(/\\/g, '\\\\')}", which cannot be used in a file name`,
    );
    expect(error.fix).toBe(fixOf('crates/app/Cargo.toml'));
  });

  it('shows a name with a newline or a terminal escape escaped, on one line', () => {
    const root = writeTree('escaped-package-name', { 'Cargo.toml': pkgToml('PLACEHOLDER').replace('"PLACEHOLDER"', '"a\\n\\u001b[2Jb"') });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe('workspace: Cargo.toml has the package name "a\\n\\x1b[2Jb", which cannot be used in a file name');
  });

  it('is an error for an explicit [[bin]] name with a path in it', () => {
    const root = writeTree('bad-bin-name', {
      'Cargo.toml': pkgToml('app', '\n[[bin]]\nname = "../../escape"\npath = "src/main.rs"\n'),
      'src/main.rs': 'fn main() {}\n',
    });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe('workspace: Cargo.toml has the binary name "../../escape", which cannot be used in a file name');
    expect(error.fix).toBe(fixOf('Cargo.toml'));
  });

  it.each([
    ['.hidden.rs', '.hidden'],
    ['a..b.rs', 'a..b'],
  ])('is an error for a binary name inferred from the file name src/bin/%s', (file, name) => {
    const root = writeTree('bad-inferred-bin', {
      'Cargo.toml': '[workspace]\nmembers = ["crates/app"]\n',
      'crates/app/Cargo.toml': pkgToml('app'),
      [`crates/app/src/bin/${file}`]: 'fn main() {}\n',
    });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe(
      `workspace: crates/app/Cargo.toml has the binary name "${name}" (from the file name crates/app/src/bin/${file}), which cannot be used in a file name`,
    );
    expect(error.fix).toBe(fixOf('crates/app/Cargo.toml', true));
  });

  it('accepts the names cargo accepts: letters of any script, digits, "_", "-", and "." inside a binary name', () => {
    const root = writeTree('good-names', {
      'Cargo.toml': pkgToml('café_2-x', '\n[[bin]]\nname = "v1.2"\npath = "src/v.rs"\n'),
      'src/main.rs': 'fn main() {}\n',
      'src/v.rs': 'fn main() {}\n',
      'src/bin/tool-2.rs': 'fn main() {}\n',
    });
    const [pkg] = readCargoWorkspace(root).members;
    expect(pkg!.name).toBe('café_2-x');
    expect(pkg!.binaries).toEqual(['café_2-x', 'tool-2', 'v1.2']);
  });

  it('is an error for a members entry that leads out of the workspace', () => {
    // The member folder is where the crate folder walk starts: it must be inside the workspace.
    const root = writeTree('ws/inner', { 'Cargo.toml': '[workspace]\nmembers = ["../sibling"]\n' });
    writeTree('ws/sibling', { 'Cargo.toml': pkgToml('sibling') });
    expect(sweepError(() => readCargoWorkspace(root)).message).toBe(
      `workspace: [workspace] members entry "../sibling" points outside the workspace (../sibling); the build container mounts only ${root}`,
    );
  });
});

describe('isSafeName (the rule for every name used in a file name)', () => {
  it.each(['bootstrap', 'sweep-lambda', 'my_app', 'App2', 'v1.2', 'café', 'данные', '数据', 'a.b-c_d'])('accepts %j', (name) => {
    expect(isSafeName(name)).toBe(true);
  });

  it.each([
    '',
    '.',
    '..',
    '../x',
    'a/b',
    'a\\b',
    '/abs',
    '.hidden',
    'a..b',
    'nul\0byte',
    'new\nline',
    'esc\u001b[2J',
    'c1\u009b',
    'bidi\u202eexe',
    'space name',
    'semi;colon',
    'x'.repeat(201),
    'é'.repeat(101), // 202 bytes of UTF-8
  ])('refuses %j', (name) => {
    expect(isSafeName(name)).toBe(false);
  });

  it('accepts a name of exactly 200 bytes', () => {
    expect(isSafeName('x'.repeat(200))).toBe(true);
  });
});

describe('manifests and workspace files that are not regular files', () => {
  // A FIFO opened for reading blocks until a writer comes: `status` hung forever on a member
  // Cargo.toml that was a FIFO. The work runs in a child process that is killed after a timeout,
  // so the test fails (instead of hanging the run) if the read blocks.
  it('is an error naming a member Cargo.toml that is a FIFO, without blocking on it', () => {
    const root = writeTree('fifo-member', { 'Cargo.toml': '[workspace]\nmembers = ["crates/app"]\n' });
    mkfifo(path.join(root, 'crates/app/Cargo.toml'));
    const result = runInChild({ op: 'read-workspace', root });
    expect(result).toEqual({
      outcome: 'error',
      sweepError: true,
      stage: 'workspace',
      message: 'workspace: crates/app/Cargo.toml is a FIFO (named pipe), not a regular file, so it is not read',
      fix: `replace ${path.join(root, 'crates/app/Cargo.toml')} with a regular file (or a symlink to one), or remove it`,
    });
  });

  it('is an error naming a root Cargo.toml reached through a symlink to a FIFO', () => {
    const root = path.join(temp, 'fifo-root');
    mkfifo(path.join(temp, 'pipe'));
    fs.mkdirSync(root);
    fs.symlinkSync('../pipe', path.join(root, 'Cargo.toml'));
    const result = runInChild({ op: 'read-workspace', root });
    expect(result).toMatchObject({
      outcome: 'error',
      message: 'workspace: Cargo.toml is a FIFO (named pipe), not a regular file, so it is not read',
    });
  });

  it('is an error naming a Cargo.lock that is a FIFO (it was silently not an input)', () => {
    const root = writeTree('fifo-lock', { 'Cargo.toml': pkgToml('app'), 'src/main.rs': 'fn main() {}\n' });
    mkfifo(path.join(root, 'Cargo.lock'));
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message).toBe('workspace: Cargo.lock is a FIFO (named pipe), not a regular file, so it is not read');
  });

  it('is an error naming a workspace-level file that is a folder', () => {
    const root = writeTree('dir-config', { 'Cargo.toml': pkgToml('app'), '.cargo/config.toml/x': '' });
    expect(sweepError(() => readCargoWorkspace(root)).message).toBe(
      'workspace: .cargo/config.toml is a folder, not a regular file, so it is not read',
    );
  });

  it('reads a manifest that is a symlink to a regular file', () => {
    const root = writeTree('linked-manifest', { 'real.toml': pkgToml('linked'), 'src/main.rs': 'fn main() {}\n' });
    fs.symlinkSync('real.toml', path.join(root, 'Cargo.toml'));
    expect(readCargoWorkspace(root).members.map((m) => m.name)).toEqual(['linked']);
  });
});

describe('manifests and folders that cannot be read', () => {
  // chmod does not stop root: the child runs as `nobody` when the tests run as root.
  it('is one clear error naming an unreadable member manifest', () => {
    openToOthers(temp);
    const root = writeTree('unreadable-manifest', {
      'Cargo.toml': '[workspace]\nmembers = ["crates/app"]\n',
      'crates/app/Cargo.toml': pkgToml('app'),
    });
    fs.chmodSync(path.join(root, 'crates/app/Cargo.toml'), 0o000);
    const result = runInChild({ op: 'read-workspace', root }, { unprivileged: true });
    const manifest = path.join(root, 'crates/app/Cargo.toml');
    expect(result).toEqual({
      outcome: 'error',
      sweepError: true,
      stage: 'workspace',
      message: `workspace: cannot read crates/app/Cargo.toml: EACCES: permission denied, open '${manifest}'`,
      fix: `check that ${manifest} exists and is readable by this user, or remove the crate from the workspace (its members or dependencies)`,
    });
  });

  it('is one clear error naming an unreadable folder a members glob must list', () => {
    openToOthers(temp);
    const root = writeTree('unreadable-members', {
      'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n',
      'crates/app/Cargo.toml': pkgToml('app'),
    });
    fs.chmodSync(path.join(root, 'crates'), 0o311); // searchable, not listable
    const result = runInChild({ op: 'read-workspace', root }, { unprivileged: true });
    expect(result).toMatchObject({
      outcome: 'error',
      sweepError: true,
      stage: 'workspace',
      message: `workspace: cannot list the folder ${path.join(root, 'crates')}: EACCES: permission denied, scandir '${path.join(root, 'crates')}'`,
    });
  });
});
