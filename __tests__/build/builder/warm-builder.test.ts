import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type BuilderContainer, LABEL_WARM, runInBuilder } from '../../../build/builder/container.js';
import { DockerClient } from '../../../build/builder/docker.js';
import { WarmBuilderContainers } from '../../../build/builder/warm-builder.js';
import { cachePaths } from '../../../build/cache/paths.js';
import { resolveArtifactOptions } from '../../../build/options/resolve.js';
import { createRecordingOutput, createReporter } from '../../../build/support/reporter.js';

/**
 * The warm builder of sweep-runtime watch against a stub docker client that records every call
 * (the real engine runs in watch's integration tests): what it starts, what it execs, what it
 * removes, and that its container is what a build's container is.
 */
let folder: string;
let log: string;
let docker: DockerClient;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-warm-builder-'));
  log = path.join(folder, 'calls.jsonl');
  const stub = path.join(folder, 'docker');
  // Answers as docker would, as far as the builder looks; `exec` obeys files the test writes.
  fs.writeFileSync(
    stub,
    `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
const control = (name) => fs.existsSync(${JSON.stringify(folder)} + '/' + name);
if (args[0] === 'version') console.log('20.10.24');
else if (args[0] === 'image') console.log('sha256:' + 'b'.repeat(64));
else if (args[0] === 'run' && args[1] === '-d') console.log('c'.repeat(64));
else if (args[0] === 'inspect') {
  if (control('gone')) { fs.rmSync(${JSON.stringify(folder)} + '/gone'); console.log('false'); } else console.log('true');
} else if (args[0] === 'exec') {
  if (control('hang')) setTimeout(() => {}, 60000);
  else if (control('gone')) { console.error('Error: No such container'); process.exit(1); }
  else console.log('exec ok');
}
`,
    { mode: 0o755 },
  );
  docker = new DockerClient(stub);
});
const builders: WarmBuilderContainers[] = [];
afterEach(async () => {
  for (const builder of builders.splice(0)) await builder.close();
  fs.rmSync(folder, { recursive: true, force: true });
});

/** A warm builder closed after the test (against the stub: nothing real to remove). */
function warmBuilder(): WarmBuilderContainers {
  const builder = new WarmBuilderContainers();
  builders.push(builder);
  return builder;
}

function calls(): string[][] {
  return fs.existsSync(log)
    ? fs
        .readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as string[])
    : [];
}

function container(extra: Partial<BuilderContainer> = {}, remoteMode?: 'read-write'): BuilderContainer {
  const project = path.join(folder, 'project');
  fs.mkdirSync(path.join(project, 'rust'), { recursive: true });
  const options = resolveArtifactOptions(
    {
      projectRoot: project,
      name: 'fn',
      toolchainImage: 'rust:1-bullseye',
      ...(remoteMode && { remoteCache: { url: 's3://bucket/prefix', mode: remoteMode } }),
    },
    // The stub as SWEEP_DOCKER too: prepare() makes its own client from the options.
    { env: { RUSTFLAGS: '-C target-cpu=x86-64', SWEEP_DOCKER: docker.command } },
  );
  return {
    docker,
    image: 'sweep-builder:rust-1-bullseye-aaaaaaaa',
    imageId: `sha256:${'b'.repeat(64)}`,
    options,
    cache: cachePaths(options),
    artifactKeys: ['key1', 'key2'],
    reporter: createReporter('fn', createRecordingOutput()),
    ...extra,
  };
}

/** The options of a `docker run` between `run --rm`/`run -d` and the image, less the name and the warm label. */
function containerOptions(args: readonly string[], image: string): string[] {
  const options = args.slice(2, args.indexOf(image));
  const out: string[] = [];
  for (let i = 0; i < options.length; i++) {
    if (options[i] === '--name' || (options[i] === '--label' && options[i + 1] === `${LABEL_WARM}=1`)) i++;
    else out.push(options[i]!);
  }
  return out;
}

describe('WarmBuilderContainers', () => {
  it("GIVEN two commands THEN one container, started with a build container's options from the image's ID, and each command exec'd in it", async () => {
    const fresh = container();
    await runInBuilder(fresh, 'compile', ['cargo', 'build']);
    const freshRun = calls().find((args) => args[0] === 'run')!;
    fs.rmSync(log);

    const warm = warmBuilder();
    const kept = container({ warm });
    await runInBuilder(kept, 'features', ['cargo', 'tree']);
    await runInBuilder(kept, 'compile', ['cargo', 'build']);
    const runs = calls().filter((args) => args[0] === 'run');
    const execs = calls().filter((args) => args[0] === 'exec');
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run!.slice(0, 2)).toEqual(['run', '-d']);
    expect(containerOptions(run!, kept.imageId!)).toEqual(containerOptions(freshRun, fresh.image));
    expect(run).toEqual(expect.arrayContaining(['--label', `${LABEL_WARM}=1`, '--cap-drop', 'ALL', 'no-new-privileges']));
    expect(run!.slice(run!.indexOf(kept.imageId!) + 1, -1)).toEqual(['sh', '-c']);
    expect(run!.at(-1)).toMatch(/&& exec sleep infinity$/);

    const name = run![run!.indexOf('--name') + 1]!;
    expect(warm.containerNames).toEqual([name]);
    expect(name).toMatch(new RegExp(`^sweep-warm-key1-${process.pid}-\\d+$`));
    expect(execs.map((args) => [args.slice(0, 4), args.slice(-2)])).toEqual([
      [
        ['exec', '-w', '/work', name],
        ['cargo', 'tree'],
      ],
      [
        ['exec', '-w', '/work', name],
        ['cargo', 'build'],
      ],
    ]);
    // What a build script may have left in CARGO_HOME to steer cargo is removed before each command.
    expect(execs[0]![6]).toBe('rm -rf "$CARGO_HOME/config" "$CARGO_HOME/config.toml" "$CARGO_HOME/bin" && exec "$@"');
  });

  it('GIVEN a command of artifacts its container is not labelled with THEN a container labelled with all of them replaces it', async () => {
    const warm = warmBuilder();
    await runInBuilder(container({ warm, artifactKeys: ['key1'] }), 'compile', ['cargo', 'build']);
    await runInBuilder(container({ warm, artifactKeys: ['key2'] }), 'compile', ['cargo', 'build']);
    const runs = calls().filter((args) => args[0] === 'run');
    expect(runs).toHaveLength(2);
    expect(runs[1]).toEqual(expect.arrayContaining(['--label', 'org.sweep.artifact.key1=1', '--label', 'org.sweep.artifact.key2=1']));
    await warm.close();
    const first = runs[0]![runs[0]!.indexOf('--name') + 1]!;
    expect(calls()).toContainEqual(['rm', '-f', first]);
  });

  it('GIVEN a cancelled command THEN its container is removed (killing docker exec would leave cargo running) and the next command starts another', async () => {
    const warm = warmBuilder();
    await warm.prepare([{ options: container().options, name: 'fn', artifactKey: 'key1' }], () =>
      createReporter('fn', createRecordingOutput()),
    );
    const [name] = warm.containerNames;
    fs.writeFileSync(path.join(folder, 'hang'), '');
    const controller = new AbortController();
    const running = runInBuilder(container({ warm, artifactKeys: ['key1'], signal: controller.signal }), 'compile', ['cargo', 'build']);
    while (!calls().some((args) => args[0] === 'exec')) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort(new Error('stop'));
    await expect(running).rejects.toMatchObject({ stage: 'compile', problem: 'the build was interrupted' });
    while (!calls().some((args) => args[0] === 'rm')) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls()).toContainEqual(['rm', '-f', name]);
    expect(warm.containerNames).toEqual([]);

    fs.rmSync(path.join(folder, 'hang'));
    await runInBuilder(container({ warm, artifactKeys: ['key1'] }), 'compile', ['cargo', 'build']);
    expect(warm.containerNames).toHaveLength(1);
    expect(warm.containerNames[0]).not.toBe(name);
  });

  it('GIVEN its container is gone (removed by hand) THEN another is started and the command runs again, once', async () => {
    const warm = warmBuilder();
    const output = createRecordingOutput();
    await runInBuilder(container({ warm, artifactKeys: ['key1'] }), 'compile', ['cargo', 'build']);
    const [name] = warm.containerNames;
    fs.writeFileSync(path.join(folder, 'gone'), '');
    const result = await runInBuilder(
      container({ warm, artifactKeys: ['key1'], reporter: createReporter('fn', output) }),
      'features',
      ['cargo', 'tree'],
      true,
    );
    expect(result).toBe('exec ok');
    expect(output.lines).toContain(`[fn] builder: the warm container ${name} is gone; starting another`);
    expect(calls().filter((args) => args[0] === 'run')).toHaveLength(2);
  });

  it('GIVEN a publishing build (remote mode read-write) THEN it is not served: a fresh container and CARGO_HOME, as its trust domain asks', async () => {
    const warm = warmBuilder();
    const publishing = container({ warm }, 'read-write');
    expect(warm.serves(publishing)).toBe(false);
    await runInBuilder(publishing, 'compile', ['cargo', 'build']);
    expect(
      calls()
        .filter((args) => args[0] !== 'ps')
        .map((args) => args.slice(0, 2)),
    ).toEqual([['run', '--rm']]);
  });

  it('GIVEN the builder image asked for twice THEN docker is asked once', async () => {
    const warm = warmBuilder();
    const output = createRecordingOutput();
    const { options } = container();
    const first = await warm.builderImage(docker, options, createReporter('fn', output));
    const second = await warm.builderImage(docker, options, createReporter('fn', output));
    expect(second).toEqual(first);
    expect(calls().map((args) => args[0])).toEqual(['version', 'image']);
    expect(output.lines.filter((line) => line.startsWith('[fn] builder-image: reusing '))).toHaveLength(2);
  });

  it('GIVEN close THEN every container it started is removed, and later commands get fresh containers', async () => {
    const warm = warmBuilder();
    await runInBuilder(container({ warm }), 'compile', ['cargo', 'build']);
    const [name] = warm.containerNames;
    await warm.close();
    expect(calls()).toContainEqual(['rm', '-f', name]);
    expect(warm.containerNames).toEqual([]);
    expect(warm.serves(container({ warm }))).toBe(false);
  });
});
