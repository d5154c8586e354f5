import { type ArtifactMetadata, METADATA_SCHEMA_VERSION } from '../../build/cache/metadata.js';
import type { BuildSettings, Fingerprint } from '../../build/fingerprint/fingerprint.js';

/**
 * Build settings and metadata for unit tests, so each test spells out only what it is about.
 * The values are plausible, not real: no test should depend on one it did not set.
 */
export function testSettings(overrides: Partial<BuildSettings> = {}): BuildSettings {
  return {
    engine: 1,
    package: 'app',
    binary: 'bootstrap',
    target: 'x86_64-unknown-linux-gnu',
    profile: 'release',
    features: [],
    runtime: 'provided.al2023',
    toolchainImage: 'rust:1-bullseye',
    builderRecipe: 'a'.repeat(64),
    env: {},
    ...overrides,
  };
}

/** The metadata a successful build of `built` would have written; the zip and binary facts are made up unless given. */
export function recordFor(built: Fingerprint, overrides: Partial<ArtifactMetadata> = {}): ArtifactMetadata {
  const artifact = overrides.artifact ?? built.settings.package;
  return {
    schemaVersion: METADATA_SCHEMA_VERSION,
    artifact,
    fingerprint: built.value,
    settings: { ...built.settings, features: [...built.settings.features], env: { ...built.settings.env } },
    inputs: Object.fromEntries(built.inputs),
    builderImage: { tag: 'sweep-builder:rust-1-bullseye-aaaaaaaa', id: `sha256:${'f'.repeat(64)}` },
    zip: { file: `${artifact}.zip`, size: 1, sha256: 'e'.repeat(64), sha256Base64: `${'A'.repeat(43)}=`, originFingerprint: built.value },
    binary: { machine: 'x86_64', linkage: 'dynamic', glibcRequired: '2.28', glibcAvailable: '2.34', size: 1 },
    origin: { kind: 'build', cacheDomain: 'local' },
    builtAt: '2026-01-01T00:00:00.000Z',
    timingsMs: { total: 1 },
    ...overrides,
  };
}
