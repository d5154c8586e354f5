import { createHash } from 'node:crypto';

import { z } from 'zod';

/*
 * The cache key of a runtime artifact: everything that can change the bytes of the zip.
 *
 * `settings` are the build's parameters; `inputs` are the workspace files (relative path ->
 * content hash). The value is a SHA-256 over a canonical text of both, so it does not depend on
 * the workspace's absolute path, the order the file system lists files in, the timezone or any
 * mtime: the same sources cloned anywhere give the same fingerprint.
 *
 * `buildSettingsSchema` is the one description of the settings: their type, the metadata's
 * schema for them, and the words a `cache-miss: <setting> a -> b` line uses.
 */
export const buildSettingsSchema = z.object({
  engine: z.number().int().meta({ words: 'engine packaging version' }),
  package: z.string().meta({ words: 'package' }),
  binary: z.string().meta({ words: 'binary' }),
  target: z.string().meta({ words: 'target' }),
  profile: z.string().meta({ words: 'profile' }),
  features: z.array(z.string()).meta({ words: 'features' }),
  runtime: z.string().meta({ words: 'runtime' }),
  toolchainImage: z.string().meta({ words: 'toolchain image' }),
  /** Hash of the builder recipe: the Dockerfile's content and its build args. */
  builderRecipe: z.string().meta({ words: 'builder recipe' }),
  /** Allow-listed build variables (RUSTFLAGS, CARGO_PROFILE_*, ...). */
  env: z.record(z.string(), z.string()).meta({ words: 'build environment' }),
});
export type BuildSettings = z.infer<typeof buildSettingsSchema>;

/** How a setting is named in log lines, from the schema. */
export function settingWords(setting: keyof BuildSettings): string {
  const words = buildSettingsSchema.shape[setting].meta()?.words;
  return typeof words === 'string' ? words : setting;
}

export interface Fingerprint {
  readonly value: string;
  readonly settings: BuildSettings;
  readonly inputs: ReadonlyMap<string, string>;
}

/**
 * Bump when the engine changes anything that alters the zip for the same sources: the cargo
 * command line, the zip layout, the verification rules. Every artifact is then rebuilt once.
 */
export const ENGINE_PACKAGING_VERSION = 3;
// 2: CARGO_HOME moved into the build container (/tmp/cargo-home); registry crates' source paths,
//    which panic messages embed, moved with it.
// 3: deflate level 1 instead of 9 (zip.ts), and per-function inputs: Cargo.lock's reachable
//    entries instead of the whole file, no other members' manifests (fingerprint/scope.ts).
//    Both change every artifact's fingerprint or bytes: one bump, one rebuild.

export function computeFingerprint(settings: BuildSettings, inputs: ReadonlyMap<string, string>): Fingerprint {
  // The framing below is part of every stored fingerprint: changing it (the header, the field
  // separators, the order) changes every hash and rebuilds every artifact once. Paths cannot
  // contain NUL, so `path NUL hash` cannot be forged by a file name.
  const hash = createHash('sha256');
  hash.update('sweep-fingerprint v1\n');
  for (const key of Object.keys(settings).sort()) {
    hash.update(`setting ${key}=${canonicalJson(settings[key as keyof BuildSettings])}\n`);
  }
  const paths = [...inputs.keys()].sort(byCodePoint);
  for (const p of paths) hash.update(`input ${p}\0${inputs.get(p)}\n`);
  return { value: hash.digest('hex'), settings, inputs: new Map(paths.map((p) => [p, inputs.get(p)!])) };
}

/** JSON with object keys sorted at every level, so equal values always serialize the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort(byCodePoint)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Sorting by UTF-16 code unit, independent of the machine's locale. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
