import { App } from 'cdktf';
import type { IConstruct } from 'constructs';
import {
  type ArtifactMemo,
  type ArtifactResult,
  ensureArtifactsSync,
  newArtifactMemo,
  type ResolvedArtifactOptions,
} from '../build/index.js';
import { type FunctionListEntry, writeFunctionList } from '../config/function-list.js';

/*
 * The functions of one app, built together: every RustArtifact (and so every RustFunction) of an
 * app registers here when it is constructed, and the first one that synth reaches (an aspect on
 * each; see rust-artifact.ts) runs the engine ONCE for all of them: each checked on its own, the
 * misses built in as few cargo runs as their features allow. Before building, the app's function
 * list is written for `sweep-runtime` (config/function-list.ts).
 *
 * One registry per app (the construct tree's root), so two apps in one process (tests) build on
 * their own. The memo is shared with RuntimeArtifact: an artifact asked for by both is built once.
 */

/** What a member gets back: its engine result. */
export interface AppFunctionMember {
  readonly options: ResolvedArtifactOptions;
  /** Its entry in the function list (none for a function that cdktf.json describes). */
  describe(): FunctionListEntry | undefined;
  /** Called once, with this member's result, when the build has run. */
  attach(result: ArtifactResult): void;
}

export class AppFunctions {
  /** The registry of `scope`'s app. */
  static of(scope: IConstruct): AppFunctions {
    const root = scope.node.root;
    const registry = registries.get(root) ?? new AppFunctions(root);
    registries.set(root, registry);
    return registry;
  }

  /** Results by zip path, and the zips claimed, for every engine call of this app. */
  readonly memo: ArtifactMemo = newArtifactMemo();
  private readonly members: AppFunctionMember[] = [];
  private state: { readonly kind: 'open' } | { readonly kind: 'built' } | { readonly kind: 'failed'; readonly error: unknown } = {
    kind: 'open',
  };

  private constructor(private readonly root: IConstruct) {}

  get built(): boolean {
    return this.state.kind !== 'open';
  }

  /** Adds a member; false when the app's functions were already built (the caller says so). */
  add(member: AppFunctionMember): boolean {
    if (this.state.kind !== 'open') return false;
    this.members.push(member);
    return true;
  }

  /**
   * Builds every member, once per app: later calls return at once, or throw the first call's
   * error again (a failed build is not retried by the next function's aspect in the same synth).
   */
  build(): void {
    if (this.state.kind === 'built') return;
    if (this.state.kind === 'failed') throw this.state.error;
    try {
      this.writeList();
      const results = ensureArtifactsSync(
        this.members.map((m) => m.options),
        this.memo,
      );
      for (const [i, member] of this.members.entries()) member.attach(results[i]!);
      this.state = { kind: 'built' };
    } catch (error) {
      this.state = { kind: 'failed', error };
      throw error;
    }
  }

  /** The app's function list, in its output folder, before anything is built. */
  private writeList(): void {
    const entries: Record<string, FunctionListEntry> = {};
    for (const member of this.members) {
      const entry = member.describe();
      if (entry === undefined) continue;
      const name = entry.artifact.name;
      // The same artifact asked for twice (one function in two stacks) is one entry; two different
      // artifacts of one name are the engine's error, with a better message than this list could give.
      entries[name] ??= entry;
    }
    const outdir = appOutdir(this.root);
    if (outdir !== undefined && Object.keys(entries).length > 0) writeFunctionList(outdir, entries);
  }
}

const registries = new WeakMap<IConstruct, AppFunctions>();

/** The app's output folder (cdktf.out), or undefined when the tree's root is not an App. */
function appOutdir(root: IConstruct): string | undefined {
  return root instanceof App ? root.outdir : undefined;
}
