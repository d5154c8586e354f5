import * as fs from 'node:fs';
import { describe, it } from '@jest/globals';
import { execaSync } from 'execa';

/**
 * Tests that drive the real AWS CLI v2 use `describeWithAwsCli`. Debian's v2 is called by its path:
 * a pip-installed v1 earlier on PATH lacks `--cli-binary-format`. Without it they are skipped (and
 * reported as skipped); with REQUIRE_DOCKER=1 (CI sets it, and .ci/run installs `awscli`) a
 * missing CLI fails the suite instead.
 */
export const AWS_CLI = '/usr/bin/aws';

function awsCliVersion(): string | undefined {
  if (!fs.existsSync(AWS_CLI)) return undefined;
  try {
    const version = execaSync(AWS_CLI, ['--version'], { timeout: 30_000 }).stdout.trim();
    return version.startsWith('aws-cli/2.') ? version : undefined;
  } catch {
    return undefined;
  }
}

export function describeWithAwsCli(name: string, body: () => void): void {
  if (awsCliVersion() !== undefined) {
    describe(name, body);
  } else if (process.env.REQUIRE_DOCKER === '1') {
    describe(name, () => {
      it('needs the AWS CLI v2 at /usr/bin/aws (REQUIRE_DOCKER=1)', () => {
        throw new Error(`REQUIRE_DOCKER=1 but ${AWS_CLI} is not the AWS CLI v2; apt-get install awscli, or unset REQUIRE_DOCKER to skip`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: no AWS CLI v2 at ${AWS_CLI}; set REQUIRE_DOCKER=1 to fail instead)`, body);
  }
}

/**
 * The environment for a CLI run against a local endpoint: dummy credentials and region, no
 * config files of this machine's user, no pager, and one attempt (the CLI retries a 429 by itself,
 * which would hide the throttling a test asks for).
 */
export function awsCliEnvironment(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_ACCESS_KEY_ID: 'AKIALOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret',
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
  };
}
