import * as path from 'node:path';
import { Aspects, AssetType, Lazy, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import {
  type Architecture,
  type ArtifactResult,
  isSafeName,
  type LambdaRuntime,
  type ResolvedArtifactOptions,
  resolveArtifactOptions,
} from '../build/index.js';
import type { FunctionListEntry } from '../config/function-list.js';
import { AppFunctions } from './app-functions.js';
import { originOf, type RustBuildOptions, toArtifactOptions } from './build-options.js';
import { addedAfterBuild, checkFlavour, forUser, notBuiltYet, unusableId } from './errors.js';
import type { LambdaArtifact } from './lambda-artifact.js';

/** Props of {@link RustArtifact}: what to build (every option has a default). */
export interface RustArtifactConfig extends RustBuildOptions {}

/** What a RustFunction tells its artifact about the function, for the app's function list. */
export interface FunctionSettings {
  readonly construct: string;
  readonly kind: string;
  readonly functionName: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * The zip of one Rust Lambda function, built by the cache-aware engine at synth together with
 * every other RustArtifact of the app: one engine run, each function checked on its own, the
 * misses built in as few cargo runs as their features allow. RustFunction makes one; use it
 * directly to hand the zip to a resource of your own.
 *
 * The build runs when synth reaches the app's first RustArtifact (an aspect), so `filename`,
 * `codeSha256`, `deployedFingerprint` and `fingerprint` are tokens until then: use them in
 * resources and outputs, where they resolve. `outcome`, `via`, `explanation` and `zipPath` can be
 * read after synth. The asset hash is the zip's SHA-256, so the asset's path, and the plan,
 * change exactly when the zip's bytes change.
 */
export class RustArtifact extends Construct implements LambdaArtifact {
  /** The zip's path in the synthesized stack: the function's `filename` (a token until synth). */
  readonly filename: string;
  /** Base64 SHA-256 of the zip: Lambda's CodeSha256 and `source_code_hash` (a token until synth). */
  readonly codeSha256: string;
  /** The fingerprint of the build that first produced the zip's bytes (a token until synth). */
  readonly deployedFingerprint: string;
  /** The cache key of the current build inputs, what `sweep-runtime fingerprint` prints (a token until synth). */
  readonly fingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;
  /** The zip's name: `<distDir>/<artifactName>.zip`, and the name `sweep-runtime --function` takes. */
  readonly artifactName: string;

  private readonly config: RustArtifactConfig;
  /** The engine's options for this artifact: defaults filled in, the environment applied. */
  private readonly options: ResolvedArtifactOptions;
  private readonly registry: AppFunctions;
  private built: { readonly result: ArtifactResult; readonly asset: TerraformAsset } | undefined;

  constructor(scope: Construct, id: string, config: RustArtifactConfig = {}) {
    super(scope, id);
    this.config = config;
    try {
      checkFlavour(this, 'RustArtifact');
      const origin = originOf(config) ?? { kind: 'props' as const, label: `RustArtifact "${this.node.path}" config` };
      // From cdktf.json (SweepStack), cdktf.json's naming rule holds (README: Functions), and the
      // function is not listed: sweep-runtime reads cdktf.json itself.
      const fromCdktfJson = origin.kind === 'context';
      if (config.artifactName !== undefined && !isSafeName(config.artifactName))
        throw unusableId('RustArtifact', this.node.path, config.artifactName, true);
      if (config.artifactName === undefined && !fromCdktfJson && !isSafeName(id)) throw unusableId('RustArtifact', this.node.path, id);
      const name = config.artifactName ?? (fromCdktfJson ? undefined : id);
      this.options = resolveArtifactOptions(toArtifactOptions(config, name), { origin });
      this.artifactName = name ?? this.options.package ?? id;
      this.registry = AppFunctions.of(this);
      const added = this.registry.add({
        options: this.options,
        describe: () => (fromCdktfJson ? undefined : this.describe()),
        attach: (result) => this.attach(result),
      });
      if (!added) throw addedAfterBuild('RustArtifact', this.node.path);
    } catch (error) {
      throw forUser(error, new.target);
    }
    this.architecture = this.options.architecture;
    this.runtime = this.options.runtime;
    this.filename = this.lazy((built) => built.asset.path);
    this.codeSha256 = this.lazy((built) => built.result.metadata.zip.sha256Base64);
    this.deployedFingerprint = this.lazy((built) => built.result.metadata.zip.originFingerprint);
    this.fingerprint = this.lazy((built) => built.result.metadata.fingerprint);
    // Synth reaches the first artifact's aspect before any stack is written: that one builds all.
    Aspects.of(this).add({ visit: (node) => node === this && this.ensureBuilt() });
  }

  /** The zip as a Terraform asset (after synth). */
  get asset(): TerraformAsset {
    return this.afterBuild('asset').asset;
  }
  /** `cache-hit` when the zip was reused (from dist/ or the shared cache), `cache-miss` when this synth built it (after synth). */
  get outcome(): ArtifactResult['outcome'] {
    return this.afterBuild('outcome').result.outcome;
  }
  /** Where the zip came from in this synth: `local` (dist/), `remote` (the shared cache) or `build` (after synth). */
  get via(): ArtifactResult['via'] {
    return this.afterBuild('via').result.via;
  }
  /** The `cache-hit` / `cache-miss: <reasons>` line (after synth). */
  get explanation(): string {
    return this.afterBuild('explanation').result.explanation;
  }
  /** The zip in the dist folder, which the asset copies into cdktf.out (after synth). */
  get zipPath(): string {
    return this.afterBuild('zipPath').result.zipPath;
  }

  /** Builds the app's functions now, if synth has not yet. */
  ensureBuilt(): void {
    try {
      this.registry.build();
    } catch (error) {
      throw forUser(error, RustArtifact.prototype.ensureBuilt);
    }
  }

  private afterBuild(what: string) {
    if (!this.built) throw forUser(notBuiltYet(this.node.path, what), Object.getOwnPropertyDescriptor(RustArtifact.prototype, what)!.get!);
    return this.built;
  }

  /**
   * A value known once the app's functions are built. Synth resolves every token once to prepare
   * the stacks before any aspect runs; that pass's values are thrown away, so it gets a
   * placeholder rather than starting the build there (where an error would come back reworded).
   */
  private lazy(pick: (built: NonNullable<RustArtifact['built']>) => string): string {
    return Lazy.stringValue({
      produce: (context) => {
        if (!this.built) {
          if (context.preparing) return 'built-at-synth';
          this.ensureBuilt();
        }
        return pick(this.built!);
      },
    });
  }

  private attach(result: ArtifactResult): void {
    const asset = new TerraformAsset(this, 'zip', { path: result.zipPath, type: AssetType.FILE, assetHash: result.metadata.zip.sha256 });
    this.built = { result, asset };
  }

  private describe(): FunctionListEntry {
    const settings = functionSettings.get(this)?.() ?? {
      construct: this.node.path,
      kind: 'RustArtifact',
      functionName: this.artifactName,
      memorySize: 256,
      timeoutSeconds: 30,
      environment: {},
    };
    return {
      ...settings,
      environment: { ...settings.environment },
      artifact: {
        ...toArtifactOptions(this.config, this.artifactName),
        projectRoot: listedRoot(this.options.projectRoot),
        binary: this.options.binary,
        name: this.artifactName,
      },
    };
  }
}

/**
 * The project root as the function list records it: relative to the folder the app runs in (where
 * cdktf.json is, so a copied project still points at itself), or absolute when it lies outside.
 */
function listedRoot(projectRoot: string): string {
  const relative = path.relative(process.cwd(), projectRoot);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? projectRoot : relative;
}

/** Function settings of the artifacts that RustFunctions own, for the function list (read at synth). */
const functionSettings = new WeakMap<RustArtifact, () => FunctionSettings>();

/** Tells the function list which function `artifact` is the code of. */
export function describeFunction(artifact: RustArtifact, settings: () => FunctionSettings): void {
  functionSettings.set(artifact, settings);
}
