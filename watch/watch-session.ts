/**
 * `sweep-runtime watch`: the inner loop. Watches exactly the inputs of the selected functions'
 * fingerprints (watched-set.ts), and on a save runs the engine for the functions it touches:
 * the same check, locks, batches and commit as `sweep-runtime build`, so once a save is built
 * `cdktf diff` is a cache hit with nothing left to build. Each build runs cargo in one warm
 * builder container kept for the session (build/builder/warm-builder.ts), and every function
 * built is served by Lambda's Invoke API on 127.0.0.1 (invoke/invoke-api-server.ts), its new code
 * from the next invocation on.
 *
 * Saves are debounced and never start a second build while one runs: the saves made meanwhile
 * get a build of their own right after it (save-batcher.ts). A failed build (a compile error, a
 * bad cdktf.json) is shown once and the session stays up, serving the code it had; the next save
 * builds again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type FSWatcher, watch as watchFiles } from 'chokidar';
import {
  builderRecipe,
  checkAll,
  createReporter,
  createWarmBuilder,
  formatDuration,
  isSweepError,
  type Output,
  type Reporter,
  type ResolvedArtifactOptions,
  type Settled,
  SweepError,
  settleArtifacts,
  unexpectedFailure,
  type WarmBuilderContainers,
} from '../build/index.js';
import type { FunctionConfig } from '../config/app-config.js';
import type { LocalFunction } from '../invoke/function-pool.js';
import { InvokeApiServer } from '../invoke/invoke-api-server.js';
import { SaveBatcher } from './save-batcher.js';
import { planServing, type Served, type Wanted } from './serving.js';
import { describeInputs, type FunctionInputs, WatchedSet } from './watched-set.js';

/** How long after the last save a build starts: an editor's save is often several writes. */
export const QUIET_MS = 50;

/** A function of the session: its settings in cdktf.json and its resolved artifact options. */
export interface WatchTarget {
  readonly function: FunctionConfig;
  readonly artifact: ResolvedArtifactOptions;
}

/** What cdktf.json (and the command's flags) say now. */
export interface WatchSettings {
  readonly region: string;
  readonly targets: readonly WatchTarget[];
}

export interface WatchSessionConfig {
  /** Reads cdktf.json again: called at the start and before every build, so a settings change is seen. */
  readonly load: () => WatchSettings;
  /** The cdktf.json to watch for settings changes, absolute. */
  readonly settingsFile: string;
  /** Serve the Invoke API. */
  readonly serve: boolean;
  /** The Invoke API's port (0: any free port). */
  readonly port: number;
  /** Progress (the engine's lines and the session's own). @default process.stdout */
  readonly output?: Output;
  /** Errors. @default process.stderr */
  readonly errors?: Output;
  /** @default {@link QUIET_MS} */
  readonly quietMs?: number;
}

export class WatchSession {
  private readonly controller = new AbortController();
  private readonly output: Output;
  private readonly errors: Output;
  private readonly served = new Map<string, Served>();
  private inputs = new Map<string, FunctionInputs>();
  private set: WatchedSet;
  private watcher: FSWatcher | undefined;
  private server: InvokeApiServer | undefined;
  private readonly batcher: SaveBatcher;
  private rounds = 0;
  private stopping: Promise<void> | undefined;
  /** The first build: saves made during it are built after it. */
  private initial: Promise<void> = Promise.resolve();
  /** Input paths of the current set, absolute: a new one (a path dependency added) is handed to the watcher. */
  private watchedInputs = new Set<string>();
  /** Lines streamed by the current build, to tell which error details were already shown. */
  private streamed: string[] = [];

  private constructor(
    private readonly config: WatchSessionConfig,
    private readonly builder: WarmBuilderContainers,
  ) {
    this.output = config.output ?? process.stdout;
    this.errors = config.errors ?? process.stderr;
    this.set = new WatchedSet([], [config.settingsFile]);
    this.batcher = new SaveBatcher({ quietMs: config.quietMs ?? QUIET_MS, rebuild: (paths) => this.rebuildFor(paths) });
  }

  /** A session that has not started yet: install the signal and exit handlers, then {@link start}. */
  static async create(config: WatchSessionConfig): Promise<WatchSession> {
    return new WatchSession(config, await createWarmBuilder());
  }

  /**
   * Serves the Invoke API (a port in use fails here), watches the inputs, starts the warm
   * builder container and builds what is out of date; resolves once the session is ready (or
   * stopped meanwhile). On a failure it stops what it started.
   */
  async start(): Promise<void> {
    try {
      await this.begin(this.config.load());
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The Invoke API's address, when it serves. */
  get endpoint(): string | undefined {
    return this.server?.endpoint;
  }

  /** The names of the warm builder containers it keeps. */
  get builderContainers(): string[] {
    return this.builder.containerNames;
  }

  /**
   * Ends the session: no new build starts, a build running is cancelled (its container removed,
   * its locks released, dist/ left as it was), the watcher and the Invoke API stop, and the warm
   * containers are removed. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.batcher.close();
      this.controller.abort(new Error('watch stopped'));
      await this.batcher.idle();
      await this.watcher?.close();
      await this.server?.close();
      await this.builder.close();
    })();
    return this.stopping;
  }

  /** A process that is exiting now: removes the warm containers synchronously. */
  stopSync(): void {
    this.builder.closeSync();
  }

  private async begin(settings: WatchSettings): Promise<void> {
    if (this.controller.signal.aborted) return;
    const say = this.reporter('watch');
    const keys = settings.targets.map((target) => target.function.key);
    say.line(`watching ${keys.length === 1 ? 'function' : `${keys.length} functions:`} ${keys.join(', ')}`);
    if (this.config.serve) {
      this.server = await InvokeApiServer.start({
        port: this.config.port,
        region: settings.region,
        runner: { dockerCommand: settings.targets[0]?.artifact.dockerCommand },
        onLog: (key, line) => this.reporter(key).stream('function')(line),
      });
    }
    const checks = checkAll(settings.targets.map((target) => target.artifact));
    this.deriveWatchedSet(settings);
    await this.startWatcher();

    // The warm container first, labelled with every function, so that the first build uses it.
    // When it cannot start (no Docker engine, ...), the build says why, once.
    await this.builder
      .prepare(
        checks.flatMap((check) =>
          isSweepError(check) ? [] : [{ options: check.options, name: check.name, artifactKey: check.paths.key }],
        ),
        (prefix) => this.reporter(prefix),
        this.controller.signal,
      )
      .catch((error: unknown) => say.line(`note: no warm builder container yet (${asError(error).problem}); a build starts one`));
    this.initial = this.build('all', 'start');
    await this.initial;
    if (this.controller.signal.aborted) return;

    const watched = Object.keys(this.watcher?.getWatched() ?? {}).filter((dir) =>
      this.set.roots.some((root) => dir === root || dir.startsWith(`${root}${path.sep}`)),
    );
    say.line(`ready: watching ${watched.length} folders of the inputs of ${keys.join(', ')}; a save rebuilds`);
    if (this.server) {
      say.line(`Invoke API on ${this.server.endpoint}; for example:`);
      for (const target of settings.targets) {
        say.line(
          `  aws lambda invoke --endpoint-url ${this.server.endpoint} --function-name ${target.function.functionName} --cli-binary-format raw-in-base64-out --payload '{}' out.json`,
        );
      }
    }
  }

  private async startWatcher(): Promise<void> {
    const watcher = watchFiles(this.set.roots, {
      ignoreInitial: true,
      ignored: (file: string) => this.set.ignores(file),
    });
    this.watcher = watcher;
    watcher.on('all', (event, file) => {
      // An empty folder is no input; the files put in a new one are reported one by one.
      if (event === 'addDir') return;
      if (this.set.affected(file).length > 0 || event === 'unlinkDir') this.batcher.add(file);
    });
    watcher.on('error', (error) => this.reporter('watch').line(`warning: the file watcher reported: ${String(error)}`));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /** A build for the saves of `paths`: the functions they touch (every function for cdktf.json). */
  private async rebuildFor(paths: ReadonlySet<string>): Promise<void> {
    await this.initial;
    const shown = [...paths].map((file) => path.relative(process.cwd(), file) || file);
    const reason = shown.length > 3 ? `${shown.slice(0, 3).join(', ')} and ${shown.length - 3} more` : shown.join(', ');
    if (paths.has(this.config.settingsFile)) return this.build('all', reason);
    const keys = new Set<string>();
    for (const file of paths) {
      const affected = this.set.affected(file);
      // A folder removed: the functions whose inputs were in it.
      for (const key of affected.length > 0 ? affected : this.functionsUnder(file)) keys.add(key);
    }
    if (keys.size > 0) await this.build(keys, reason);
  }

  /** One build of the functions `keys` (all of cdktf.json's selected ones for 'all'), then what is served and watched follows it. */
  private async build(keys: ReadonlySet<string> | 'all', reason: string): Promise<void> {
    if (this.controller.signal.aborted) return;
    const round = ++this.rounds;
    const say = this.reporter('watch');
    const started = performance.now();
    let settings: WatchSettings;
    try {
      settings = this.config.load();
    } catch (error) {
      this.showErrors([{ names: ['cdktf.json'], error: asError(error) }]);
      say.line(`build #${round} (${reason}) not started: cdktf.json cannot be read; still serving the previous code`);
      return;
    }
    const targets = settings.targets.filter((target) => keys === 'all' || keys.has(target.function.key));
    this.streamed = [];
    let settled: Settled[];
    try {
      ({ settled } = await settleArtifacts(
        targets.map((target) => target.artifact),
        { output: this.recordingOutput(), signal: this.controller.signal, builder: this.builder },
      ));
    } catch (error) {
      // A run that cannot even start (two functions writing one zip): nothing was built.
      this.showErrors([{ names: targets.map((target) => target.function.key), error: asError(error) }]);
      say.line(`build #${round} (${reason}) failed in ${formatDuration(performance.now() - started)}; still serving the previous code`);
      return;
    }
    if (this.controller.signal.aborted) return;

    const parts: string[] = [];
    const failures = new Map<SweepError, string[]>();
    const wanted = new Map<string, Wanted>();
    for (const target of settings.targets) wanted.set(target.function.key, { settings: localFunction(target.function) });
    targets.forEach((target, i) => {
      const key = target.function.key;
      const outcome = settled[i]!;
      if (outcome.result) {
        const { result } = outcome;
        wanted.set(key, {
          settings: localFunction(target.function),
          code: {
            zipPath: result.zipPath,
            metadata: result.metadata,
            // Where bootstrap runs when it cannot run here: the image this configuration names, never the metadata's.
            builderImage: builderRecipe(target.artifact).tag,
          },
        });
        parts.push(result.outcome === 'cache-hit' ? `${key} unchanged (cache-hit)` : `${key} rebuilt`);
      } else {
        failures.set(outcome.error, [...(failures.get(outcome.error) ?? []), key]);
        parts.push(
          `${key} failed (${outcome.error.stage})${this.served.has(key) ? ', still serving its previous code' : ', not served until it builds'}`,
        );
      }
    });
    this.showErrors([...failures].map(([error, names]) => ({ names, error })));
    if (this.server) await this.applyServing(wanted);
    this.deriveWatchedSet(settings);

    const served = this.server ? ` (${this.served.size} served)` : '';
    say.line(
      `build #${round} (${reason}) done in ${formatDuration(performance.now() - started)}: ${parts.join('; ') || 'nothing to build'}${served}`,
    );
  }

  /** Registers, reloads and unregisters functions of the Invoke API as the round asks. */
  private async applyServing(wanted: ReadonlyMap<string, Wanted>): Promise<void> {
    const server = this.server!;
    for (const step of planServing(this.served, wanted)) {
      try {
        switch (step.kind) {
          case 'unregister':
            await server.unregister(step.key);
            this.served.delete(step.key);
            break;
          case 're-register':
            await server.unregister(step.key);
            this.served.delete(step.key);
            server.register(step.settings, step.code);
            this.served.set(step.key, { settings: step.settings, code: step.code });
            break;
          case 'register':
            server.register(step.settings, step.code);
            this.served.set(step.key, { settings: step.settings, code: step.code });
            break;
          case 'replace-code':
            await server.replaceCode(step.key, step.code);
            this.served.set(step.key, { settings: this.served.get(step.key)!.settings, code: step.code });
            break;
        }
      } catch (error) {
        this.showErrors([{ names: [step.key], error: asError(error) }]);
      }
    }
  }

  private deriveWatchedSet(settings: WatchSettings): void {
    const inputs = new Map<string, FunctionInputs>();
    for (const target of settings.targets) {
      const key = target.function.key;
      inputs.set(key, describeInputs(key, target.artifact, this.inputs.get(key)));
    }
    this.inputs = inputs;
    this.set = new WatchedSet([...inputs.values()], [this.config.settingsFile]);
    // The watcher skipped what was no input when it met it (a crate that just became a path
    // dependency): it is told about each new input itself.
    const now = new Set(this.set.inputPaths);
    const added = [...now].filter((input) => !this.watchedInputs.has(input) && fs.existsSync(input));
    this.watchedInputs = now;
    if (this.watcher && added.length > 0) this.watcher.add(added);
  }

  /** The functions with an input folder or file at or below `file` (a folder that was removed). */
  private functionsUnder(file: string): string[] {
    return [...this.inputs.values()]
      .filter((fn) =>
        [...fn.folders, ...fn.files].some((input) => {
          const absolute = path.join(fn.workspace, ...input.split('/'));
          return absolute === file || absolute.startsWith(`${file}${path.sep}`);
        }),
      )
      .map((fn) => fn.key);
  }

  /**
   * Each failure once, named: its problem and fix, and its details unless they are lines the
   * build already streamed (cargo's errors were shown as cargo printed them).
   */
  private showErrors(failures: readonly { names: readonly string[]; error: SweepError }[]): void {
    for (const { names, error } of failures) {
      const detailLines = (error.details ?? '')
        .split('\n')
        .filter((line) => line !== '' && !/^\.\.\. \(\d+ earlier lines omitted\)$/.test(line));
      const shownAbove = detailLines.length > 0 && detailLines.every((line) => this.streamed.includes(line));
      const text = shownAbove
        ? new SweepError({ stage: error.stage, problem: error.problem, fix: error.fix.replace('shown below', 'shown above') }).describe()
        : error.describe();
      const reporter = createReporter(names.join(', '), this.errors);
      for (const line of text.split('\n')) reporter.line(line);
    }
  }

  /** Progress to the output, remembering the streamed lines' text (`[name] stage | text`). */
  private recordingOutput(): Output {
    return {
      write: (text: string) => {
        for (const line of text.replace(/\n$/, '').split('\n')) {
          const bar = line.indexOf(' | ');
          if (bar !== -1) this.streamed.push(line.slice(bar + 3));
        }
        return this.output.write(text);
      },
    };
  }

  private reporter(prefix: string): Reporter {
    return createReporter(prefix, this.output);
  }
}

function localFunction(fn: FunctionConfig): LocalFunction {
  return {
    key: fn.key,
    functionName: fn.functionName,
    memorySize: fn.memorySize,
    timeoutSeconds: fn.timeoutSeconds,
    environment: fn.environment,
    reservedConcurrency: fn.reservedConcurrency,
  };
}

function asError(error: unknown): SweepError {
  return isSweepError(error) ? error : unexpectedFailure(error);
}
