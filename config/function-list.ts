import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { artifactOptionsSchema, invalidConfig, type OptionsOrigin, toConfigIssues } from '../build/index.js';
import { cdktfJsonUnusable } from './errors.js';

/*
 * The app's function list: what `sweep-runtime` acts on when the functions are declared in code
 * (RustFunction, RustArtifact) rather than in cdktf.json's `sweep.functions`.
 *
 * Every synth writes it to `<outdir>/sweep-functions.json` (cdktf.out/sweep-functions.json by
 * default), before it builds, so a failed build can still be looked at with `sweep-runtime status`.
 * Per function: its settings (what local invoke needs) and its artifact options as the app gave
 * them, with the binary and zip name filled in, and the project root relative to the folder the
 * app ran in (where cdktf.json is; absolute when it lies outside). Nothing from
 * the environment is written: the CLI applies its own (FORCE_REBUILD, SWEEP_*), as the app does.
 */
export const FUNCTION_LIST_FILE = 'sweep-functions.json';
export const FUNCTION_LIST_VERSION = 1;

export const functionListEntrySchema = z
  .object({
    /** The construct's path in the app, for messages ("RustFunction "stack/api" config"). */
    construct: z.string(),
    /** The construct's class, for messages. */
    kind: z.string(),
    functionName: z.string(),
    memorySize: z.number(),
    timeoutSeconds: z.number(),
    environment: z.record(z.string(), z.string()),
    artifact: artifactOptionsSchema.extend({ projectRoot: z.string(), name: z.string() }),
  })
  .strict();

export const functionListSchema = z
  .object({
    version: z.literal(FUNCTION_LIST_VERSION).meta({ expected: String(FUNCTION_LIST_VERSION) }),
    about: z.string().optional(),
    functions: z.record(z.string(), functionListEntrySchema),
  })
  .strict();

export type FunctionListEntry = z.input<typeof functionListEntrySchema>;
export type FunctionList = z.input<typeof functionListSchema>;

/** The artifact options of an entry, and how messages name where they came from. */
export function entryOrigin(entry: Pick<FunctionListEntry, 'kind' | 'construct'>): OptionsOrigin {
  return { kind: 'props', label: `${entry.kind} "${entry.construct}" config` };
}

/** Writes the list atomically (a reader never sees half a file). */
export function writeFunctionList(outdir: string, functions: Readonly<Record<string, FunctionListEntry>>): string {
  const file = path.join(outdir, FUNCTION_LIST_FILE);
  const list: FunctionList = {
    version: FUNCTION_LIST_VERSION,
    about: 'written by every synth of the app (aws-serverless-sweep); read by sweep-runtime when cdktf.json has no sweep.functions',
    functions: { ...functions },
  };
  fs.mkdirSync(outdir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(list, null, 2)}\n`);
  fs.renameSync(temporary, file);
  return file;
}

/** The list in `file`, or undefined when there is none; a file that is not a list of this version is an error. */
export function readFunctionList(file: string): FunctionList | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw cdktfJsonUnusable(file, (error as Error).message, 'make it readable, or run `npx cdktf synth` again to rewrite it');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw cdktfJsonUnusable(file, `it is not valid JSON: ${(cause as Error).message}`, 'run `npx cdktf synth` again to rewrite it', cause);
  }
  const parsed = functionListSchema.safeParse(json);
  if (!parsed.success) {
    throw invalidConfig(
      file,
      toConfigIssues(parsed.error.issues, '', functionListSchema, json),
      'run `npx cdktf synth` with this version of aws-serverless-sweep to rewrite it',
    );
  }
  return json as FunctionList;
}
