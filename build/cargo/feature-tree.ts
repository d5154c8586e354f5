import { featureTreeUnreadable } from './errors.js';

/**
 * Which features cargo turns on, for one Lambda function built alone, on every package of its
 * dependency graph: the evidence for deciding whether two functions may share one `cargo build`
 * (see cargo-runs.ts). Cargo unifies features across all packages of one invocation, so a
 * function built next to another that turns on more features of a shared crate is compiled
 * against those features, and its bytes change.
 *
 * The evidence comes from cargo itself (`cargo tree`), not from reading manifests: feature
 * resolution (`dep:`, `dep?/feat`, features forwarded to dependencies, defaults, target-specific
 * dependencies, resolver 2's split between host and target) is cargo's to decide.
 */

/** What one Lambda function asks cargo to build. */
export interface CargoFunction {
  readonly package: string;
  readonly binary: string;
  readonly features: readonly string[];
}

/**
 * How a package is compiled. Resolver 2 resolves the features of build-dependencies,
 * proc-macros and everything below them (compiled for the host) apart from those of the
 * package's normal dependencies (compiled for the target), so one package can be in a graph twice
 * with different features, and the two never unify with each other.
 */
export type UnitKind = 'target' | 'host';

/** The sorted features enabled on one package, for each kind it is compiled as. */
export interface PackageFeatures {
  readonly target?: readonly string[];
  readonly host?: readonly string[];
}

/**
 * Package id as cargo tree prints it (`common v0.1.0 (/work/crates/common)`, `serde v1.0.200`)
 * -> its enabled features. Iteration follows cargo's print order, so "the first disagreement"
 * is stable.
 */
export type ResolvedFeatures = ReadonlyMap<string, PackageFeatures>;

export type FeatureAgreement =
  | { readonly agree: true }
  | {
      readonly agree: false;
      /** The package's name, e.g. `common`. */
      readonly package: string;
      /** The full id, which tells two versions of one crate apart. */
      readonly packageId: string;
      readonly kind: UnitKind;
      /** Features on that package in the first graph, and in the second (sorted). */
      readonly a: string[];
      readonly b: string[];
    };

const FORMAT = '{p}|{f}';

/**
 * `cargo tree` for one function as the engine builds it alone
 * (`cargo build --package P --bin B --features F --target T`):
 * - `--edges normal,build`: dev-dependencies are left out. Building a binary does not activate
 *   them under resolver 2, and with them in the tree their features would be unified in
 *   (checked with cargo 1.78: a dev-dependency on `common` with `fast` shows `common|fast` on the
 *   normal edge too). Proc-macro edges stay in (they are normal edges).
 * - `--target`: target-specific dependencies are those of the Lambda's triple, and host units are
 *   told apart from target units as in the real build (which always passes `--target`).
 * - `--prefix indent --charset ascii`: the indentation and the `[build-dependencies]` headers are
 *   the only way the output says which lines are host units; `--prefix depth` and `none` drop
 *   the headers.
 * - Deduplicated (no `--no-dedupe`): cargo prints each (package, features, kind) node in full
 *   once and marks repeats `(*)`, so nothing is lost, and the output cannot grow exponentially.
 * - The binary is not passed: `cargo tree` has no `--bin`, and which binary of a package is built
 *   does not change feature resolution (only dev-dependencies depend on the targets selected).
 * Run it with the same CARGO_TARGET_DIR mount as the build: cargo keeps its rustc queries in
 * `<target>/.rustc_info.json`, which makes a call about 0.1 s instead of 0.6 s.
 */
export function featureTreeCommand(fn: CargoFunction, targetTriple: string): string[] {
  const args = ['cargo', 'tree', '--locked', '--target', targetTriple, '--edges', 'normal,build', '--package', fn.package];
  if (fn.features.length > 0) args.push('--features', fn.features.join(','));
  args.push('--prefix', 'indent', '--charset', 'ascii', '--color', 'never', '--format', FORMAT);
  return args;
}

interface Open {
  readonly kind: UnitKind;
  /** The section the node's children are currently listed in. */
  section: 'normal' | 'build';
}

/** Reads the stdout of `featureTreeCommand` (several trees separated by blank lines are merged). */
export function parseFeatureTree(output: string): ResolvedFeatures {
  const resolved = new Map<string, { target?: readonly string[]; host?: readonly string[] }>();
  // open[d]: the last node printed at depth d; its children follow at depth d + 1.
  let open: Open[] = [];
  const lines = output.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') {
      open = [];
      continue;
    }
    const fail = (why: string) => unreadable(index + 1, line, why);
    const match = /^((?:\| {3}| {4})*)(\|-- |`-- )?(.*)$/.exec(line)!;
    const [, indent = '', branch, text = ''] = match;
    const depth = indent.length / 4 + (branch ? 1 : 0);

    const header = /^\[(build-|dev-)?dependencies\]$/.exec(text);
    if (header) {
      // A header sits at its parent's depth, above the children it introduces.
      if (branch || depth >= open.length) return fail('a dependency-kind header without a package above it');
      if (header[1] === 'dev-') return fail('dev-dependencies are in the tree (run it with --edges normal,build)');
      open[depth]!.section = header[1] === 'build-' ? 'build' : 'normal';
      open.length = depth + 1;
      continue;
    }

    if (depth > open.length) return fail('indented deeper than its parent');
    const node = parseNode(text);
    if (node === undefined) return fail(`not "${FORMAT}"`);
    const parent = depth === 0 ? undefined : open[depth - 1];
    const kind: UnitKind = node.procMacro || parent?.kind === 'host' || parent?.section === 'build' ? 'host' : 'target';

    const known = resolved.get(node.id) ?? {};
    const before = known[kind];
    if (before !== undefined && !sameFeatures(before, node.features)) {
      return fail(`${node.id} (${kind}) was printed before with features [${before.join(', ')}]`);
    }
    resolved.set(node.id, { ...known, [kind]: node.features });
    open.length = depth;
    open.push({ kind, section: 'normal' });
  }
  return resolved;
}

function parseNode(text: string): { id: string; procMacro: boolean; features: string[] } | undefined {
  const body = text.endsWith(' (*)') ? text.slice(0, -' (*)'.length) : text;
  // Feature names cannot contain `|`; a path in the package id could.
  const bar = body.lastIndexOf('|');
  if (bar < 0) return undefined;
  const idText = body.slice(0, bar);
  const featureText = body.slice(bar + 1);
  const procMacro = idText.includes(' (proc-macro)');
  const id = idText.replace(' (proc-macro)', '');
  // Package names start with a letter or `_` (cargo refuses a leading digit; letters may be
  // Unicode), which also keeps `--prefix depth` output (`1common v0.1.0|`) from being misread.
  if (!/^[\p{L}_][\p{L}\p{N}_-]* v\S+( \(.+\))?$/u.test(id) || /\s/.test(featureText)) return undefined;
  const features = featureText === '' ? [] : featureText.split(',').sort();
  return { id, procMacro, features };
}

function unreadable(lineNumber: number, line: string, why: string): never {
  throw featureTreeUnreadable(lineNumber, line, why);
}

/**
 * Whether two functions' graphs enable the same features on every package they share, for the
 * same kind of unit: only then does building them in one cargo run leave both unchanged.
 * A package compiled for the host in one graph and for the target in the other is two separate
 * units in the build and does not count.
 */
export function featuresAgree(a: ResolvedFeatures, b: ResolvedFeatures): FeatureAgreement {
  for (const [packageId, ofA] of a) {
    const ofB = b.get(packageId);
    if (ofB === undefined) continue;
    for (const kind of ['target', 'host'] as const) {
      const featuresA = ofA[kind];
      const featuresB = ofB[kind];
      if (featuresA !== undefined && featuresB !== undefined && !sameFeatures(featuresA, featuresB)) {
        return { agree: false, package: packageName(packageId), packageId, kind, a: [...featuresA].sort(), b: [...featuresB].sort() };
      }
    }
  }
  return { agree: true };
}

/** `sweep-batch turns on common/loud, which api does not` (a is named first). */
export function describeDisagreement(nameA: string, nameB: string, disagreement: Extract<FeatureAgreement, { agree: false }>): string {
  const { package: name, a, b, kind } = disagreement;
  const onlyA = a.filter((feature) => !b.includes(feature));
  const onlyB = b.filter((feature) => !a.includes(feature));
  const named = (features: string[]) => features.map((feature) => `${name}/${feature}`).join(', ');
  const where = kind === 'host' ? ' (compiled for the host: a build-dependency or proc-macro)' : '';
  const parts: string[] = [];
  if (onlyA.length > 0) parts.push(`${nameA} turns on ${named(onlyA)}, which ${nameB} does not`);
  if (onlyB.length > 0) parts.push(`${nameB} turns on ${named(onlyB)}, which ${nameA} does not`);
  return `${parts.join('; ')}${where}`;
}

function packageName(packageId: string): string {
  return packageId.split(' ')[0]!;
}

/** Order-insensitive, so hand-made ResolvedFeatures compare like parsed (sorted) ones. */
function sameFeatures(a: readonly string[], b: readonly string[]): boolean {
  const setA = new Set(a);
  const setB = new Set(b);
  return setA.size === setB.size && [...setA].every((feature) => setB.has(feature));
}
