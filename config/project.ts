import * as path from 'node:path';
import { type AppConfig, type FunctionConfig, parseAppConfig, readCdktfJson } from './app-config.js';
import { entryOrigin, FUNCTION_LIST_FILE, type FunctionListEntry, readFunctionList } from './function-list.js';

/*
 * Which functions `sweep-runtime` acts on in a project folder:
 *
 * 1. cdktf.json's `sweep.functions`, when it has them (this repository's app);
 * 2. else the function list the app's last synth wrote (`<output>/sweep-functions.json`, output
 *    being cdktf.json's `output`, default cdktf.out): the functions an app declares in code;
 * 3. else the one function cdktf.json's `sweep` describes, or the defaults (rust/, the package
 *    with a `bootstrap` binary), which the flags (--package, --bin, --workspace) can change.
 */
export interface Project {
  readonly root: string;
  readonly app: AppConfig;
}

export function loadProject(root: string): Project {
  const cdktfJson = readCdktfJson(root);
  const source = cdktfJson?.file ?? path.join(root, 'cdktf.json');
  const app = parseAppConfig(cdktfJson?.context, source);
  const mapped = (cdktfJson?.context as { functions?: unknown } | undefined)?.functions !== undefined;
  if (mapped) return { root, app };
  const listFile = path.join(root, cdktfJson?.output ?? 'cdktf.out', FUNCTION_LIST_FILE);
  const list = readFunctionList(listFile);
  if (!list || Object.keys(list.functions).length === 0) return { root, app };
  const functions = Object.entries(list.functions).map(([key, entry]) => fromListEntry(key, entry));
  return { root, app: { ...app, functions, functionsFrom: path.relative(root, listFile) } };
}

function fromListEntry(key: string, entry: FunctionListEntry): FunctionConfig {
  return {
    key,
    functionName: entry.functionName,
    memorySize: entry.memorySize,
    timeoutSeconds: entry.timeoutSeconds,
    environment: entry.environment,
    reservedConcurrency: null,
    logRetentionDays: 14,
    artifact: { ...entry.artifact },
    origin: entryOrigin(entry),
  };
}
