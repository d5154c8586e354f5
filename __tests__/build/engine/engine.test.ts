import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { checkAll, checkAndReportHits, resultsOrThrow } from '../../../build/engine/engine.js';
import { decode, encode } from '../../../build/engine/wire.js';
import { type Environment, resolveArtifactOptions } from '../../../build/options/resolve.js';
import type { ArtifactOptions } from '../../../build/options/schema.js';
import { isSweepError, SweepError } from '../../../build/support/errors.js';
import { createRecordingOutput, createReporter } from '../../../build/support/reporter.js';

/**
 * The engine's in-process half on real checks of the multi-function fixture (no Docker: nothing
 * here builds): one function's problem is that function's, zips are claimed once, and a check
 * crosses to the child process intact.
 */
const FIXTURES = fileURLToPath(new URL('../../fixtures/workspaces/', import.meta.url));

let project: string;
beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-engine-'));
  fs.cpSync(path.join(FIXTURES, 'multi-function'), path.join(project, 'rust'), { recursive: true });
});
afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

function fn(name: string, extra: ArtifactOptions = {}, env: Environment = {}) {
  return resolveArtifactOptions(
    { projectRoot: project, package: name, binary: name, name, ...extra },
    { env: { SWEEP_DOCKER: '/nonexistent/docker-that-must-not-run', ...env }, origin: { kind: 'context', function: extra.name ?? name } },
  );
}

describe('checkAll: one function that cannot be checked does not stop the others', () => {
  it('GIVEN a function whose package does not exist WHEN all are checked THEN it alone carries an error naming the package; the others are checked', () => {
    const checks = checkAll([fn('api'), fn('ghost'), fn('worker')]);
    expect(isSweepError(checks[0])).toBe(false);
    expect(isSweepError(checks[2])).toBe(false);
    const error = checks[1] as SweepError;
    expect(error).toBeInstanceOf(SweepError);
    expect(error.problem).toContain('has no package named "ghost"');
  });

  it('GIVEN such a failure WHEN the run ends THEN one error names the failed function and says the others are committed', () => {
    const output = createRecordingOutput();
    const checked = checkAndReportHits([fn('api'), fn('ghost'), fn('worker')], (prefix) => createReporter(prefix, output));
    expect(checked.misses.map((check) => check.name)).toEqual(['api', 'worker']);
    expect(checked.labels).toEqual(['api', 'ghost', 'worker']);
    const outcomes = new Map(
      checked.misses.map((check) => [
        check.paths.zip,
        { error: new SweepError({ stage: 'compile', problem: `${check.name} broke`, fix: 'x' }) },
      ]),
    );
    expect(() => resultsOrThrow(checked, checked.settle(outcomes))).toThrow(
      /3 artifacts failed: api \(compile\), ghost \(workspace\), worker \(compile\)/,
    );
    const onlyGhost = new Map<string, never>();
    const settled = checked.settle(onlyGhost);
    expect(settled[1]!.error?.problem).toContain('ghost');
    expect(settled[0]!.error?.problem).toContain('without a result or an error for api');
  });
});

describe('checkAndReportHits: zips claimed once per app', () => {
  const reporter = () => createReporter('test', createRecordingOutput());

  it('GIVEN two artifacts whose zip names differ only in case WHEN checked THEN refused: one file on a case-insensitive file system', () => {
    expect(() => checkAndReportHits([fn('api', { name: 'Api' }), fn('worker', { name: 'api' })], reporter)).toThrow(
      /write zips whose names differ only in case \(dist\/api\.zip; .*\): on a case-insensitive file system they are one file/,
    );
  });

  it('GIVEN the same artifact asked for twice WHEN checked THEN one miss, and both settle to its outcome', () => {
    const checked = checkAndReportHits([fn('api'), fn('api')], reporter);
    expect(checked.misses).toHaveLength(1);
    const result = { name: 'api' } as never;
    const settled = checked.settle(new Map([[checked.misses[0]!.paths.zip, { result }]]));
    expect(settled.map((one) => one.result)).toEqual([result, result]);
  });

  it('GIVEN one zip claimed by an earlier run of the app with another fingerprint WHEN checked again THEN refused', () => {
    const claims = new Map();
    checkAndReportHits([fn('api')], reporter, claims);
    expect(() => checkAndReportHits([fn('api', { profile: 'dev' })], reporter, claims)).toThrow(
      /two artifacts in this app write dist\/api\.zip/,
    );
  });
});

describe('wire: a check crosses to the child process intact', () => {
  it('keeps Maps (the inputs and their snapshot) and everything else as it was', () => {
    const [check] = checkAll([fn('api')]);
    if (isSweepError(check) || check === undefined) throw new Error('expected a check');
    const copy = decode<typeof check>(encode(check));
    expect(copy.fingerprint.inputs).toBeInstanceOf(Map);
    expect([...copy.fingerprint.inputs]).toEqual([...check.fingerprint.inputs]);
    expect([...copy.inputSnapshot]).toEqual([...check.inputSnapshot]);
    expect(copy.fingerprint.value).toBe(check.fingerprint.value);
    expect(copy.options).toEqual(check.options);
  });
});
