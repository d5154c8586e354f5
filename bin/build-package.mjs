#!/usr/bin/env node
// Builds the installable package into lib/ (`npm run build`; `npm pack` runs it first):
//
// 1. tsc (tsconfig.build.json): constructs/, build/, cli/, config/, invoke/ as ES modules with
//    type declarations, in lib/ (not dist/: that is where the zips go).
// 2. lib/cdktn/: the same constructs for CDK Terrain. Only the modules that load cdktf or
//    @cdktf/provider-aws (directly, or through a relative import of such a module) are copied,
//    with those import specifiers rewritten to cdktn and @cdktn/provider-aws; their relative
//    imports of every other module point back at the original, so the engine, its errors and its
//    per-process state exist once whichever flavour an app imports. Import specifiers are found
//    with TypeScript's own scanner, in .js and .d.ts alike; a specifier left unrewritten fails the build.
// 3. lib/docker/builder.Dockerfile: the builder recipe, where the compiled engine reads it
//    (build/builder/recipe.ts: ../../docker/ from lib/build/builder/).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LIB = path.join(ROOT, 'lib');
const CDKTN = path.join(LIB, 'cdktn');
const RENAMES = [
  [/^cdktf(\/|$)/, 'cdktn$1'],
  [/^@cdktf\/provider-aws(\/|$)/, '@cdktn/provider-aws$1'],
];
const isCdktf = (spec) => RENAMES.some(([pattern]) => pattern.test(spec));

const started = performance.now();
fs.rmSync(LIB, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);

const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (/\.(d\.ts|js)$/.test(entry.name)) files.push(file);
  }
})(LIB);

const importsOf = new Map(files.map((file) => [file, ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true).importedFiles]));
/** The file a relative specifier of `from` names (a .d.ts imports `./x.js`, declared by `./x.d.ts`). */
const target = (from, spec) => {
  const absolute = path.resolve(path.dirname(from), spec);
  return from.endsWith('.d.ts') ? absolute.replace(/\.js$/, '.d.ts') : absolute;
};
// A file is flavoured when it imports cdktf, or a flavoured file (to a fixed point).
const flavoured = new Set();
for (let changed = true; changed; ) {
  changed = false;
  for (const [file, imports] of importsOf) {
    if (flavoured.has(file)) continue;
    if (imports.some(({ fileName }) => isCdktf(fileName) || (fileName.startsWith('.') && flavoured.has(target(file, fileName))))) {
      flavoured.add(file);
      changed = true;
    }
  }
}

for (const file of flavoured) {
  let text = fs.readFileSync(file, 'utf8');
  const dest = path.join(CDKTN, path.relative(LIB, file));
  // From the end, so earlier positions stay valid.
  for (const { fileName: spec, pos } of [...importsOf.get(file)].sort((a, b) => b.pos - a.pos)) {
    let next = spec;
    for (const [pattern, to] of RENAMES) if (pattern.test(spec)) next = spec.replace(pattern, to);
    if (spec.startsWith('.') && !flavoured.has(target(file, spec))) {
      next = path
        .relative(path.dirname(dest), path.resolve(path.dirname(file), spec))
        .split(path.sep)
        .join('/');
      if (!next.startsWith('.')) next = `./${next}`;
    }
    // The scanner's pos is the opening quote's offset: find the text itself from there.
    const start = text.indexOf(spec, pos);
    if (start < 0 || start > pos + 1) throw new Error(`${file}: cannot place the import specifier ${spec} at offset ${pos}`);
    if (next !== spec) text = text.slice(0, start) + next + text.slice(start + spec.length);
  }
  const left = ts.preProcessFile(text, true, true).importedFiles.filter(({ fileName }) => isCdktf(fileName));
  if (left.length > 0) throw new Error(`${dest} still imports ${left.map((i) => i.fileName).join(', ')}`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, text);
}
for (const entry of ['constructs/index.js', 'constructs/index.d.ts']) {
  if (!fs.existsSync(path.join(CDKTN, entry))) throw new Error(`lib/cdktn/${entry} was not made: the front door no longer imports cdktf?`);
}

fs.mkdirSync(path.join(LIB, 'docker'));
fs.copyFileSync(path.join(ROOT, 'docker', 'builder.Dockerfile'), path.join(LIB, 'docker', 'builder.Dockerfile'));

const seconds = ((performance.now() - started) / 1000).toFixed(1);
process.stderr.write(
  `lib/: ${files.length} files; lib/cdktn/: ${flavoured.size} of them rewritten for CDK Terrain; lib/docker/builder.Dockerfile (${seconds} s)\n`,
);
