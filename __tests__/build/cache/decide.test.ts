import { describe, expect, it } from '@jest/globals';
import { type DecisionInput, decide, type ZipState } from '../../../build/cache/decide.js';
import { explainDecision, explainReason } from '../../../build/cache/explain.js';
import type { MetadataReadResult } from '../../../build/cache/metadata.js';
import { type BuildSettings, computeFingerprint, type Fingerprint } from '../../../build/fingerprint/fingerprint.js';
import { recordFor, testSettings } from '../../helpers/artifact-records.js';

// decide.ts is a pure function and explain.ts its words: every reason is checked by the whole
// `cache-hit` / `cache-miss: ...` line a user sees.
const hash = (c: string) => c.repeat(64);

const SETTINGS = testSettings({ package: 'sweep-lambda' });

const INPUTS: Record<string, string> = {
  'Cargo.lock': hash('1'),
  'Cargo.toml': hash('2'),
  'crates/sweep-lambda/Cargo.toml': hash('3'),
  'crates/sweep-lambda/src/main.rs': hash('4'),
};

const fingerprint = (settings: BuildSettings = SETTINGS, inputs: Record<string, string> = INPUTS): Fingerprint =>
  computeFingerprint(settings, new Map(Object.entries(inputs)));

const ok = (built: Fingerprint = fingerprint()): MetadataReadResult => ({
  status: 'ok',
  metadata: recordFor(built, { artifact: 'sweep' }),
});

interface Case {
  readonly current?: Fingerprint;
  readonly metadata?: MetadataReadResult;
  readonly zip?: ZipState;
  readonly forcedBy?: string;
}

/** The line a run prints, for the decision on `c` (defaults: everything matches). */
function line(c: Case, maxNames?: number): string {
  const input: DecisionInput = {
    current: c.current ?? fingerprint(),
    metadata: c.metadata ?? ok(),
    zip: c.zip ?? { state: 'matches' },
    forcedBy: c.forcedBy,
  };
  return explainDecision(decide(input), { zipPath: 'dist/sweep.zip', maxNames });
}

describe('decide + explain: hit', () => {
  it('is a hit when the fingerprint, the record and the zip all match and nothing forces', () => {
    // GIVEN a record written for exactly the current fingerprint, and the zip it describes
    const decision = decide({ current: fingerprint(), metadata: ok(), zip: { state: 'matches' }, forcedBy: undefined });
    // THEN it is a hit, and the line says so
    expect(decision).toEqual({ outcome: 'cache-hit' });
    expect(explainDecision(decision, { zipPath: 'dist/sweep.zip' })).toBe('cache-hit');
  });
});

describe('decide + explain: each miss reason', () => {
  it('no record: first build', () => {
    expect(line({ metadata: { status: 'missing' } })).toBe('cache-miss: no metadata (first build)');
  });

  it('no record: the zip state is irrelevant', () => {
    expect(line({ metadata: { status: 'missing' }, zip: { state: 'missing' } })).toBe('cache-miss: no metadata (first build)');
  });

  it('forced, everything else matching', () => {
    expect(line({ forcedBy: 'FORCE_REBUILD=1' })).toBe('cache-miss: forced (FORCE_REBUILD=1)');
  });

  it('the zip is missing', () => {
    expect(line({ zip: { state: 'missing' } })).toBe('cache-miss: dist/sweep.zip missing');
  });

  it('the zip does not match the record', () => {
    expect(line({ zip: { state: 'differs' } })).toBe('cache-miss: zip does not match its metadata');
  });

  it('an invalid record, with its detail', () => {
    expect(line({ metadata: { status: 'invalid', detail: 'schema version 2, this engine reads 1' } })).toBe(
      'cache-miss: metadata invalid (schema version 2, this engine reads 1)',
    );
  });

  it('an unreadable record, with its detail', () => {
    expect(line({ metadata: { status: 'unreadable', detail: 'not JSON (Unexpected end of JSON input)' } })).toBe(
      'cache-miss: metadata unreadable (not JSON (Unexpected end of JSON input))',
    );
  });

  it('changed inputs, in path order', () => {
    const current = fingerprint(SETTINGS, { ...INPUTS, 'crates/sweep-lambda/src/main.rs': hash('9'), 'Cargo.lock': hash('8') });
    expect(line({ current })).toBe('cache-miss: changed Cargo.lock, crates/sweep-lambda/src/main.rs');
  });

  it('a changed setting', () => {
    expect(line({ current: fingerprint({ ...SETTINGS, profile: 'dev' }) })).toBe('cache-miss: profile release -> dev');
  });

  it('added and removed files, each in its own list', () => {
    // GIVEN main.rs changed, http.rs added, Cargo.lock removed
    const current = fingerprint(SETTINGS, {
      'Cargo.toml': hash('2'),
      'crates/sweep-lambda/Cargo.toml': hash('3'),
      'crates/sweep-lambda/src/http.rs': hash('5'),
      'crates/sweep-lambda/src/main.rs': hash('9'),
    });
    expect(line({ current })).toBe(
      'cache-miss: changed crates/sweep-lambda/src/main.rs; added crates/sweep-lambda/src/http.rs; removed Cargo.lock',
    );
  });

  it('a rename is one file removed and one added', () => {
    const { 'crates/sweep-lambda/src/main.rs': main, ...rest } = INPUTS;
    const current = fingerprint(SETTINGS, { ...rest, 'crates/sweep-lambda/src/bin.rs': main! });
    expect(line({ current })).toBe('cache-miss: added crates/sweep-lambda/src/bin.rs; removed crates/sweep-lambda/src/main.rs');
  });

  it('shortens a long list to five names and `and N more`', () => {
    // GIVEN 17 changed files
    const names = Array.from({ length: 17 }, (_, i) => `src/f${String(i).padStart(2, '0')}.rs`);
    const stored = Object.fromEntries(names.map((n) => [n, hash('1')]));
    const current = Object.fromEntries(names.map((n) => [n, hash('2')]));
    const text = line({ current: fingerprint(SETTINGS, current), metadata: ok(fingerprint(SETTINGS, stored)) });
    expect(text).toBe('cache-miss: changed src/f00.rs, src/f01.rs, src/f02.rs, src/f03.rs, src/f04.rs and 12 more');
  });

  it('shows exactly maxNames names without a count when the list is that long', () => {
    const names = ['a.rs', 'b.rs', 'c.rs'];
    const stored = Object.fromEntries(names.map((n) => [n, hash('1')]));
    const current = Object.fromEntries(names.map((n) => [n, hash('2')]));
    expect(line({ current: fingerprint(SETTINGS, current), metadata: ok(fingerprint(SETTINGS, stored)) }, 3)).toBe(
      'cache-miss: changed a.rs, b.rs, c.rs',
    );
    expect(line({ current: fingerprint(SETTINGS, current), metadata: ok(fingerprint(SETTINGS, stored)) }, 2)).toBe(
      'cache-miss: changed a.rs, b.rs and 1 more',
    );
  });

  it('a record whose fingerprint differs though no setting or input does', () => {
    // GIVEN a record written by other framing: same settings and inputs, another value
    const metadata = ok();
    if (metadata.status !== 'ok') throw new Error('unreachable');
    const other: MetadataReadResult = { status: 'ok', metadata: { ...metadata.metadata, fingerprint: hash('0') } };
    expect(line({ metadata: other })).toBe('cache-miss: fingerprint differs from the metadata (written by another engine version)');
  });
});

describe('decide + explain: the words for each setting', () => {
  it.each<[Partial<BuildSettings>, string]>([
    [{ engine: 2 }, 'engine packaging version 1 -> 2'],
    [{ package: 'other' }, 'package sweep-lambda -> other'],
    [{ binary: 'handler' }, 'binary bootstrap -> handler'],
    [{ target: 'aarch64-unknown-linux-gnu' }, 'target x86_64-unknown-linux-gnu -> aarch64-unknown-linux-gnu'],
    [{ profile: 'dev' }, 'profile release -> dev'],
    [{ features: ['metrics', 'trace'] }, 'features (none) -> metrics,trace'],
    [{ runtime: 'provided.al2' }, 'runtime provided.al2023 -> provided.al2'],
    [{ toolchainImage: 'rust:1-bookworm' }, 'toolchain image rust:1-bullseye -> rust:1-bookworm'],
    [{ builderRecipe: `bbbbbbbb${'c'.repeat(56)}` }, 'builder recipe aaaaaaaa -> bbbbbbbb'],
    [{ env: { RUSTFLAGS: '-C target-cpu=native' } }, 'build environment (none) -> RUSTFLAGS="-C target-cpu=native"'],
  ])('%j -> %s', (change, words) => {
    expect(line({ current: fingerprint({ ...SETTINGS, ...change }) })).toBe(`cache-miss: ${words}`);
  });

  it('shows features removed back to (none)', () => {
    const before = fingerprint({ ...SETTINGS, features: ['trace'] });
    expect(line({ current: fingerprint(), metadata: ok(before) })).toBe('cache-miss: features trace -> (none)');
  });

  it('lists several changed settings, and returns them as structured reasons', () => {
    const current = fingerprint({ ...SETTINGS, profile: 'dev', runtime: 'provided.al2' });
    const decision = decide({ current, metadata: ok(), zip: { state: 'matches' }, forcedBy: undefined });
    expect(decision).toEqual({
      outcome: 'cache-miss',
      reasons: [
        { kind: 'setting-changed', setting: 'profile', from: 'release', to: 'dev' },
        { kind: 'setting-changed', setting: 'runtime', from: 'provided.al2023', to: 'provided.al2' },
      ],
    });
    expect(explainDecision(decision, { zipPath: 'dist/sweep.zip' })).toBe(
      'cache-miss: profile release -> dev; runtime provided.al2023 -> provided.al2',
    );
  });
});

describe('decide + explain: reasons together', () => {
  it('force comes first, then the other reasons', () => {
    const current = fingerprint({ ...SETTINGS, profile: 'dev' });
    expect(line({ current, forcedBy: 'SWEEP_FORCE_REBUILD=1' })).toBe('cache-miss: forced (SWEEP_FORCE_REBUILD=1); profile release -> dev');
  });

  it('force with no record', () => {
    expect(line({ forcedBy: 'FORCE_REBUILD=1', metadata: { status: 'missing' } })).toBe(
      'cache-miss: forced (FORCE_REBUILD=1); no metadata (first build)',
    );
  });

  it('force with an invalid record', () => {
    expect(line({ forcedBy: 'forceRebuild option', metadata: { status: 'invalid', detail: 'zip.size: bad' } })).toBe(
      'cache-miss: forced (forceRebuild option); metadata invalid (zip.size: bad)',
    );
  });

  it('force, a missing zip and a changed file', () => {
    const current = fingerprint(SETTINGS, { ...INPUTS, 'crates/sweep-lambda/src/main.rs': hash('9') });
    expect(line({ current, zip: { state: 'missing' }, forcedBy: 'FORCE_REBUILD=1' })).toBe(
      'cache-miss: forced (FORCE_REBUILD=1); dist/sweep.zip missing; changed crates/sweep-lambda/src/main.rs',
    );
  });

  it('a zip that differs and a changed file', () => {
    const current = fingerprint(SETTINGS, { ...INPUTS, 'Cargo.lock': hash('9') });
    expect(line({ current, zip: { state: 'differs' } })).toBe('cache-miss: zip does not match its metadata; changed Cargo.lock');
  });

  it('changed files and a changed setting: both are named', () => {
    const current = fingerprint(
      { ...SETTINGS, profile: 'dev' },
      { ...INPUTS, 'Cargo.lock': hash('8'), 'crates/sweep-lambda/src/main.rs': hash('9') },
    );
    const text = line({ current });
    expect(text).toContain('changed Cargo.lock, crates/sweep-lambda/src/main.rs');
    expect(text).toContain('profile release -> dev');
  });

  // Regression (fixed bug in build/cache/decide.ts, decide(): settingChanges(...) is pushed before inputChanges(...)): the
  // documented line (explain.ts's header comment, and the issue) names the changed files first:
  // `cache-miss: changed Cargo.lock, crates/sweep-lambda/src/main.rs; profile release -> dev`.
  // The engine prints `cache-miss: profile release -> dev; changed Cargo.lock, ...`.
  it('changed files come before changed settings, as documented', () => {
    const current = fingerprint(
      { ...SETTINGS, profile: 'dev' },
      { ...INPUTS, 'Cargo.lock': hash('8'), 'crates/sweep-lambda/src/main.rs': hash('9') },
    );
    expect(line({ current })).toBe('cache-miss: changed Cargo.lock, crates/sweep-lambda/src/main.rs; profile release -> dev');
  });
});

describe('explainReason', () => {
  it('uses the zip path it is given', () => {
    expect(explainReason({ kind: 'zip-missing' }, { zipPath: 'out/api.zip' })).toBe('out/api.zip missing');
  });

  it('shows a build-environment change with every variable, quoted', () => {
    expect(
      explainReason(
        { kind: 'setting-changed', setting: 'env', from: { RUSTFLAGS: '-C a' }, to: { CARGO_INCREMENTAL: '0', RUSTFLAGS: '-C b' } },
        { zipPath: 'dist/sweep.zip' },
      ),
    ).toBe('build environment RUSTFLAGS="-C a" -> CARGO_INCREMENTAL="0" RUSTFLAGS="-C b"');
  });
});
