// A stand-in `bootstrap` for invokeLocally tests that need no Docker and no Rust build: a
// Node.js script (run by this Node binary through its #! line) that speaks the Runtime API.
import * as os from 'node:os';
import type { ArtifactMetadata } from '../../build/cache/metadata.js';
import { TOOLCHAIN_IMAGE } from '../helpers/docker.js';

/**
 * Behaviour is chosen by the function's configured environment, like a real function's:
 * - FAKE_MODE=echo (default): answers `{"env": <its environment>, "event": <the event>}`;
 * - FAKE_MODE=slow-init: the same after sleeping FAKE_INIT_MS before the first poll;
 * - FAKE_MODE=never-poll: starts and never asks for an event;
 * - FAKE_MODE=big-error: reports an invocation error of FAKE_ERROR_BYTES bytes.
 */
export const FAKE_RUNTIME = `#!${process.execPath}
const http = require('node:http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const call = (method, path, body) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: '/2018-06-01/runtime/' + path }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
(async () => {
  const mode = process.env.FAKE_MODE || 'echo';
  if (mode === 'never-poll') return setInterval(() => {}, 1000);
  if (mode === 'slow-init') await new Promise((r) => setTimeout(r, Number(process.env.FAKE_INIT_MS)));
  const next = await call('GET', 'invocation/next');
  const id = next.headers['lambda-runtime-aws-request-id'];
  if (mode === 'big-error') {
    await call('POST', 'invocation/' + id + '/error', 'x'.repeat(Number(process.env.FAKE_ERROR_BYTES)));
    return setInterval(() => {}, 1000);
  }
  await call('POST', 'invocation/' + id + '/response', JSON.stringify({ env: process.env, event: JSON.parse(next.body) }));
  setInterval(() => {}, 1000);
})();
`;

const MACHINE: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** Metadata that makes invokeLocally run the zip's bootstrap on this machine (or in `image`). */
export function fakeMetadata(image = TOOLCHAIN_IMAGE): ArtifactMetadata {
  return {
    binary: { machine: MACHINE[os.arch()] ?? os.arch(), linkage: 'static', glibcRequired: null, glibcAvailable: '2.34', size: 0 },
    builderImage: { tag: image, id: '' },
    settings: { runtime: 'provided.al2023' },
  } as unknown as ArtifactMetadata;
}
