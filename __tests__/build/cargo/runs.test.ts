import * as fs from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseFeatureTree, type ResolvedFeatures } from '../../../build/cargo/feature-tree.js';
import { cargoBuildArgs, isDependencyFeature, type PlannedFunction, planCargoRuns } from '../../../build/cargo/runs.js';
import { sweepError } from '../../helpers/errors.js';

// The functions of the feature-unification fixture, with their real (captured) cargo tree output.
const captured = (name: string): ResolvedFeatures =>
  parseFeatureTree(fs.readFileSync(new URL(`../../fixtures/cargo-tree/${name}.txt`, import.meta.url), 'utf8'));
const TREES: Record<string, ResolvedFeatures> = {
  'fn-a': captured('fn-a'),
  'fn-b': captured('fn-b'),
  // fn-c and fn-d have fn-a's graph shape: their own package, then common without features
  'fn-c': swapRoot(captured('fn-a'), 'fn-c'),
  'fn-d': swapRoot(captured('fn-a'), 'fn-d'),
  'fn-e': captured('fn-e'),
  'fn-e+chatty,extra,quick': captured('fn-e-chatty-extra-quick'),
};

function swapRoot(resolved: ResolvedFeatures, name: string): ResolvedFeatures {
  return new Map([...resolved].map(([id, features]) => [id.startsWith('fn-a ') ? `${name} v0.1.0 (/work/crates/${name})` : id, features]));
}

interface Fn extends PlannedFunction {
  readonly tree: string;
}

const fn = (pkg: string, options: Partial<Fn> = {}): Fn => ({
  package: pkg,
  binary: pkg,
  features: [],
  packageBinaries: [options.binary ?? pkg],
  tree: pkg,
  ...options,
});
const A = fn('fn-a');
const B = fn('fn-b');
const C = fn('fn-c');
const D = fn('fn-d', { binary: 'fn-a', packageBinaries: ['fn-a'] });
const E = fn('fn-e');

function plan(functions: Fn[]) {
  const asked: string[] = [];
  const result = planCargoRuns(functions, (f) => {
    asked.push(f.name ?? f.package);
    const tree = TREES[f.tree];
    if (tree === undefined) throw new Error(`no tree ${f.tree}`);
    return tree;
  });
  return { ...result, names: result.runs.map((run) => run.map((f) => f.name ?? f.package)), asked };
}

describe('planCargoRuns', () => {
  it('puts functions whose shared packages have the same features in one run', () => {
    const result = plan([A, C]);
    expect(result.names).toEqual([['fn-a', 'fn-c']]);
    expect(result.splits).toEqual([]);
  });

  it('gives a function that turns on more features of a shared crate a run of its own, and says why', () => {
    const result = plan([A, B, C]);
    expect(result.names).toEqual([['fn-a', 'fn-c'], ['fn-b']]);
    expect(result.splits).toEqual(['fn-b builds in run 2, not run 1: fn-b turns on common/loud, which fn-a does not']);
  });

  it('splits two packages that both have a binary of the same name', () => {
    const result = plan([A, D]);
    expect(result.names).toEqual([['fn-a'], ['fn-d']]);
    expect(result.splits).toEqual([
      'fn-d (binary fn-a) builds in run 2, not run 1: fn-d (binary fn-a)\'s binary "fn-a" is also a binary of package fn-a, and one run would write both to the same file',
    ]);
  });

  it('splits when --bin of one package would also select a binary of another package in the run', () => {
    // fn-x's package also has a binary named fn-a: `--bin fn-a` would build it too.
    const X = fn('fn-x', { packageBinaries: ['fn-x', 'fn-a'], tree: 'fn-c' });
    expect(plan([A, X]).splits).toEqual([
      'fn-x builds in run 2, not run 1: fn-a\'s binary "fn-a" is also a binary of package fn-x, and one run would write both to the same file',
    ]);
    expect(plan([X, A]).splits).toEqual([
      'fn-a builds in run 2, not run 1: fn-a\'s binary "fn-a" is also a binary of package fn-x, and one run would write both to the same file',
    ]);
  });

  it('lets two binaries of one package with the same features share a run', () => {
    const A2 = fn('fn-a', { binary: 'fn-a-admin', packageBinaries: ['fn-a', 'fn-a-admin'], name: 'admin' });
    expect(plan([{ ...A, packageBinaries: ['fn-a', 'fn-a-admin'] }, A2]).names).toEqual([['fn-a', 'admin']]);
  });

  it('gives a function with a dependency feature (dep/feat, dep?/feat, dep:x) a run of its own, without asking cargo', () => {
    const chatty = fn('fn-c', { features: ['common/loud'], name: 'chatty-c' });
    const result = plan([A, chatty, C]);
    expect(result.names).toEqual([['fn-a', 'fn-c'], ['chatty-c']]);
    expect(result.splits).toEqual([
      'chatty-c builds in run 2 alone: its feature "common/loud" is a dependency\'s feature, which a cargo run of several packages cannot turn on for one package only',
    ]);
    expect(result.asked).toEqual(['fn-c', 'fn-a']);
  });

  it('keeps a dependency-feature run closed to everything but the same build', () => {
    const chatty = fn('fn-c', { features: ['common/loud'], name: 'chatty-1' });
    const again = fn('fn-c', { features: ['common/loud'], name: 'chatty-2' });
    expect(plan([chatty, A, again]).names).toEqual([['chatty-1', 'chatty-2'], ['fn-a']]);
  });

  it('puts identical builds (package, binary, features in any order) together without asking cargo', () => {
    const first = fn('fn-e', { features: ['extra', 'quick'], name: 'first', tree: 'missing' });
    const second = fn('fn-e', { features: ['quick', 'extra'], name: 'second', tree: 'missing' });
    const result = plan([first, second]);
    expect(result.names).toEqual([['first', 'second']]);
    expect(result.asked).toEqual([]);
  });

  it('splits two builds of one package with different features (the package itself disagrees)', () => {
    const plain = fn('fn-e', { name: 'plain' });
    const rich = fn('fn-e', { features: ['chatty', 'extra', 'quick'], name: 'rich', tree: 'fn-e+chatty,extra,quick' });
    expect(plan([plain, rich]).splits).toEqual([
      'rich builds in run 2, not run 1: rich turns on fn-e/chatty, fn-e/extra, fn-e/quick, which plain does not',
    ]);
  });

  it("does not split for features on a package's host unit that the other graph only has as a target unit", () => {
    // fn-e compiles common for the host with loud; fn-a links common without: resolver 2 keeps them apart.
    expect(plan([A, E]).names).toEqual([['fn-a', 'fn-e']]);
  });

  it('is stable: each function goes to the first run that takes it, runs in the order opened', () => {
    const B2 = fn('fn-b', { name: 'fn-b again' });
    const result = plan([B, A, D, C, B2, E]);
    expect(result.names).toEqual([['fn-b', 'fn-b again'], ['fn-a', 'fn-c', 'fn-e'], ['fn-d']]);
    expect(result.splits).toEqual([
      'fn-a builds in run 2, not run 1: fn-b turns on common/loud, which fn-a does not',
      'fn-d (binary fn-a) builds in run 3, not run 1: fn-b turns on common/loud, which fn-d (binary fn-a) does not; ' +
        'not run 2: fn-d (binary fn-a)\'s binary "fn-a" is also a binary of package fn-a, and one run would write both to the same file',
    ]);
    // cargo tree is needed once per function at most
    expect(new Set(result.asked).size).toBe(result.asked.length);
  });

  it('plans nothing for no functions, and explains nothing for one', () => {
    expect(plan([])).toMatchObject({ runs: [], splits: [] });
    expect(plan([fn('fn-c', { features: ['common/loud'] })])).toMatchObject({ names: [['fn-c']], splits: [] });
  });
});

describe('cargoBuildArgs', () => {
  const profile = 'release';
  const triple = 'x86_64-unknown-linux-gnu';
  const head = ['cargo', 'build', '--locked', '--profile', profile, '--target', triple];

  it("is exactly the engine's single-function command for a run of one", () => {
    expect(cargoBuildArgs([A], profile, triple)).toEqual([...head, '--package', 'fn-a', '--bin', 'fn-a']);
    expect(cargoBuildArgs([fn('fn-e', { features: ['extra', 'common/loud'] })], profile, triple)).toEqual([
      ...head,
      '--package',
      'fn-e',
      '--bin',
      'fn-e',
      '--features',
      'extra,common/loud',
    ]);
  });

  it('treats identical builds as one', () => {
    expect(cargoBuildArgs([A, { ...A, name: 'again' }], profile, triple)).toEqual([...head, '--package', 'fn-a', '--bin', 'fn-a']);
  });

  it('names each package once with its binaries, and writes features package/feature', () => {
    const admin = fn('fn-a', { binary: 'fn-a-admin' });
    const rich = fn('fn-e', { features: ['extra', 'quick'] });
    expect(cargoBuildArgs([A, rich, admin, C], profile, triple)).toEqual([
      ...head,
      '-p',
      'fn-a',
      '--bin',
      'fn-a',
      '--bin',
      'fn-a-admin',
      '-p',
      'fn-e',
      '--bin',
      'fn-e',
      '-p',
      'fn-c',
      '--bin',
      'fn-c',
      '--features',
      'fn-e/extra,fn-e/quick',
    ]);
    expect(cargoBuildArgs([A, C], profile, triple)).toEqual([...head, '-p', 'fn-a', '--bin', 'fn-a', '-p', 'fn-c', '--bin', 'fn-c']);
  });

  it('refuses what one run cannot say: a dependency feature next to other packages, or nothing', () => {
    const error = sweepError(() => cargoBuildArgs([A, fn('fn-c', { features: ['common/loud'] })], profile, triple));
    expect(error.stage).toBe('compile');
    expect(error.problem).toBe('cannot build package fn-c\'s feature "common/loud" with other packages in one cargo run');
    expect(sweepError(() => cargoBuildArgs([], profile, triple)).problem).toBe('cannot build an empty run in one cargo run');
  });
});

describe('isDependencyFeature', () => {
  it.each([
    ['loud', false],
    ['common/loud', true],
    ['helper?/fast', true],
    ['dep:helper', true],
  ])('%s -> %s', (feature, expected) => {
    expect(isDependencyFeature(feature)).toBe(expected);
  });
});
