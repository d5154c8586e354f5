import { describe, it } from '@jest/globals';
import { execaSync } from 'execa';

/**
 * Tests that need a Docker engine use `describeWithDocker`. Without an engine they are skipped
 * (and reported as skipped, never as passed); with REQUIRE_DOCKER=1 (CI sets it) a missing
 * engine fails the suite instead.
 */
export const DOCKER = process.env.SWEEP_DOCKER || 'docker';

let answer: string | undefined | null = null;

/** The engine's version, or undefined when no engine answers. Asked once per test file. */
export function dockerEngineVersion(): string | undefined {
  if (answer === null) {
    try {
      answer = execaSync(DOCKER, ['version', '--format', '{{.Server.Version}}'], { timeout: 20_000 }).stdout.trim();
    } catch {
      answer = undefined;
    }
  }
  return answer;
}

export function describeWithDocker(name: string, body: () => void): void {
  if (dockerEngineVersion() !== undefined) {
    describe(name, body);
  } else if (process.env.REQUIRE_DOCKER === '1') {
    describe(name, () => {
      it('needs a Docker engine (REQUIRE_DOCKER=1)', () => {
        throw new Error(
          `REQUIRE_DOCKER=1 but no Docker engine answers "${DOCKER} version"; start dockerd, or unset REQUIRE_DOCKER to skip`,
        );
      });
    });
  } else {
    describe.skip(`${name} (skipped: no Docker engine; set REQUIRE_DOCKER=1 to fail instead)`, body);
  }
}

/** The toolchain image the integration tests build with (see docker/build-local-toolchain.sh). */
export const TOOLCHAIN_IMAGE = process.env.SWEEP_TEST_TOOLCHAIN_IMAGE || 'rust:1-bullseye';
/** A toolchain whose glibc (2.36) is newer than provided.al2023's, for the refusal tests. */
export const NEWER_GLIBC_TOOLCHAIN_IMAGE = process.env.SWEEP_TEST_NEWER_TOOLCHAIN_IMAGE || 'sweep-local/rust:bookworm';
