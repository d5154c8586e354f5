import { parse as parseToml } from 'smol-toml';

/*
 * Cargo.lock as a dependency graph, to learn which of its entries one package can reach: only
 * those can go into that package's binary. The lock's graph is the resolve for every feature,
 * target and dependency kind (dev-dependencies included), so what a package reaches in it is a
 * superset of what any build of it compiles: a safe set of inputs.
 *
 * Workspace members and path crates have no `source`; registry and git packages have one, and
 * registry packages a `checksum`. A `dependencies` entry names its package as `name`,
 * `name version` or `name version (source)`: as much as tells it apart from the lock's other
 * packages.
 */
export interface LockedPackage {
  readonly name: string;
  readonly version: string;
  readonly source?: string;
  readonly checksum?: string;
  /** As written in the lock. */
  readonly dependencies: readonly string[];
}

export interface CargoLock {
  readonly packages: readonly LockedPackage[];
}

/** Parses Cargo.lock text (any lock version cargo writes). Throws an Error saying what is wrong. */
export function parseCargoLock(text: string): CargoLock {
  const document = parseToml(text) as Record<string, unknown>;
  const list = document.package;
  if (list !== undefined && !Array.isArray(list)) throw new Error('`package` is not an array of tables');
  // Lock version 1 kept the checksums apart, in [metadata]: "checksum <name> <version> (<source>)".
  const metadata = (document.metadata ?? {}) as Record<string, unknown>;
  const packages = ((list ?? []) as unknown[]).map((entry, i): LockedPackage => {
    const table = entry as Record<string, unknown>;
    const { name, version, source, checksum, dependencies = [] } = table;
    if (typeof name !== 'string' || typeof version !== 'string') throw new Error(`package entry ${i + 1} has no name or version`);
    if (source !== undefined && typeof source !== 'string') throw new Error(`package ${name} ${version}: source is not a string`);
    if (!Array.isArray(dependencies) || dependencies.some((d) => typeof d !== 'string'))
      throw new Error(`package ${name} ${version}: dependencies is not a list of strings`);
    const legacy = source !== undefined ? metadata[`checksum ${name} ${version} (${source})`] : undefined;
    const sum = typeof checksum === 'string' ? checksum : typeof legacy === 'string' ? legacy : undefined;
    return {
      name,
      version,
      ...(source !== undefined ? { source } : {}),
      ...(sum !== undefined ? { checksum: sum } : {}),
      dependencies: dependencies as string[],
    };
  });
  return { packages };
}

/**
 * The lock entries `packageName` (a workspace member or path crate: an entry without a source)
 * reaches, itself included, sorted by name, version and source; undefined when the lock does
 * not know the package, or names a dependency it does not hold: then the lock does not describe
 * this workspace (cargo --locked will refuse it), and the caller takes the whole file instead.
 */
export function reachableEntries(lock: CargoLock, packageName: string): LockedPackage[] | undefined {
  const byName = new Map<string, LockedPackage[]>();
  for (const entry of lock.packages) byName.set(entry.name, [...(byName.get(entry.name) ?? []), entry]);
  const roots = (byName.get(packageName) ?? []).filter((entry) => entry.source === undefined);
  if (roots.length !== 1) return undefined;
  const reached = new Set<LockedPackage>();
  const queue = [roots[0]!];
  while (queue.length > 0) {
    const entry = queue.pop()!;
    if (reached.has(entry)) continue;
    reached.add(entry);
    for (const written of entry.dependencies) {
      const dependency = resolveDependency(byName, written);
      if (dependency === undefined) return undefined;
      queue.push(dependency);
    }
  }
  return [...reached].sort(compareEntries);
}

/** `name`, `name version` or `name version (source)` -> the one entry it names, if exactly one. */
function resolveDependency(byName: ReadonlyMap<string, readonly LockedPackage[]>, written: string): LockedPackage | undefined {
  const match = /^(\S+)(?: (\S+))?(?: \((.+)\))?$/.exec(written);
  if (!match) return undefined;
  const [, name, version, source] = match;
  const candidates = (byName.get(name!) ?? []).filter(
    (entry) => (version === undefined || entry.version === version) && (source === undefined || entry.source === source),
  );
  return candidates.length === 1 ? candidates[0] : undefined;
}

function compareEntries(a: LockedPackage, b: LockedPackage): number {
  const ka = `${a.name}\0${a.version}\0${a.source ?? ''}`;
  const kb = `${b.name}\0${b.version}\0${b.source ?? ''}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
