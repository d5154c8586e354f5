import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { parse as parseToml } from 'smol-toml';
import {
  type CargoPackage,
  type CargoWorkspace,
  crateFolders,
  readCargoWorkspace,
  selectPackage,
  unknownFeatures,
} from '../../build/cargo-workspace.js';
import { sweepError } from '../helpers/errors.js';

// The workspaces under __tests__/fixtures/workspaces are only read here, never compiled.
const FIXTURES = fileURLToPath(new URL('../fixtures/workspaces/', import.meta.url));
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
      'point `workspace` (cdktf.json context `sweep.workspace`, or --workspace) at the folder that holds the Cargo.toml of your workspace',
    );
  });

  it('is an error naming the file when a member manifest is not valid TOML', () => {
    // GIVEN a member whose Cargo.toml has a syntax error
    const broken = '[package]\nname = "broken\n';
    const root = writeTree('bad-toml', { 'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\n', 'crates/broken/Cargo.toml': broken });
    let tomlMessage = '';
    try {
      parseToml(broken);
    } catch (error) {
      tomlMessage = (error as Error).message.split('\n')[0]!;
    }
    expect(tomlMessage).not.toBe('');
    // WHEN the workspace is read
    const error = sweepError(() => readCargoWorkspace(root));
    // THEN the message names the manifest relative to the workspace and the fix its full path
    expect(error.message).toBe(`workspace: crates/broken/Cargo.toml is not valid TOML: ${tomlMessage}`);
    expect(error.fix).toBe(`correct the syntax of ${path.join(root, 'crates', 'broken', 'Cargo.toml')}`);
  });

  it('is an error naming the root manifest when it is not valid TOML', () => {
    const root = writeTree('bad-root-toml', { 'Cargo.toml': '[workspace\n' });
    const error = sweepError(() => readCargoWorkspace(root));
    expect(error.message.startsWith('workspace: Cargo.toml is not valid TOML: ')).toBe(true);
    expect(error.fix).toBe(`correct the syntax of ${path.join(root, 'Cargo.toml')}`);
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
    expect(error.fix).toBe('set `package` (cdktf.json context `sweep.package`, or --package) to one of the packages listed');
  });

  it('is an error listing the binaries when the named package lacks the binary', () => {
    const workspace = readCargoWorkspace(fixture('binary-discovery'));
    const error = sweepError(() => selectPackage(workspace, 'multi', 'bootstrap'));
    expect(error.message).toBe('workspace: package "multi" has no binary named "bootstrap" (its binaries: multi, named, x, y)');
    expect(error.fix).toBe(
      'set `binary` (cdktf.json context `sweep.binary`, or --bin) to one of the binaries listed, or add a [[bin]] target to the package',
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
      'use the option `package` (cdktf.json context `sweep.package`, or --package) to say which package to build, and `binary` for its binary',
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
      'use the option `package` (cdktf.json context `sweep.package`, or --package) to say which package to build, and `binary` for its binary',
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

  // Regression (fixed bug in build/cargo-workspace.ts, crateFolders -> describePackage(..., undefined)): cargo makes
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
    expect(error.fix).toBe('move the crate inside the workspace folder, or point `workspace` at a folder that contains both');
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

  // Regression (fixed bug in build/cargo-workspace.ts, pathDependencies -> resolveInside): the message shows
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

  // Regression (fixed bug in build/cargo-workspace.ts, resolveInside): an absolute `path` is not recognised as outside
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
