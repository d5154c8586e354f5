import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import { describeInputs, type FunctionInputs, WatchedSet } from '../../watch/watched-set.js';

/**
 * What watch watches: the inputs of each function's fingerprint, read from real fixture
 * workspaces (only read, never compiled), and which functions a changed path touches.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/workspaces/', import.meta.url));
const ROOT_FILES = ['Cargo.toml', 'Cargo.lock', '.cargo/config.toml', '.cargo/config', 'rust-toolchain', 'rust-toolchain.toml'];

let project: string;
let workspace: string;
beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-watched-set-'));
  workspace = path.join(project, 'rust');
  fs.cpSync(path.join(FIXTURES, 'cargo-workspace'), workspace, { recursive: true });
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

function options(extra: { package?: string; binary?: string; workspace?: string } = {}) {
  return resolveArtifactOptions(
    { projectRoot: project, package: 'app', binary: 'bootstrap', name: 'app', toolchainImage: 'rust:1-bullseye', ...extra },
    { env: {} },
  );
}

const at = (relative: string) => path.join(workspace, ...relative.split('/'));

describe('describeInputs', () => {
  it('GIVEN a workspace function THEN its crate folders (path and workspace dependencies, normal, build and target-specific), the workspace files, every member manifest', () => {
    const inputs = describeInputs('app-fn', options());
    expect(inputs.workspace).toBe(workspace);
    expect(inputs.folders).toEqual(['crates/app', 'crates/codegen', 'crates/lib', 'crates/platform', 'crates/util']);
    expect(inputs.files).toEqual([
      ...ROOT_FILES,
      ...['app', 'codegen', 'lib', 'platform', 'testkit', 'unused', 'util'].map((crate) => `crates/${crate}/Cargo.toml`),
    ]);
    expect(inputs.excluded).toEqual([path.join(project, 'dist'), path.join(project, '.cache')]);
  });

  it('GIVEN a single-package workspace THEN the root itself is the crate folder', () => {
    const single = options({ workspace: path.join(FIXTURES, 'single-package'), package: 'single-fn', binary: 'single-fn' });
    expect(describeInputs('one', single).folders).toEqual(['']);
  });

  it('GIVEN manifests that no longer parse THEN the workspace files and what was watched before, so the fix is seen', () => {
    const broken = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-watched-broken-'));
    try {
      fs.writeFileSync(path.join(broken, 'Cargo.toml'), '[workspace\nmembers = [');
      const previous: FunctionInputs = {
        key: 'app-fn',
        workspace: broken,
        folders: ['crates/app'],
        files: ['crates/app/Cargo.toml'],
        excluded: [],
      };
      const inputs = describeInputs('app-fn', options({ workspace: broken }), previous);
      expect(inputs.folders).toEqual(['crates/app']);
      expect(inputs.files).toEqual([...ROOT_FILES, 'crates/app/Cargo.toml']);
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('GIVEN a package that does not exist THEN the workspace files and member manifests (a manifest edit can fix it)', () => {
    const inputs = describeInputs('ghost', options({ package: 'ghost' }));
    expect(inputs.folders).toEqual([]);
    expect(inputs.files).toContain('crates/app/Cargo.toml');
    expect(inputs.files).toContain('Cargo.lock');
  });
});

describe('WatchedSet', () => {
  const settings = () => path.join(project, 'cdktf.json');
  const set = () => new WatchedSet([describeInputs('app-fn', options())], [settings()]);

  it.each([
    ['a source of the function', 'crates/app/src/main.rs', ['app-fn']],
    ['a template next to the sources (every file of a crate folder is an input)', 'crates/app/templates/page.html', ['app-fn']],
    ['a source of a transitive path dependency', 'crates/util/src/lib.rs', ['app-fn']],
    ['the lock file', 'Cargo.lock', ['app-fn']],
    ['a .cargo/config.toml that does not exist yet', '.cargo/config.toml', ['app-fn']],
    ['the manifest of a member the function does not use', 'crates/unused/Cargo.toml', ['app-fn']],
    ['a source of a dev-dependency (not compiled into the binary)', 'crates/testkit/src/lib.rs', []],
    ['a source of a member the function does not use', 'crates/unused/src/lib.rs', []],
    ['a file in a target folder inside the crate folder', 'crates/app/target/release/bootstrap', []],
    ['a file in a folder named like an excluded one, deeper down', 'crates/app/src/.git/HEAD', []],
    ['a file at the workspace root that is no input', 'README.md', []],
  ])('GIVEN a change of %s THEN it touches %j', (_what, relative, keys) => {
    expect(set().affected(at(relative))).toEqual(keys);
  });

  it('GIVEN a change of cdktf.json THEN every function', () => {
    const both = new WatchedSet(
      [describeInputs('app-fn', options()), { ...describeInputs('other', options()), key: 'other', folders: ['crates/unused'] }],
      [settings()],
    );
    expect(both.affected(settings())).toEqual(['app-fn', 'other']);
    expect(both.affected(at('crates/unused/src/lib.rs'))).toEqual(['other']);
    expect(both.affected(at('Cargo.lock'))).toEqual(['app-fn', 'other']);
  });

  it('GIVEN the configured dist folder inside a crate folder THEN its files are no input', () => {
    const inputs = { ...describeInputs('app-fn', options()), excluded: [at('crates/app/out')] };
    expect(new WatchedSet([inputs]).affected(at('crates/app/out/app.zip'))).toEqual([]);
    expect(new WatchedSet([inputs]).ignores(at('crates/app/out'))).toBe(true);
  });

  it.each([
    ['the workspace root', '', false],
    ['a folder that holds crate folders', 'crates', false],
    ['a crate folder and folders in it', 'crates/lib/src', false],
    ['a .cargo folder, before it exists', '.cargo', false],
    ['the folder of a member manifest the function does not use (for the manifest)', 'crates/testkit', false],
    ['a folder of that member', 'crates/testkit/src', true],
    ['a target folder in a crate folder', 'crates/app/target', true],
    ['a folder no input is in', 'docs', true],
  ])('GIVEN %s THEN ignored is %s', (_what, relative, ignored) => {
    expect(set().ignores(at(relative))).toBe(ignored);
  });

  it('GIVEN paths outside the workspace THEN ignored, except cdktf.json', () => {
    expect(set().ignores(path.join(project, 'node_modules', 'x'))).toBe(true);
    expect(set().ignores(settings())).toBe(false);
    expect(set().roots).toEqual([workspace, settings()]);
  });

  it('GIVEN a single-package workspace THEN everything under the root but the excluded folders', () => {
    const root = path.join(FIXTURES, 'single-package');
    const single = new WatchedSet([describeInputs('one', options({ workspace: root, package: 'single-fn', binary: 'single-fn' }))]);
    expect(single.affected(path.join(root, 'src', 'main.rs'))).toEqual(['one']);
    expect(single.affected(path.join(root, 'target', 'debug', 'x'))).toEqual([]);
    expect(single.ignores(path.join(root, 'target'))).toBe(true);
    expect(single.ignores(path.join(root, 'node_modules'))).toBe(true);
  });
});
