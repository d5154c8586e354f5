import * as fs from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import {
  describeDisagreement,
  featuresAgree,
  featureTreeCommand,
  parseFeatureTree,
  type ResolvedFeatures,
} from '../../../build/cargo/feature-tree.js';
import { sweepError } from '../../helpers/errors.js';

// Real cargo 1.78 output for the feature-unification fixture workspace (see the folder's README).
const captured = (name: string): string => fs.readFileSync(new URL(`../../fixtures/cargo-tree/${name}.txt`, import.meta.url), 'utf8');
const id = (name: string) => `${name} v0.1.0 (/work/crates/${name})`;
const asObject = (resolved: ResolvedFeatures) => Object.fromEntries(resolved);

describe('featureTreeCommand', () => {
  it('asks for normal and build edges of one package, for the target, in the parseable shape', () => {
    expect(featureTreeCommand({ package: 'fn-e', binary: 'fn-e', features: ['chatty', 'extra'] }, 'aarch64-unknown-linux-gnu')).toEqual([
      'cargo',
      'tree',
      '--locked',
      '--target',
      'aarch64-unknown-linux-gnu',
      '--edges',
      'normal,build',
      '--package',
      'fn-e',
      '--features',
      'chatty,extra',
      '--prefix',
      'indent',
      '--charset',
      'ascii',
      '--color',
      'never',
      '--format',
      '{p}|{f}',
    ]);
  });

  it('passes no --features when the function has none, and never a --bin (cargo tree has none)', () => {
    const args = featureTreeCommand({ package: 'fn-a', binary: 'bootstrap', features: [] }, 'x86_64-unknown-linux-gnu');
    expect(args).not.toContain('--features');
    expect(args).not.toContain('--bin');
    expect(args).not.toContain('bootstrap');
  });
});

describe('parseFeatureTree on captured cargo output', () => {
  it('reads a package and its dependency without features', () => {
    expect(asObject(parseFeatureTree(captured('fn-a')))).toEqual({
      [id('fn-a')]: { target: [] },
      [id('common')]: { target: [] },
    });
  });

  it("reads the features a package's manifest turns on in a dependency", () => {
    expect(parseFeatureTree(captured('fn-b')).get(id('common'))).toEqual({ target: ['loud'] });
  });

  it('keeps host units (build-dependencies, proc-macros and all below them) apart from target units', () => {
    expect(asObject(parseFeatureTree(captured('fn-e')))).toEqual({
      [id('fn-e')]: { target: [] },
      // target: fn-e's normal dependency; host: the proc-macro's dependency and the build-dependency, unified
      [id('common')]: { target: [], host: ['loud', 'verbose'] },
      [id('macros')]: { host: [] },
      [id('helper')]: { host: [] },
      // a build-dependency nested below a host package, and a normal dependency of fn-e
      [id('stamp')]: { host: ['date'], target: [] },
    });
  });

  it('follows features that forward to dependencies, optional dependencies (dep:) and weak features (dep?/feat)', () => {
    const resolved = parseFeatureTree(captured('fn-e-chatty-extra-quick'));
    expect(resolved.get(id('fn-e'))).toEqual({ target: ['chatty', 'extra', 'quick'] });
    expect(resolved.get(id('common'))).toEqual({ target: ['loud'], host: ['loud', 'verbose'] }); // chatty = ["common/loud"]
    expect(resolved.get(id('helper'))).toEqual({ target: ['fast'], host: [] }); // extra = ["dep:helper"], quick = ["helper?/fast"]
    // helper's build-dependency under a target package is still a host unit
    expect(resolved.get(id('stamp'))).toEqual({ host: ['date'], target: [] });
  });

  it('reads the same graph for aarch64 (cargo tree needs no aarch64 standard library)', () => {
    expect(asObject(parseFeatureTree(captured('fn-e-aarch64')))).toEqual(asObject(parseFeatureTree(captured('fn-e'))));
  });

  it('merges trees separated by a blank line (two -p in one invocation: already unified by cargo)', () => {
    const resolved = parseFeatureTree(captured('fn-a-and-fn-b-together'));
    expect(resolved.get(id('fn-a'))).toEqual({ target: [] });
    expect(resolved.get(id('fn-b'))).toEqual({ target: [] });
    expect(resolved.get(id('common'))).toEqual({ target: ['loud'] });
  });

  it('refuses output with dev-dependencies, whose features cargo unifies into the normal edges', () => {
    const error = sweepError(() => parseFeatureTree(captured('fn-e-with-dev-edges')));
    expect(error.stage).toBe('workspace');
    expect(error.problem).toBe(
      'cannot read cargo tree\'s feature output at line 14 ("[dev-dependencies]"): dev-dependencies are in the tree (run it with --edges normal,build)',
    );
  });
});

describe('parseFeatureTree on shapes the fixture does not produce', () => {
  it('reads registry packages, proc-macros without a path, the dedupe mark, CRLF line ends and a path with a bar', () => {
    const output = [
      'api v0.1.0 (/work/crates/api)|default,json',
      '|-- serde v1.0.200|default,derive,serde_derive,std',
      '|   `-- serde_derive v1.0.200 (proc-macro)|default',
      '|       `-- syn v2.0.60|clone-impls,default,derive',
      '`-- weird v0.1.0 (/work/crates/a|b)|x (*)',
      '',
    ].join('\r\n');
    expect(asObject(parseFeatureTree(output))).toEqual({
      'api v0.1.0 (/work/crates/api)': { target: ['default', 'json'] },
      'serde v1.0.200': { target: ['default', 'derive', 'serde_derive', 'std'] },
      'serde_derive v1.0.200': { host: ['default'] },
      'syn v2.0.60': { host: ['clone-impls', 'default', 'derive'] },
      'weird v0.1.0 (/work/crates/a|b)': { target: ['x'] },
    });
  });

  it('goes back to target units after a build-dependency section ends at a shallower line', () => {
    const output = ['app v0.1.0|', '|-- a v1.0.0|', '|   [build-dependencies]', '|   `-- cc v1.0.0|', '`-- cc v1.0.0|parallel'].join('\n');
    expect(asObject(parseFeatureTree(output))).toEqual({
      'app v0.1.0': { target: [] },
      'a v1.0.0': { target: [] },
      'cc v1.0.0': { host: [], target: ['parallel'] },
    });
  });

  it('refuses other formats instead of guessing', () => {
    expect(sweepError(() => parseFeatureTree('fn-a v0.1.0 (/work/crates/fn-a)\n')).problem).toMatch(/line 1 .*not "\{p\}\|\{f\}"/);
    expect(sweepError(() => parseFeatureTree('0fn-a v0.1.0|\n1common v0.1.0|\n')).problem).toMatch(/line 1/); // --prefix depth
    expect(sweepError(() => parseFeatureTree('a v1.0.0|\n|   `-- b v1.0.0|\n')).problem).toMatch(/line 2 .*deeper than its parent/);
    expect(sweepError(() => parseFeatureTree('[build-dependencies]\n')).problem).toMatch(/header without a package/);
  });

  it('refuses a package printed twice as the same kind with different features (not cargo tree of one function)', () => {
    const output = ['a v1.0.0|', '|-- c v1.0.0|', '`-- c v1.0.0|x'].join('\n');
    expect(sweepError(() => parseFeatureTree(output)).problem).toMatch(
      /line 3 .*c v1\.0\.0 \(target\) was printed before with features \[\]/,
    );
  });
});

describe('featuresAgree', () => {
  const fnA = parseFeatureTree(captured('fn-a'));
  const fnB = parseFeatureTree(captured('fn-b'));
  const fnE = parseFeatureTree(captured('fn-e'));

  it('names the first shared package whose features differ, with both sides', () => {
    expect(featuresAgree(fnB, fnA)).toEqual({
      agree: false,
      package: 'common',
      packageId: id('common'),
      kind: 'target',
      a: ['loud'],
      b: [],
    });
  });

  it('agrees when every shared package has the same features, whatever else either graph has', () => {
    expect(featuresAgree(fnA, fnA)).toEqual({ agree: true });
    // fn-e's host common has loud and verbose, but the host unit is not fn-a's target unit
    expect(featuresAgree(fnA, fnE)).toEqual({ agree: true });
    expect(featuresAgree(fnE, fnA)).toEqual({ agree: true });
  });

  it('compares host units with host units', () => {
    const quietHost: ResolvedFeatures = new Map([[id('common'), { host: ['verbose'] }]]);
    expect(featuresAgree(fnE, quietHost)).toMatchObject({
      agree: false,
      package: 'common',
      kind: 'host',
      a: ['loud', 'verbose'],
      b: ['verbose'],
    });
  });

  it('ignores the order of features in hand-made maps', () => {
    const one: ResolvedFeatures = new Map([['x v1.0.0', { target: ['b', 'a'] }]]);
    const other: ResolvedFeatures = new Map([['x v1.0.0', { target: ['a', 'b'] }]]);
    expect(featuresAgree(one, other)).toEqual({ agree: true });
  });

  it('tells two versions of a crate apart', () => {
    const one: ResolvedFeatures = new Map([['x v1.0.0', { target: ['a'] }]]);
    const other: ResolvedFeatures = new Map([['x v2.0.0', { target: [] }]]);
    expect(featuresAgree(one, other)).toEqual({ agree: true });
  });
});

describe('describeDisagreement', () => {
  it('says who turns on what', () => {
    const disagreement = featuresAgree(parseFeatureTree(captured('fn-b')), parseFeatureTree(captured('fn-a')));
    if (disagreement.agree) throw new Error('expected a disagreement');
    expect(describeDisagreement('sweep-batch', 'api', disagreement)).toBe('sweep-batch turns on common/loud, which api does not');
  });

  it('names both sides when each turns on something the other does not, and says when it is a host unit', () => {
    expect(
      describeDisagreement('a', 'b', { agree: false, package: 'cc', packageId: 'cc v1.0.0', kind: 'host', a: ['x'], b: ['y', 'z'] }),
    ).toBe(
      'a turns on cc/x, which b does not; b turns on cc/y, cc/z, which a does not (compiled for the host: a build-dependency or proc-macro)',
    );
  });
});
