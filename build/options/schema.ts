import { z } from 'zod';
import { parseRemoteCacheUrl } from '../remote/url.js';
import { isSafeName } from '../support/safe-name.js';

/*
 * The options of a runtime artifact. `artifactOptionsSchema` is the one source of every option:
 * its type (`ArtifactOptions` is inferred from it), its default (`.default(...)`), and what it
 * accepts in words (`.meta({ expected })`, used by every config error). A new option is one
 * entry here; the compiler finds everything else that must handle it. resolve.ts turns what a
 * user gave into the options the engine runs with.
 */

export const ARCHITECTURES = ['x86_64', 'arm64'] as const;
export const RUNTIMES = ['provided.al2023', 'provided.al2'] as const;
export const PULL_POLICIES = ['always', 'if-missing', 'never'] as const;
export const REMOTE_CACHE_MODES = ['read', 'read-write', 'off'] as const;

export type Architecture = (typeof ARCHITECTURES)[number];
export type LambdaRuntime = (typeof RUNTIMES)[number];
export type PullPolicy = (typeof PULL_POLICIES)[number];
export type RemoteCacheMode = (typeof REMOTE_CACHE_MODES)[number];

/** What each Lambda architecture builds: the Rust target and the Debian architecture of its libraries. */
export const TARGETS: Readonly<Record<Architecture, { readonly triple: string; readonly debianArch: string }>> = {
  x86_64: { triple: 'x86_64-unknown-linux-gnu', debianArch: 'amd64' },
  arm64: { triple: 'aarch64-unknown-linux-gnu', debianArch: 'arm64' },
};

/** The highest glibc symbol version each runtime provides (Amazon Linux 2023: 2.34, Amazon Linux 2: 2.26). */
export const RUNTIME_GLIBC: Readonly<Record<LambdaRuntime, string>> = {
  'provided.al2023': '2.34',
  'provided.al2': '2.26',
};

/** The file Lambda's custom runtime starts, and so the handler name and the zip's one entry. */
export const LAMBDA_ENTRY_POINT = 'bootstrap';

// Cargo feature names, including `dependency/feature` and `dep:name` forms.
const FEATURE = /^[A-Za-z0-9_][A-Za-z0-9_+.:/-]*$/;
// A Docker image reference: [registry[:port]/]path[:tag][@digest], lower-case path components.
export const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

const safeName = z.string().refine(isSafeName);
const folder = z.string().min(1).max(4096);
const expectOneOf = (values: readonly string[]) => `one of ${values.map((v) => `"${v}"`).join(', ')}`;

export const remoteCacheSchema = z
  .object({
    url: z
      .string()
      .refine((url) => safeParse(() => parseRemoteCacheUrl(url)))
      .meta({ expected: 'an S3 location "s3://bucket" or "s3://bucket/prefix"' }),
    mode: z
      .enum(REMOTE_CACHE_MODES)
      .default('read')
      .meta({ expected: expectOneOf(REMOTE_CACHE_MODES) }),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/)
      .optional()
      .meta({ expected: 'the bucket\'s AWS region, e.g. "eu-west-1" (default: AWS_REGION, else us-east-1)' }),
    /**
     * Public keys whose signatures make a download trusted: with any set, a build without a valid
     * signature by one of them is discarded and built locally. Each is checked by resolve.ts,
     * which can say what is wrong without repeating a private key pasted here by mistake.
     * Overridden by SWEEP_REMOTE_CACHE_TRUSTED_KEYS. @default - none: downloads are not signature-checked
     */
    trustedKeys: z
      .array(z.string())
      .optional()
      .meta({ expected: 'a list of public keys "NAME:<base64>", as `sweep-runtime keygen` prints them' }),
  })
  .strict();

/**
 * What a function's own artifact can set (cdktf.json `sweep.functions.<name>.artifact`); these
 * are also accepted in `sweep.artifact`, as defaults for every function.
 */
export const functionArtifactShape = {
  /** The Cargo package that has the Lambda binary. @default - the member that declares a binary named `binary`; an error if none or several do */
  package: safeName.optional().meta({ expected: 'a Cargo package name' }),
  /** The binary target; Lambda starts a file called `bootstrap`, so it is zipped under that name. @default 'bootstrap' */
  binary: safeName.default(LAMBDA_ENTRY_POINT).meta({ expected: 'a Cargo binary name' }),
  /** The file names in `distDir` (`<name>.zip`, `<name>.json`) and the prefix of log lines. @default - the function's name, else the package name */
  name: safeName.optional().meta({ expected: 'a file-name-safe artifact name (letters, digits, _ . -)' }),
  /** The Lambda architecture; selects the Rust target triple. @default 'x86_64' */
  architecture: z
    .enum(ARCHITECTURES)
    .default('x86_64')
    .meta({ expected: expectOneOf(ARCHITECTURES) }),
  /** The Lambda runtime; its glibc bounds what the binary may need. @default 'provided.al2023' */
  runtime: z
    .enum(RUNTIMES)
    .default('provided.al2023')
    .meta({ expected: expectOneOf(RUNTIMES) }),
  /** The Cargo profile (`release`, `dev`, or a custom profile). @default 'release' */
  profile: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('release')
    .meta({ expected: 'a Cargo profile name such as "release" or "dev"' }),
  /** Cargo features to enable on the package. @default - none */
  features: z.array(z.string().regex(FEATURE)).default([]).meta({ expected: 'a list of Cargo feature names' }),
  /** The Rust toolchain image the builder image extends. Overridden by SWEEP_TOOLCHAIN_IMAGE. @default 'rust:1-bullseye' */
  toolchainImage: z
    .string()
    .regex(IMAGE_REFERENCE)
    .default('rust:1-bullseye')
    .meta({ expected: 'a Docker image reference such as "rust:1-bullseye"' }),
};

/** What only makes sense once per workspace (cdktf.json `sweep.artifact`, or a construct's config). */
export const workspaceArtifactShape = {
  /** The Cargo workspace (or single package) folder. @default 'rust', relative to `projectRoot` */
  workspace: folder.default('rust').meta({ expected: 'a folder path' }),
  /** When to pull the toolchain image. Overridden by SWEEP_DOCKER_PULL_POLICY. @default 'if-missing' */
  pullPolicy: z
    .enum(PULL_POLICIES)
    .default('if-missing')
    .meta({ expected: expectOneOf(PULL_POLICIES) }),
  /** Rebuild even when the cache says the zip is current. Overridden by FORCE_REBUILD / SWEEP_FORCE_REBUILD. @default false */
  forceRebuild: z.boolean().default(false).meta({ expected: 'true or false' }),
  /** The folder every relative path is resolved against. @default - the current directory (where cdktf.json is) */
  projectRoot: folder.optional().meta({ expected: 'a folder path' }),
  /** Where the zip and its metadata are written. @default 'dist', relative to `projectRoot` */
  distDir: folder.default('dist').meta({ expected: 'a folder path' }),
  /** Persistent caches: cargo target folders, cargo's downloads, file hashes. Overridden by SWEEP_CACHE_DIR. @default '.cache' */
  cacheDir: folder.default('.cache').meta({ expected: 'a folder path' }),
  /** The shared artifact cache on S3. Overridden by SWEEP_REMOTE_CACHE / SWEEP_REMOTE_CACHE_MODE. @default - none */
  remoteCache: remoteCacheSchema
    .optional()
    .meta({ expected: '{"url": "s3://bucket/prefix", "mode": "read" | "read-write" | "off", "trustedKeys"?: ["NAME:<base64>"]}' }),
};

export const artifactOptionsSchema = z.object({ ...workspaceArtifactShape, ...functionArtifactShape }).strict();
export const functionArtifactSchema = z.object(functionArtifactShape).strict();

/** The options as a user gives them: every field optional. */
export type ArtifactOptions = z.input<typeof artifactOptionsSchema>;
/** The keys a function's own `artifact` may set. */
export type FunctionArtifactOptions = z.input<typeof functionArtifactSchema>;

/** The defaults, read from the schema (for constructs that show them, e.g. a prebuilt zip's architecture). */
export const ARTIFACT_DEFAULTS = artifactOptionsSchema.parse({});

/** The key of this project's settings in cdktf.json's `context`. */
export const CONTEXT_KEY = 'sweep';

function safeParse(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch {
    return false;
  }
}
