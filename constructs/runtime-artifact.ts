import { AssetType, TerraformAsset } from 'cdktf';
import { Construct, type IConstruct } from 'constructs';
import {
  type Architecture,
  type ArtifactMemo,
  type ArtifactOptions,
  type ArtifactResult,
  ensureArtifactsSync,
  type LambdaRuntime,
  newArtifactMemo,
  type ResolvedArtifactOptions,
  resolveArtifactOptions,
} from '../build/index.js';
import type { LambdaArtifact } from './lambda-artifact.js';

/**
 * Props of {@link RuntimeArtifact}: the artifact options (build/options/schema.ts documents each one and
 * its default). The environment overrides them where a variable exists: FORCE_REBUILD /
 * SWEEP_FORCE_REBUILD, SWEEP_DOCKER_PULL_POLICY, SWEEP_TOOLCHAIN_IMAGE, SWEEP_DOCKER,
 * SWEEP_CACHE_DIR, SWEEP_REMOTE_CACHE, SWEEP_REMOTE_CACHE_MODE.
 */
export type RuntimeArtifactConfig = ArtifactOptions;

/**
 * One Rust Lambda zip, built at synth time by the cache-aware engine and handed to Terraform as a
 * file asset. For several functions of one workspace use {@link RuntimeArtifacts}, which builds
 * them in one engine run (and as few cargo runs as their features allow).
 *
 * The asset hash is the zip's SHA-256, so the asset's path in cdktf.out, and so the plan, changes
 * exactly when the zip's bytes change: unchanged inputs, or a rebuild that produced the same
 * bytes, plan no change.
 *
 * Constructors are synchronous, as CDK's own bundling is: a cache hit is answered in-process; a
 * miss runs the engine in a child process whose progress streams to stdout.
 */
export class RuntimeArtifact extends Construct implements LambdaArtifact {
  readonly asset: TerraformAsset;
  readonly codeSha256: string;
  /** The cache key of the current build inputs (what `sweep-runtime fingerprint` prints). */
  readonly fingerprint: string;
  readonly deployedFingerprint: string;
  readonly architecture: Architecture;
  readonly runtime: LambdaRuntime;
  /** `cache-hit` when the zip was reused (from dist/ or the shared cache), `cache-miss` when this synth built it. */
  readonly outcome: 'cache-hit' | 'cache-miss';
  /** Where the zip came from in this synth: `local` (dist/), `remote` (the shared cache) or `build`. */
  readonly via: ArtifactResult['via'];
  /** The `cache-hit` / `cache-miss: <reasons>` line. */
  readonly explanation: string;
  /** The zip in the dist folder (the asset copies it into cdktf.out). */
  readonly zipPath: string;

  constructor(scope: Construct, id: string, config: RuntimeArtifactConfig = {}) {
    super(scope, id);
    // Made by RuntimeArtifacts, which resolved and ensured every function in one run: take its
    // result rather than resolving and checking again.
    const handed = handedOver.get(scope)?.get(id);
    const options =
      handed?.options ?? resolveArtifactOptions(config, { origin: { kind: 'props', label: `RuntimeArtifact "${this.node.path}" config` } });
    const result = handed?.result ?? ensureArtifactsSync([options], memoOf(this.node.root))[0];
    this.fingerprint = result!.metadata.fingerprint;
    this.deployedFingerprint = result!.metadata.zip.originFingerprint;
    this.codeSha256 = result!.metadata.zip.sha256Base64;
    this.architecture = options.architecture;
    this.runtime = options.runtime;
    this.outcome = result!.outcome;
    this.via = result!.via;
    this.explanation = result!.explanation;
    this.zipPath = result!.zipPath;
    this.asset = new TerraformAsset(this, 'zip', { path: result!.zipPath, type: AssetType.FILE, assetHash: result!.metadata.zip.sha256 });
  }
}

/** Props of {@link RuntimeArtifacts}. */
export interface RuntimeArtifactsConfig {
  /**
   * Options every artifact shares: the workspace-wide ones (workspace, distDir, cacheDir,
   * remoteCache, pullPolicy, forceRebuild, projectRoot) and defaults for the rest.
   * @default - the defaults of each option
   */
  readonly shared?: ArtifactOptions;
  /**
   * Each function's own options (package, binary, name, architecture, runtime, profile,
   * features, toolchainImage), by function name. As for RuntimeArtifact, an artifact's `name`
   * defaults to its package's name: two functions of one package need a `name` each.
   */
  readonly functions: Readonly<Record<string, ArtifactOptions>>;
  /** How the options are named in errors and hints. @default - this construct's config */
  readonly origins?: Readonly<Record<string, ResolvedArtifactOptions['origin']>>;
}

/**
 * The artifacts of several functions of one workspace, made in one engine run: each function is
 * checked on its own (a changed crate misses only for the functions built from it), the misses
 * are built together in as few cargo runs as their resolved features allow, and each function gets
 * its own {@link RuntimeArtifact} (`get(name)`).
 */
export class RuntimeArtifacts extends Construct {
  private readonly artifacts = new Map<string, RuntimeArtifact>();

  constructor(scope: Construct, id: string, config: RuntimeArtifactsConfig) {
    super(scope, id);
    const entries = Object.entries(config.functions).map(([name, own]) => {
      const options: ArtifactOptions = { ...config.shared, ...own };
      const origin = config.origins?.[name] ?? { kind: 'props' as const, label: `RuntimeArtifacts "${this.node.path}" config of ${name}` };
      return { name, options, resolved: resolveArtifactOptions(options, { origin }) };
    });
    // One engine run for all of them: each function is resolved, checked and built once; each
    // RuntimeArtifact below takes its result.
    const results = ensureArtifactsSync(
      entries.map((e) => e.resolved),
      memoOf(this.node.root),
    );
    const handed = new Map(entries.map((e, i) => [e.name, { options: e.resolved, result: results[i]! }]));
    handedOver.set(this, handed);
    for (const { name, options } of entries) this.artifacts.set(name, new RuntimeArtifact(this, name, options));
    handedOver.delete(this);
  }

  /** The artifact of function `name`. */
  get(name: string): RuntimeArtifact {
    const artifact = this.artifacts.get(name);
    if (!artifact)
      throw new Error(`RuntimeArtifacts "${this.node.path}" has no function "${name}" (it has ${[...this.artifacts.keys()].join(', ')})`);
    return artifact;
  }

  get names(): string[] {
    return [...this.artifacts.keys()];
  }
}

/** One memo per app: an artifact used twice in an app is built once. */
const memos = new WeakMap<IConstruct, ArtifactMemo>();
function memoOf(app: IConstruct): ArtifactMemo {
  const memo = memos.get(app) ?? newArtifactMemo();
  memos.set(app, memo);
  return memo;
}

/** Results RuntimeArtifacts hands to the RuntimeArtifact it is constructing, by scope and id. */
const handedOver = new WeakMap<IConstruct, Map<string, { readonly options: ResolvedArtifactOptions; readonly result: ArtifactResult }>>();
