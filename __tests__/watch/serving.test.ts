import { describe, expect, it } from '@jest/globals';
import type { ArtifactMetadata } from '../../build/cache/metadata.js';
import type { CodeSource } from '../../invoke/function-code.js';
import type { LocalFunction } from '../../invoke/function-pool.js';
import { planServing, type Served, type Wanted } from '../../watch/serving.js';

/** What the Invoke API is told after a build, from what it serves and what cdktf.json and the build say now. */
const API: LocalFunction = {
  key: 'api',
  functionName: 'api-deployed',
  memorySize: 256,
  timeoutSeconds: 30,
  environment: { MODE: 'a' },
  reservedConcurrency: null,
};

function code(sha: string): CodeSource {
  return {
    zipPath: `/p/dist/${sha}.zip`,
    metadata: { zip: { sha256: sha } } as unknown as ArtifactMetadata,
    builderImage: 'sweep-builder:rust-1-bullseye-aaaaaaaa',
  };
}

const served = (entries: Record<string, Served>) => new Map(Object.entries(entries));
const wanted = (entries: Record<string, Wanted>) => new Map(Object.entries(entries));

describe('planServing', () => {
  it('GIVEN a function built for the first time THEN it is registered', () => {
    expect(planServing(served({}), wanted({ api: { settings: API, code: code('v1') } }))).toEqual([
      { kind: 'register', key: 'api', settings: API, code: code('v1') },
    ]);
  });

  it('GIVEN new bytes for a served function THEN its code is replaced (hot reload), the same bytes change nothing', () => {
    const now = served({ api: { settings: API, code: code('v1') } });
    expect(planServing(now, wanted({ api: { settings: API, code: code('v2') } }))).toEqual([
      { kind: 'replace-code', key: 'api', code: code('v2') },
    ]);
    expect(planServing(now, wanted({ api: { settings: API, code: code('v1') } }))).toEqual([]);
  });

  it('GIVEN settings changed in cdktf.json THEN unregistered and registered again, with the code it served when it was not rebuilt', () => {
    const now = served({ api: { settings: API, code: code('v1') } });
    const more = { ...API, memorySize: 512, environment: { MODE: 'b' } };
    expect(planServing(now, wanted({ api: { settings: more } }))).toEqual([
      { kind: 're-register', key: 'api', settings: more, code: code('v1') },
    ]);
    expect(planServing(now, wanted({ api: { settings: more, code: code('v2') } }))).toEqual([
      { kind: 're-register', key: 'api', settings: more, code: code('v2') },
    ]);
  });

  it('GIVEN a build that failed THEN the function keeps its code, and one never built is not served', () => {
    const now = served({ api: { settings: API, code: code('v1') } });
    expect(planServing(now, wanted({ api: { settings: API }, batch: { settings: { ...API, key: 'batch', functionName: 'b' } } }))).toEqual(
      [],
    );
  });

  it('GIVEN a function gone from cdktf.json THEN it is unregistered first (its names are free for the others)', () => {
    const now = served({ old: { settings: { ...API, key: 'old' }, code: code('v0') } });
    expect(planServing(now, wanted({ api: { settings: API, code: code('v1') } }))).toEqual([
      { kind: 'unregister', key: 'old' },
      { kind: 'register', key: 'api', settings: API, code: code('v1') },
    ]);
  });
});
