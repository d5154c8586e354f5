import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureArtifacts } from '../../build/engine/engine.js';
import { resolveArtifactOptions } from '../../build/options/resolve.js';
import type { ArtifactOptions } from '../../build/options/schema.js';
import { createRecordingOutput } from '../../build/support/reporter.js';
import { TOOLCHAIN_IMAGE } from './docker.js';
import { makeTestProject, projectAt, type TestProject } from './project.js';

/**
 * One cold build per test file, then a fresh copy of the built project for every test: each test
 * starts from the same known state (zip, metadata, cargo target folder) and can run alone with
 * `-t`, without paying for a cold build each time. Timestamps are preserved by the copy, so
 * cargo's own fingerprints stay fresh and an unchanged crate is not recompiled.
 */
export interface BuiltProject {
  /** Builds the template (in beforeAll). */
  build(): Promise<void>;
  /** A fresh copy of the built template, in its own temp folder. */
  copy(prefix?: string): TestProject;
  /** Removes the template (in afterAll). */
  remove(): void;
}

export function builtProject(
  options: { workspace?: string; artifacts?: readonly ArtifactOptions[]; env?: Record<string, string> } = {},
): BuiltProject {
  let template: TestProject | undefined;
  return {
    async build() {
      template = makeTestProject({ workspace: options.workspace, prefix: 'sweep-template-' });
      const root = template.root;
      const resolved = (options.artifacts ?? [{}]).map((artifact) =>
        resolveArtifactOptions({ projectRoot: root, toolchainImage: TOOLCHAIN_IMAGE, ...artifact }, { env: { ...options.env } }),
      );
      await ensureArtifacts(resolved, { output: createRecordingOutput() });
    },
    copy(prefix = 'sweep-test-') {
      if (!template) throw new Error('builtProject: call build() in beforeAll first');
      const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      fs.cpSync(template.root, root, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      return projectAt(root);
    },
    remove() {
      template?.remove();
    },
  };
}
