import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FUNCTION_LIST_FILE, type FunctionListEntry, writeFunctionList } from '../../config/function-list.js';
import { loadProject } from '../../config/project.js';
import { sweepError } from '../helpers/errors.js';

/** Which functions sweep-runtime acts on: cdktf.json's sweep.functions, else the app's function list, else cdktf.json's one function. */
let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-project-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const writeCdktfJson = (content: Record<string, unknown>) => fs.writeFileSync(path.join(root, 'cdktf.json'), JSON.stringify(content));
const entry = (name: string, overrides: Partial<FunctionListEntry> = {}): FunctionListEntry => ({
  construct: `stack/${name}`,
  kind: 'RustFunction',
  functionName: `${name}-fn`,
  memorySize: 512,
  timeoutSeconds: 60,
  environment: { MODE: name },
  artifact: { projectRoot: '.', package: name, binary: name, name },
  ...overrides,
});

describe('loadProject', () => {
  it('GIVEN a code-defined app that synthesized WHEN loaded THEN its function list is the functions, with their settings', () => {
    writeCdktfJson({ app: 'npx tsx main.ts', context: { sweep: { region: 'eu-west-1' } } });
    writeFunctionList(path.join(root, 'cdktf.out'), { api: entry('api'), worker: entry('worker') });
    const { app } = loadProject(root);
    expect(app.region).toBe('eu-west-1');
    expect(app.functionsFrom).toBe(path.join('cdktf.out', FUNCTION_LIST_FILE));
    expect(app.functions).toEqual([
      {
        key: 'api',
        functionName: 'api-fn',
        memorySize: 512,
        timeoutSeconds: 60,
        environment: { MODE: 'api' },
        reservedConcurrency: null,
        logRetentionDays: 14,
        artifact: { projectRoot: '.', package: 'api', binary: 'api', name: 'api' },
        origin: { kind: 'props', label: 'RustFunction "stack/api" config' },
      },
      expect.objectContaining({ key: 'worker' }),
    ]);
  });

  it("reads the list in cdktf.json's output folder", () => {
    writeCdktfJson({ output: 'out/synth' });
    writeFunctionList(path.join(root, 'out', 'synth'), { api: entry('api') });
    expect(loadProject(root).app.functions.map((f) => f.key)).toEqual(['api']);
  });

  it("GIVEN cdktf.json's sweep.functions THEN they win over a list", () => {
    writeCdktfJson({ context: { sweep: { functions: { only: { artifact: { package: 'p' } } } } } });
    writeFunctionList(path.join(root, 'cdktf.out'), { api: entry('api') });
    expect(loadProject(root).app.functions.map((f) => f.key)).toEqual(['only']);
  });

  it("GIVEN no list and no sweep.functions THEN cdktf.json's one function (or the defaults)", () => {
    expect(loadProject(root).app.functions.map((f) => f.key)).toEqual(['aws-serverless-sweep']);
    writeCdktfJson({ context: { sweep: { artifact: { package: 'sweep-lambda' } } } });
    expect(loadProject(root).app.functions.map((f) => f.key)).toEqual(['sweep-lambda']);
  });

  it('a list of another version is an error that says to synthesize again', () => {
    fs.mkdirSync(path.join(root, 'cdktf.out'));
    fs.writeFileSync(path.join(root, 'cdktf.out', FUNCTION_LIST_FILE), JSON.stringify({ version: 99, functions: {} }));
    const error = sweepError(() => loadProject(root));
    expect(error.message).toBe(`config: invalid ${path.join(root, 'cdktf.out', FUNCTION_LIST_FILE)}:\n  version: got 99; expected 1`);
    expect(error.fix).toBe('run `npx cdktf synth` with this version of aws-serverless-sweep to rewrite it');
  });
});
