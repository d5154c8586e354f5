import * as path from 'node:path';
import { DEFAULT_INVOKE_API_PORT } from '../invoke/invoke-api-server.js';
import { WatchSession } from '../watch/watch-session.js';
import { type CliFlags, type CliOptions, resolveCliOptions } from './cli-options.js';
import { invalidPort } from './errors.js';

/*
 * `sweep-runtime watch [--function NAME ...] [--port N] [--no-serve]`: rebuilds on save and serves
 * Lambda's Invoke API on 127.0.0.1 (watch/watch-session.ts). It runs until Ctrl-C or SIGTERM,
 * which cancel a build in progress (its container removed, its locks released, dist/ as it was),
 * stop the Invoke API and remove the warm builder container; a second Ctrl-C leaves at once
 * (the container is still removed on the way out). Exit code 130 after Ctrl-C, 143 after SIGTERM.
 */
export async function watchCommand(options: CliOptions, flags: CliFlags): Promise<number> {
  const port = parsePort(flags.port);
  let first: CliOptions | undefined = options;
  const session = await WatchSession.create({
    // cdktf.json is read again before every build (main() read it for the first): a settings
    // change reaches the Invoke API, a function renamed or removed is no longer served.
    load: () => {
      const now = first ?? resolveCliOptions(flags);
      first = undefined;
      return { region: now.app.region, targets: now.targets };
    },
    settingsFile: path.join(options.projectRoot, 'cdktf.json'),
    serve: !flags['no-serve'],
    port,
  });
  // Installed before the session starts: Ctrl-C during the first build stops it as cleanly.
  const onExit = () => session.stopSync();
  process.on('exit', onExit);
  let containers: string[] = [];
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      containers = session.builderContainers;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second signal while stopping: leave now ('exit' still removes the container).
      const again = () => process.exit(130);
      process.once('SIGINT', again);
      process.once('SIGTERM', again);
      void session.stop();
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await session.start();
  const signal = await signalled;
  await session.stop();
  process.off('exit', onExit);
  process.stdout.write(
    `[watch] stopped by ${signal}${containers.length > 0 ? `; removed the warm builder container ${containers.join(', ')}` : ''}\n`,
  );
  return signal === 'SIGINT' ? 130 : 143;
}

/** `--port`: 0 (any free port) to 65535. */
export function parsePort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_INVOKE_API_PORT;
  const port = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || port > 65535) throw invalidPort(raw, DEFAULT_INVOKE_API_PORT);
  return port;
}
