// `sweep-runtime invoke` without --function: one event is one function's input, so with several
// functions in cdktf.json it stops and lists them (as `sam local invoke` does) before reading the
// event or building anything.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { SweepError } from '../../build/support/errors.js';
import { resolveCliOptions } from '../../cli/cli-options.js';
import { invokeCommand } from '../../cli/invoke-command.js';
import { REPO_ROOT } from '../helpers/project.js';

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-invoke-command-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

/** An event file that is not JSON: reading it is the first step after the function check. */
function notJsonEvent(): string {
  const file = path.join(folder, 'event.json');
  fs.writeFileSync(file, '{not json');
  return file;
}

describe('invokeCommand and --function', () => {
  it("refuses to send one event to every function of the repository's cdktf.json, naming them", async () => {
    const options = resolveCliOptions({ project: REPO_ROOT });
    expect(options.targets).toHaveLength(2);

    const error = (await invokeCommand(options, { event: notJsonEvent() }).catch((e: unknown) => e)) as SweepError;

    expect(error.name).toBe('SweepError');
    expect(error.stage).toBe('config');
    expect(error.problem).toBe('cdktf.json has 2 functions (sweep-lambda, sweep-batch) and invoke sends one event to one function');
    expect(error.fix).toBe('name it with --function, e.g. --function sweep-lambda');
  });

  it('goes on to read the event when --function names one of them', async () => {
    const flags = { function: ['sweep-lambda'], event: notJsonEvent() };
    const error = (await invokeCommand(resolveCliOptions({ project: REPO_ROOT, ...flags }), flags).catch((e: unknown) => e)) as SweepError;
    expect(error.problem).toMatch(/^the event in .*event\.json is not JSON: /);
  });

  it('goes on to read the event when cdktf.json has one function and none is named', async () => {
    const config = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdktf.json'), 'utf8'));
    delete config.context.sweep.functions['sweep-batch'];
    fs.writeFileSync(path.join(folder, 'cdktf.json'), JSON.stringify(config));
    const options = resolveCliOptions({ project: folder, workspace: path.join(REPO_ROOT, 'rust') });
    expect(options.targets).toHaveLength(1);

    const error = (await invokeCommand(options, { event: notJsonEvent() }).catch((e: unknown) => e)) as SweepError;
    expect(error.problem).toMatch(/^the event in .*event\.json is not JSON: /);
  });
});
