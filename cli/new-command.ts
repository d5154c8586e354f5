import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { isSafeName, lockUpdateCommand, resolveArtifactOptions } from '../build/index.js';
import { CONTEXT_KEY, readCdktfJson } from '../config/app-config.js';
import type { CliFlags } from './cli-options.js';
import { lockNotUpdated, newFunctionRefused } from './errors.js';
import { insertIntoJsonObject } from './json-insert.js';
import { crateManifest, mainStandalone, mainWithRuntimeCrate, workspaceManifest } from './new-templates.js';

/*
 * `sweep-runtime new NAME`: adds a function to the project.
 *
 * 1. The crate `<workspace>/crates/NAME` (Cargo.toml, src/main.rs on the workspace's Runtime API
 *    client when it has the example's sweep-lambda-runtime, else a self-contained std-only one),
 *    added to the workspace's members (a new workspace when there is none).
 * 2. Its entry in cdktf.json's `sweep.functions`, when the project lists its functions there;
 *    an app that declares them in code is told the line to add.
 * 3. Cargo.lock, updated by the toolchain image's cargo, offline (the lock file then has the
 *    version that cargo writes); without Docker, the exact command to run.
 *
 * Then it prints the next commands.
 */
const NAME = /^[a-z][a-z0-9_-]{0,63}$/;

export async function newCommand(name: string | undefined, flags: CliFlags): Promise<number> {
  const projectRoot = path.resolve(flags.project ?? '.');
  if (name === undefined || !NAME.test(name) || !isSafeName(name)) {
    throw newFunctionRefused(
      name === undefined ? 'no function name was given' : `"${name}" is not a function name`,
      'give a name of lower-case letters, digits, _ and - that starts with a letter, e.g. `npx sweep-runtime new orders`',
    );
  }
  const cdktfJson = readCdktfJson(projectRoot);
  const sweep = (cdktfJson?.context ?? {}) as { artifact?: { workspace?: string; toolchainImage?: string }; functions?: unknown };
  const configured = sweep.artifact?.workspace ?? 'rust';
  const workspace = path.resolve(projectRoot, flags.workspace ?? configured);
  const crate = path.join(workspace, 'crates', name);
  const manifest = path.join(workspace, 'Cargo.toml');
  const shown = (file: string) => path.relative(process.cwd(), file) || '.';
  const say = (line: string) => process.stdout.write(`${line}\n`);

  // Everything that can refuse is checked before anything is written.
  if (fs.existsSync(crate)) throw newFunctionRefused(`${shown(crate)} already exists`, 'choose another name, or remove that folder');
  const listed = cdktfJson !== undefined && sweep.functions !== undefined;
  if (listed) {
    if ((sweep.functions as Record<string, unknown>)[name] !== undefined)
      throw newFunctionRefused(`cdktf.json already has a function "${name}"`, 'choose another name');
    if (workspace !== path.resolve(projectRoot, configured)) {
      throw newFunctionRefused(
        `--workspace ${flags.workspace} is not the workspace of cdktf.json's functions (${configured}), and a function cannot set its own`,
        `leave out --workspace, or set context.${CONTEXT_KEY}.artifact.workspace in cdktf.json to ${JSON.stringify(flags.workspace)} first`,
      );
    }
  }
  const existing = fs.existsSync(manifest) ? readWorkspaceManifest(manifest, shown(manifest)) : undefined;
  const runtimeCrate = existing?.runtimeCrate ?? false;

  // 1. The crate, a member of the workspace.
  const member = `crates/${name}`;
  let membersNote: string;
  if (existing === undefined) {
    fs.mkdirSync(workspace, { recursive: true });
    fs.writeFileSync(manifest, workspaceManifest(member));
    membersNote = `the first member of the new workspace ${shown(manifest)}`;
  } else {
    const covering = existing.members.find((pattern) => coversMember(pattern, member));
    if (covering !== undefined) membersNote = `a member already (${covering} in ${shown(manifest)})`;
    else {
      fs.writeFileSync(manifest, addMember(existing.text, member));
      membersNote = `added to the members of ${shown(manifest)}`;
    }
  }
  fs.mkdirSync(path.join(crate, 'src'), { recursive: true });
  fs.writeFileSync(path.join(crate, 'Cargo.toml'), crateManifest(name, runtimeCrate));
  fs.writeFileSync(path.join(crate, 'src', 'main.rs'), runtimeCrate ? mainWithRuntimeCrate(name) : mainStandalone(name));
  const client = runtimeCrate ? "on the workspace's sweep-lambda-runtime" : 'with its own Runtime API client, std only';
  say(`created ${shown(crate)} (Cargo.toml, src/main.rs ${client}); ${membersNote}`);

  // 2. cdktf.json, when the functions are listed there.
  if (listed) {
    const text = fs.readFileSync(cdktfJson.file, 'utf8');
    fs.writeFileSync(
      cdktfJson.file,
      insertIntoJsonObject(text, ['context', CONTEXT_KEY, 'functions'], name, { artifact: { package: name } }),
    );
    say(`added "${name}" to ${shown(cdktfJson.file)} (context.${CONTEXT_KEY}.functions.${name}: package ${name}, its only binary)`);
  }

  // 3. Cargo.lock, by the toolchain image's cargo.
  const { toolchainImage, dockerCommand } = resolveArtifactOptions(
    { projectRoot, ...(sweep.artifact?.toolchainImage !== undefined && { toolchainImage: sweep.artifact.toolchainImage }) },
    { origin: { kind: 'context' } },
  );
  const lockCommand = lockUpdateCommand(dockerCommand, workspace, toolchainImage);
  const locked = await run(lockCommand);
  if (locked.ok) {
    const version = /^version = (\d+)$/m.exec(fs.readFileSync(path.join(workspace, 'Cargo.lock'), 'utf8'))?.[1] ?? '?';
    say(`updated ${shown(path.join(workspace, 'Cargo.lock'))} with ${toolchainImage}'s cargo, offline (lock file version ${version})`);
  }

  say('');
  say('next:');
  if (!listed) {
    const option = flags.workspace === undefined ? '' : `, workspace: '${flags.workspace}'`;
    say('  add it to your stack, then synthesize (sweep-runtime finds the functions the synth lists):');
    say(`    new RustFunction(stack, '${name}', { package: '${name}'${option} });`);
    say('  npx cdktf synth');
  }
  say(`  npx sweep-runtime build --function ${name}`);
  say(`  echo '{"hello": "world"}' | npx sweep-runtime invoke --function ${name} --event -`);
  say(`  then make ${shown(path.join(crate, 'src', 'main.rs'))}'s \`handle\` do the work, and \`npx cdktf deploy\``);
  if (!locked.ok) throw lockNotUpdated(locked.why, lockCommand.map(quoteArg).join(' '));
  return 0;
}

/** What `new` needs of an existing workspace manifest. */
function readWorkspaceManifest(file: string, shownFile: string): { text: string; members: string[]; runtimeCrate: boolean } {
  const text = fs.readFileSync(file, 'utf8');
  let parsed: { workspace?: { members?: unknown; dependencies?: Record<string, unknown> } };
  try {
    parsed = parseToml(text) as typeof parsed;
  } catch (error) {
    throw newFunctionRefused(`${shownFile} is not valid TOML (${(error as Error).message.split('\n')[0]})`, `correct ${shownFile} first`);
  }
  if (parsed.workspace === undefined) {
    throw newFunctionRefused(
      `${shownFile} is a single package, not a workspace`,
      'add a [workspace] table to it, or point --workspace at a workspace folder',
    );
  }
  const members = Array.isArray(parsed.workspace.members) ? parsed.workspace.members.filter((m): m is string => typeof m === 'string') : [];
  return { text, members, runtimeCrate: parsed.workspace.dependencies?.['sweep-lambda-runtime'] !== undefined };
}

/** Does a `members` entry (a path or a glob of `*` within one segment) name `member`? */
function coversMember(pattern: string, member: string): boolean {
  const normalized = pattern.replace(/\/+$/, '').replace(/^\.\//, '');
  const regexp = new RegExp(`^${normalized.split('*').map(escapeRegExp).join('[^/]*')}$`);
  return regexp.test(member);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `member` appended to the `members = [...]` array of the [workspace] table, the rest of the file as it was. */
function addMember(text: string, member: string): string {
  const members = /^(members\s*=\s*\[)([^\]]*)(\])/m.exec(text);
  if (!members) {
    return text.replace(/^\[workspace\][^\n]*\n/m, (table) => `${table}members = ["${member}"]\n`);
  }
  const inside = members[2]!;
  const trimmed = inside.replace(/\s+$/, '');
  const multiline = inside.includes('\n');
  const indent = multiline ? (/\n([ \t]*)\S/.exec(inside)?.[1] ?? '    ') : '';
  const separator = trimmed === '' ? '' : trimmed.endsWith(',') ? (multiline ? '' : ' ') : multiline ? ',' : ', ';
  const added = multiline ? `${trimmed}${separator}\n${indent}"${member}",\n` : `${trimmed}${separator}"${member}"`;
  return text.replace(members[0], `${members[1]}${added}${members[3]}`);
}

async function run(command: readonly string[]): Promise<{ ok: true } | { ok: false; why: string }> {
  const { execa } = await import('execa');
  const result = await execa(command[0]!, command.slice(1), { reject: false, all: true, stdin: 'ignore' });
  if (result.exitCode === 0) return { ok: true };
  const output = (result.all ?? '').trim().split('\n').slice(-3).join(' / ');
  const cause = (result as { cause?: unknown }).cause;
  const why =
    result.exitCode === undefined
      ? cause instanceof Error
        ? cause.message
        : 'docker could not be run'
      : output || `exit code ${result.exitCode}`;
  return { ok: false, why };
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
