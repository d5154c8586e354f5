import type { SweepError } from '../support/errors.js';
import { impossibleCargoRun } from './errors.js';
import { type CargoFunction, describeDisagreement, featuresAgree, type ResolvedFeatures } from './feature-tree.js';

/**
 * Groups the Lambda functions of one workspace into `cargo build` runs such that every function
 * gets exactly the bytes it would get built alone. Three things can make a shared run change or
 * lose a function's binary:
 * - feature unification: cargo enables, on a package shared by the selected packages, the union
 *   of the features each asks for (checked: fn-a built with fn-b links common with `loud`);
 * - binary names: `--bin x` selects a binary named x in every selected package, and two binaries
 *   of the same name in one run are written to the same file (cargo 1.78 only warns "output
 *   filename collision");
 * - features written `dep/feat` (or `dep:x`): in a run of several packages a feature must be
 *   written `package/feature`, and `package/dep/feat` is refused by cargo ("multiple slashes"),
 *   so such a function can only be built alone.
 */

export interface PlannedFunction extends CargoFunction {
  /** Every binary the function's package has (they are all selectable by `--bin`). */
  readonly packageBinaries: readonly string[];
  /** Used in the `splits` lines; defaults to the package (and binary, when it differs). */
  readonly name?: string;
}

export interface CargoRunPlan<T> {
  /** Runs in the order they were opened; members in input order. */
  readonly runs: T[][];
  /** One line per function that could not join an earlier run, saying why. */
  readonly splits: string[];
}

interface Run<T> {
  readonly members: T[];
  /** A function with a dependency feature: only identical functions may join. */
  readonly alone: boolean;
}

/**
 * Greedy and stable: each function joins the first run it is compatible with, else opens a new
 * one. `resolved` is asked at most once per function (it is cargo tree output, parsed), and
 * only when a function's features must be compared.
 */
export function planCargoRuns<T extends PlannedFunction>(functions: readonly T[], resolved: (fn: T) => ResolvedFeatures): CargoRunPlan<T> {
  const runs: Run<T>[] = [];
  const splits: string[] = [];
  const cache = new Map<T, ResolvedFeatures>();
  const featuresOf = (fn: T): ResolvedFeatures => {
    let features = cache.get(fn);
    if (features === undefined) {
      features = resolved(fn);
      cache.set(fn, features);
    }
    return features;
  };

  for (const fn of functions) {
    // The same build asked for twice is one build: it cannot disagree with itself.
    const twin = runs.find((run) => run.members.some((member) => sameBuild(member, fn)));
    if (twin !== undefined) {
      twin.members.push(fn);
      continue;
    }

    const dependencyFeature = fn.features.find(isDependencyFeature);
    if (dependencyFeature !== undefined) {
      runs.push({ members: [fn], alone: true });
      if (functions.length > 1) {
        splits.push(
          `${label(fn)} builds in run ${runs.length} alone: its feature "${dependencyFeature}" is a dependency's feature, which a cargo run of several packages cannot turn on for one package only`,
        );
      }
      continue;
    }

    const refusals: string[] = [];
    const home = runs.find((run, index) => {
      if (run.alone) return false;
      const refusal = binaryClash(run.members, fn) ?? featureClash(run.members, fn, featuresOf);
      if (refusal !== undefined) refusals.push(`not run ${index + 1}: ${refusal}`);
      return refusal === undefined;
    });
    if (home !== undefined) {
      home.members.push(fn);
    } else {
      runs.push({ members: [fn], alone: false });
      if (refusals.length > 0) splits.push(`${label(fn)} builds in run ${runs.length}, ${refusals.join('; ')}`);
    }
  }
  return { runs: runs.map((run) => run.members), splits };
}

/**
 * `--bin x` builds every selected package's binary named x: a clash is any binary selected by
 * one package's function that another package of the run also has.
 */
function binaryClash(members: readonly PlannedFunction[], fn: PlannedFunction): string | undefined {
  for (const member of members) {
    if (member.package === fn.package) continue;
    if (member.packageBinaries.includes(fn.binary)) {
      return `${label(fn)}'s binary "${fn.binary}" is also a binary of package ${member.package}, and one run would write both to the same file`;
    }
    if (fn.packageBinaries.includes(member.binary)) {
      return `${label(member)}'s binary "${member.binary}" is also a binary of package ${fn.package}, and one run would write both to the same file`;
    }
  }
  return undefined;
}

function featureClash<T extends PlannedFunction>(
  members: readonly T[],
  fn: T,
  featuresOf: (fn: T) => ResolvedFeatures,
): string | undefined {
  for (const member of members) {
    const agreement = featuresAgree(featuresOf(fn), featuresOf(member));
    if (!agreement.agree) return describeDisagreement(label(fn), label(member), agreement);
  }
  return undefined;
}

/**
 * The cargo command for one run. A run of one build is exactly the command the engine runs for
 * a single function (`--package P --bin B [--features a,b]`, features as given); a run of
 * several names each package once, with its binaries, and writes features `package/feature`.
 */
export function cargoBuildArgs(run: readonly CargoFunction[], profile: string, targetTriple: string): string[] {
  const builds = run.filter((fn, index) => run.findIndex((other) => sameBuild(other, fn)) === index);
  const args = ['cargo', 'build', '--locked', '--profile', profile, '--target', targetTriple];
  const [only] = builds;
  if (only === undefined) throw impossibleRun('an empty run');
  if (builds.length === 1) {
    args.push('--package', only.package, '--bin', only.binary);
    if (only.features.length > 0) args.push('--features', only.features.join(','));
    return args;
  }

  const packages = [...new Set(builds.map((fn) => fn.package))];
  const features: string[] = [];
  for (const name of packages) {
    const ofPackage = builds.filter((fn) => fn.package === name);
    args.push('-p', name);
    for (const binary of new Set(ofPackage.map((fn) => fn.binary))) args.push('--bin', binary);
    for (const feature of new Set(ofPackage.flatMap((fn) => fn.features))) {
      if (isDependencyFeature(feature)) throw impossibleRun(`package ${name}'s feature "${feature}" with other packages`);
      features.push(`${name}/${feature}`);
    }
  }
  if (features.length > 0) args.push('--features', features.join(','));
  return args;
}

/** `dep/feat`, `dep?/feat` and `dep:x` name a dependency, not a feature of the package itself. */
export function isDependencyFeature(feature: string): boolean {
  return feature.includes('/') || feature.startsWith('dep:');
}

function sameBuild(a: CargoFunction, b: CargoFunction): boolean {
  if (a.package !== b.package || a.binary !== b.binary) return false;
  const featuresA = new Set(a.features);
  const featuresB = new Set(b.features);
  return featuresA.size === featuresB.size && [...featuresA].every((feature) => featuresB.has(feature));
}

function label(fn: PlannedFunction): string {
  return fn.name ?? (fn.binary === fn.package ? fn.package : `${fn.package} (binary ${fn.binary})`);
}

function impossibleRun(what: string): SweepError {
  return impossibleCargoRun(what);
}
