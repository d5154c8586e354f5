import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { unzipSync, zipSync } from 'fflate';
import type { ArtifactMetadata } from '../../build/cache/metadata.js';
import { generateKeyPair, parseSigningKey, type SigningKey } from '../../build/remote/keys.js';
import { makeStatement, readStatementUnverified, signStatement } from '../../build/remote/statement.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { describeWithDocker } from '../helpers/docker.js';
import type { TestProject } from '../helpers/project.js';
import { describeWithS3, type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import {
  buildTemplate,
  distMetadata,
  distZip,
  freshProject,
  NAME,
  NO_DOCKER,
  objectKey,
  PREFIX,
  remoteEnv,
  sha256Hex,
  type Template,
} from './remote-fixture.js';

/**
 * The signed shared cache (issue 19) against a real S3 server (Ceph radosgw) and real builds,
 * through the CLI as an operator runs it: a publisher signs what it uploads with its private key;
 * a reader that trusts its public key deploys a download only with a valid signature of exactly
 * those bytes, and builds locally otherwise, saying why in one line. Forgeries here are
 * consistent (the zip, its metadata and its size and hashes agree, the binary is a valid x86_64
 * program): without signatures a reader deploys them, which the control test shows.
 *
 * One template project is built in beforeAll; each test works on its own copies and bucket.
 */
const A = generateKeyPair('ci-a');
const B = generateKeyPair('ci-b');
const signingKey = (pair: { privateText: string }) => parseSigningKey(pair.privateText) as SigningKey;
const secretOf = (pair: { privateText: string }) => pair.privateText.split(':')[2]!;

describeWithDocker('signed shared cache (real S3 server, real builds)', () => {
  describeWithS3('signed remote cache', () => {
    let server: S3TestServer;
    let template: Template;
    const projects: TestProject[] = [];
    const keep = (project: TestProject) => {
      projects.push(project);
      return project;
    };
    const url = (bucket: string) => `s3://${bucket}/${PREFIX}`;
    const location = (bucket: string, extension: 'zip' | 'json' = 'zip') => `s3://${bucket}/${objectKey(template.fingerprint, extension)}`;
    const signatureKey = (name: string) => `${PREFIX}/v2/${template.fingerprint}.sig/${name}`;
    const lines = (run: CliRun) => run.stdout.split('\n');
    const warnings = (run: CliRun) => `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => /warning/i.test(line));
    const compiled = (run: CliRun) => lines(run).some((line) => line.startsWith(`[${NAME}] compile: cargo build`));
    /** A machine that reads with these trusted keys (cdktf.json's remoteCache.trustedKeys; the URL comes from the environment). */
    const configure = (project: TestProject, trustedKeys: string[]) => {
      const context = { sweep: { artifact: { package: NAME, remoteCache: { url: 's3://set-by-env/x', trustedKeys } } } };
      fs.writeFileSync(path.join(project.root, 'cdktf.json'), JSON.stringify({ context }, null, 2));
      return project;
    };

    /** A zip of the right layout around `bootstrap`, as the engine packages one. */
    const lambdaZipOf = (bootstrap: Uint8Array) =>
      Buffer.from(zipSync({ bootstrap: [bootstrap, { os: 3, attrs: (0o100755 << 16) >>> 0, mtime: new Date(1980, 0, 1) }] }));
    /** The real binary with bytes appended: still a valid x86_64 program, so every check but a signature passes. */
    const forgedZip = () =>
      lambdaZipOf(Buffer.concat([unzipSync(template.zip).bootstrap!, Buffer.from('\nforged by someone who can write the bucket\n')]));
    /** Metadata for `zip` that is right in every field a reader checks. */
    const metadataFor = (zip: Uint8Array) => {
      const metadata: ArtifactMetadata = JSON.parse(template.metadataText);
      metadata.zip.size = zip.byteLength;
      metadata.zip.sha256 = sha256Hex(zip);
      metadata.zip.sha256Base64 = Buffer.from(metadata.zip.sha256, 'hex').toString('base64');
      return Buffer.from(`${JSON.stringify(metadata, null, 2)}\n`);
    };
    /** `key`'s signature of `zip` with `metadata` (as stored), as a publisher makes it. */
    const signatureOf = (key: SigningKey, zip: Uint8Array, metadata: Uint8Array) =>
      signStatement(
        makeStatement(
          {
            fingerprint: template.fingerprint,
            zip: { sha256: sha256Hex(zip), size: zip.byteLength },
            metadataSha256: createHash('sha256').update(metadata).digest('hex'),
            architecture: 'x86_64',
            runtime: 'provided.al2023',
          },
          key.name,
          { builderImageId: 'sha256:test', tool: 'aws-serverless-sweep 0.1.0', sourceRevision: null, signedAt: new Date().toISOString() },
        ),
        key,
      );
    /** Puts a build in `bucket` as a writer would: the zip (with its sha256), the metadata, and signatures by name. */
    const seed = async (bucket: string, objects: { zip: Uint8Array; metadata: Uint8Array; signatures?: Record<string, Uint8Array> }) => {
      await server.createBucket(bucket);
      await server.putRaw(bucket, objectKey(template.fingerprint, 'zip'), objects.zip, { sha256: sha256Hex(objects.zip) });
      await server.putRaw(bucket, objectKey(template.fingerprint, 'json'), objects.metadata);
      for (const [name, document] of Object.entries(objects.signatures ?? {})) await server.putRaw(bucket, signatureKey(name), document);
    };
    /** The publishing build of the template, as a publisher stores it (both cache domains give the same zip). */
    const realBuild = () => ({ zip: template.zip, metadata: Buffer.from(template.metadataText) });

    beforeAll(async () => {
      server = await startS3Server();
      template = await buildTemplate(server);
    });
    afterAll(async () => {
      for (const project of projects) project.remove();
      template?.remove();
      await server?.stop();
    });

    it('GIVEN a publishing build with SWEEP_SIGNING_KEY WHEN a machine without Docker that trusts the key reads THEN status shows the signer and its provenance, and the build is a remote hit', async () => {
      // GIVEN a publisher in a git checkout, with its key
      await server.createBucket('signed');
      const publisher = configure(keep(template.copy('none')), [A.publicLine]);
      const git = (args: string[]) =>
        execa('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', ...args], { cwd: publisher.root });
      await git(['init', '-q']);
      await git(['add', 'rust', 'cdktf.json']);
      await git(['commit', '-q', '-m', 'sources']);
      const revision = (await git(['rev-parse', 'HEAD'])).stdout.trim();
      const publish = await runCli(['build'], {
        cwd: publisher.root,
        env: remoteEnv(server, { url: url('signed'), mode: 'read-write' }, { SWEEP_SIGNING_KEY: A.privateText }),
      });
      expect(publish.exitCode).toBe(0);
      expect(warnings(publish)).toEqual([]);
      expect(lines(publish)).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^\\[${NAME}\\] remote: uploaded ${escapeRegExp(location('signed'))} \\(.+\\) and its metadata in .+, signed by ci-a$`,
          ),
        ),
      );
      expect(publish.all).not.toContain(secretOf(A));
      expect(await server.listKeys('signed')).toEqual([
        objectKey(template.fingerprint, 'json'),
        signatureKey('ci-a'),
        objectKey(template.fingerprint, 'zip'),
      ]);
      const statement = readStatementUnverified((await server.getRaw('signed', signatureKey('ci-a')))!)!;
      expect(statement.provenance).toEqual({
        builderImageId: distMetadata(publisher).builderImage.id,
        tool: 'aws-serverless-sweep 0.1.0',
        sourceRevision: revision,
        signedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });

      // WHEN a machine with no caches and no Docker, trusting ci-a in its cdktf.json, asks and builds
      const reader = configure(keep(freshProject('sweep-signed-reader-')), [A.publicLine]);
      const env = remoteEnv(server, { url: url('signed') }, { SWEEP_DOCKER: NO_DOCKER });
      const status = await runCli(['status', '--remote'], { cwd: reader.root, env });
      const build = await runCli(['build'], { cwd: reader.root, env });

      // THEN
      expect(status.exitCode).toBe(0);
      expect(lines(status).slice(-2)).toEqual([
        `[${NAME}] remote: ${url('signed')} holds fingerprint ${template.fingerprint.slice(0, 12)}`,
        `[${NAME}] remote: signed by ci-a (trusted key): builder image ${statement.provenance.builderImageId}, aws-serverless-sweep 0.1.0, source ${revision}, signed ${statement.provenance.signedAt}`,
      ]);
      expect(build.exitCode).toBe(0);
      expect(warnings(build)).toEqual([]);
      expect(lines(build)).toContainEqual(
        expect.stringMatching(
          new RegExp(`^\\[${NAME}\\] cache-hit \\(remote ${escapeRegExp(url('signed'))}, [\\d.]+ KiB in \\d+ ms, signed by ci-a\\)$`),
        ),
      );
      expect(compiled(build)).toBe(false);
      expect(Buffer.compare(distZip(reader), distZip(publisher))).toBe(0);
      expect(distMetadata(reader).origin).toEqual({ kind: 'remote', cacheDomain: 'publish', remote: url('signed') });
    });

    it('CONTROL: without trusted keys, a consistent forgery is deployed (what signatures stop), with a one-line note that downloads are not checked', async () => {
      const forged = forgedZip();
      await seed('control', { zip: forged, metadata: metadataFor(forged) });
      const reader = keep(freshProject('sweep-signed-control-'));

      const run = await runCli(['build'], {
        cwd: reader.root,
        env: remoteEnv(server, { url: url('control') }, { SWEEP_DOCKER: NO_DOCKER }),
      });

      expect(run.exitCode).toBe(0);
      expect(Buffer.compare(distZip(reader), forged)).toBe(0);
      expect(lines(run)).toContain(
        `[${NAME}] remote: note: downloads from ${url('control')} are not signature-checked (no trusted keys; see "Security and trust" in the README)`,
      );
    });

    const forgeries: {
      name: string;
      bucket: string;
      signatures: (zip: Uint8Array, metadata: Uint8Array) => Record<string, Uint8Array>;
      why: () => string;
    }[] = [
      { name: 'unsigned', bucket: 'forged-unsigned', signatures: () => ({}), why: () => 'unsigned' },
      {
        name: 'signed by a key the reader does not trust',
        bucket: 'forged-other-key',
        signatures: (zip, metadata) => ({ 'ci-b': signatureOf(signingKey(B), zip, metadata) }),
        why: () => 'signed only by an untrusted key ci-b',
      },
      {
        name: "a valid signature by the trusted key, over other bytes (the real build's)",
        bucket: 'forged-replayed',
        signatures: () => ({ 'ci-a': signatureOf(signingKey(A), realBuild().zip, realBuild().metadata) }),
        why: () => {
          const signed = sha256Hex(realBuild().metadata).slice(0, 12);
          const here = sha256Hex(metadataFor(forgedZip())).slice(0, 12);
          return `the statement signed by ci-a does not match these bytes (metadata sha256: signed ${signed}, here ${here})`;
        },
      },
      {
        name: "another key's signature stored under the trusted key's name",
        bucket: 'forged-wrong-signer',
        signatures: (zip, metadata) => ({ 'ci-a': signatureOf(signingKey(B), zip, metadata) }),
        why: () => 'the signature by ci-a does not match',
      },
    ];

    it.each(forgeries)(
      'GIVEN a consistent forgery, $name, WHEN a reader trusting ci-a builds THEN one line says why, and it is built locally',
      async (c) => {
        // GIVEN
        const zip = forgedZip();
        const metadata = metadataFor(zip);
        await seed(c.bucket, { zip, metadata, signatures: c.signatures(zip, metadata) });
        const keysBefore = await server.listKeys(c.bucket);
        const project = keep(template.copy('none'));

        // WHEN
        const run = await runCli(['build'], {
          cwd: project.root,
          env: remoteEnv(server, { url: url(c.bucket) }, { SWEEP_REMOTE_CACHE_TRUSTED_KEYS: A.publicLine }),
        });

        // THEN
        expect(run.exitCode).toBe(0);
        expect(warnings(run)).toEqual([`[${NAME}] warning: remote: discarded ${location(c.bucket)}: ${c.why()}; building locally`]);
        expect(compiled(run)).toBe(true);
        expect(Buffer.compare(distZip(project), template.zip)).toBe(0);
        expect(distMetadata(project).origin).toEqual({ kind: 'build', cacheDomain: 'local' });
        expect(await server.listKeys(c.bucket)).toEqual(keysBefore);
      },
    );

    it('GIVEN a build signed by ci-b WHEN the reader trusts ci-a and ci-b THEN a hit; WHEN ci-b is removed from its keys THEN discarded (revoked) and built locally', async () => {
      // GIVEN
      const build = realBuild();
      await seed('two-keys', { ...build, signatures: { 'ci-b': signatureOf(signingKey(B), build.zip, build.metadata) } });

      // WHEN both are trusted (the environment's list wins over cdktf.json's)
      const both = configure(keep(freshProject('sweep-signed-both-')), [A.publicLine]);
      const hit = await runCli(['build'], {
        cwd: both.root,
        env: remoteEnv(
          server,
          { url: url('two-keys') },
          { SWEEP_DOCKER: NO_DOCKER, SWEEP_REMOTE_CACHE_TRUSTED_KEYS: `${A.publicLine},${B.publicLine}` },
        ),
      });
      // THEN
      expect(hit.exitCode).toBe(0);
      expect(warnings(hit)).toEqual([]);
      expect(lines(hit)).toContainEqual(expect.stringMatching(new RegExp(`^\\[${NAME}\\] cache-hit \\(remote .+, signed by ci-b\\)$`)));
      expect(Buffer.compare(distZip(both), build.zip)).toBe(0);

      // WHEN ci-b is no longer trusted
      const revoked = configure(keep(template.copy('none')), [A.publicLine]);
      const run = await runCli(['build'], { cwd: revoked.root, env: remoteEnv(server, { url: url('two-keys') }) });
      // THEN
      expect(run.exitCode).toBe(0);
      expect(warnings(run)).toEqual([
        `[${NAME}] warning: remote: discarded ${location('two-keys')}: signed only by an untrusted key ci-b; building locally`,
      ]);
      expect(compiled(run)).toBe(true);
    });

    it('GIVEN a build signed by the old key WHEN a publisher with the new key rebuilds it THEN it adds its signature beside the old one, and a reader trusting only the new key hits', async () => {
      // GIVEN
      const build = realBuild();
      await seed('rotation', { ...build, signatures: { 'ci-a': signatureOf(signingKey(A), build.zip, build.metadata) } });
      const publisher = configure(keep(template.copy('none')), [A.publicLine, B.publicLine]);

      // WHEN (a forced rebuild skips the lookup: it builds, then publishes)
      const run = await runCli(['build'], {
        cwd: publisher.root,
        env: remoteEnv(server, { url: url('rotation'), mode: 'read-write' }, { FORCE_REBUILD: '1', SWEEP_SIGNING_KEY: B.privateText }),
      });

      // THEN
      expect(run.exitCode).toBe(0);
      expect(warnings(run)).toEqual([]);
      expect(lines(run)).toContain(`[${NAME}] remote: already present in ${url('rotation')}; signed it with ci-b`);
      expect(await server.listKeys('rotation')).toEqual([
        objectKey(template.fingerprint, 'json'),
        signatureKey('ci-a'),
        signatureKey('ci-b'),
        objectKey(template.fingerprint, 'zip'),
      ]);
      const reader = keep(freshProject('sweep-signed-rotated-'));
      const hit = await runCli(['build'], {
        cwd: reader.root,
        env: remoteEnv(server, { url: url('rotation') }, { SWEEP_DOCKER: NO_DOCKER, SWEEP_REMOTE_CACHE_TRUSTED_KEYS: B.publicLine }),
      });
      expect(lines(hit)).toContainEqual(expect.stringMatching(new RegExp(`^\\[${NAME}\\] cache-hit \\(remote .+, signed by ci-b\\)$`)));
    });

    it.each([
      {
        name: 'no signing key',
        bucket: 'no-key',
        env: { SWEEP_SIGNING_KEY: '', SWEEP_SIGNING_KEY_FILE: '' } as Record<string, string>,
        warning: `nothing is uploaded to s3://no-key/${PREFIX}: read-write mode without a signing key (SWEEP_SIGNING_KEY or SWEEP_SIGNING_KEY_FILE) while trusted keys are set, so every reader would discard the uploads; give this job the publisher's key, or use mode read`,
      },
      {
        name: 'a damaged signing key',
        bucket: 'bad-key',
        env: { SWEEP_SIGNING_KEY: `${A.privateText.slice(0, -8)}damaged!` } as Record<string, string>,
        warning: `nothing is uploaded to s3://bad-key/${PREFIX}: the signing key is not usable (SWEEP_SIGNING_KEY: the part after "sweep-signing-key:ci-a:" is not the base64 of a 32-byte Ed25519 key); set SWEEP_SIGNING_KEY to the content of the NAME.private file`,
      },
    ])(
      'GIVEN read-write with trusted keys and $name WHEN building and pushing THEN one warning each, nothing uploaded; the build succeeds, push fails',
      async (c) => {
        await server.createBucket(c.bucket);
        const project = configure(keep(template.copy('none')), [A.publicLine]);
        const env = remoteEnv(server, { url: url(c.bucket), mode: 'read-write' }, c.env);

        const build = await runCli(['build'], { cwd: project.root, env });
        const push = await runCli(['push'], { cwd: project.root, env });

        expect(build.exitCode).toBe(0);
        expect(warnings(build)).toEqual([expect.stringContaining(`[${NAME}] warning: remote: ${c.warning}`)]);
        expect(push.exitCode).toBe(1);
        expect(warnings(push)).toEqual([expect.stringContaining(`[${NAME}] warning: remote: ${c.warning}`)]);
        expect(`${build.all}${push.all}`).not.toContain(secretOf(A).slice(0, 24));
        expect(await server.listKeys(c.bucket)).toEqual([]);
      },
    );

    it('GIVEN other metadata already at the metadata key WHEN pushing THEN push says so and fails (exit 1), leaving it', async () => {
      const forged = forgedZip();
      await server.createBucket('push-other-metadata');
      await server.putRaw('push-other-metadata', objectKey(template.fingerprint, 'json'), metadataFor(forged));
      const project = keep(template.copy('publish'));

      const run = await runCli(['push'], {
        cwd: project.root,
        env: remoteEnv(server, { url: url('push-other-metadata'), mode: 'read-write' }, { SWEEP_SIGNING_KEY: A.privateText }),
      });

      expect(run.exitCode).toBe(1);
      expect(warnings(run)).toEqual([
        `[${NAME}] warning: remote: ${location('push-other-metadata', 'json')} holds other metadata for this fingerprint (a zip of sha256 ${sha256Hex(forged).slice(0, 12)}, ${forged.byteLength} bytes; this build's is ${sha256Hex(template.zip).slice(0, 12)}, ${template.zip.byteLength} bytes): someone other than a publisher wrote it, and readers discard the build; the remote object is left as it is`,
      ]);
      expect(run.stdout).not.toContain('remote: uploaded');
      expect(Buffer.from((await server.getRaw('push-other-metadata', objectKey(template.fingerprint, 'json')))!).toString()).toBe(
        metadataFor(forged).toString(),
      );
    });

    it('GIVEN metadata whose invalid field carries a forged log line WHEN building THEN the discard warning shows it escaped, and no line claims a cache hit', async () => {
      // The name of a bad field is in the warning (which says what failed): here a newline, a whole
      // `cache-hit` line and a terminal escape that would erase the warning's own line.
      const forgedLine = `[${NAME}] cache-hit (remote s3://forged-line/${PREFIX}, 271.6 KiB in 5 ms)`;
      const metadata = JSON.parse(template.metadataText);
      metadata.settings.env = { [`\n${forgedLine}\n\u001b[2K`]: 1 };
      await seed('forged-line', { zip: template.zip, metadata: Buffer.from(JSON.stringify(metadata)) });
      const project = keep(template.copy('none'));

      const run = await runCli(['build'], { cwd: project.root, env: remoteEnv(server, { url: url('forged-line') }) });

      expect(run.exitCode).toBe(0);
      expect(lines(run).filter((line) => line.includes('cache-hit'))).toEqual([
        expect.stringMatching(new RegExp(`^\\[${NAME}\\] warning: remote: discarded .*\\\\n\\[${NAME}\\] cache-hit .*; building locally$`)),
      ]);
      expect(run.all).not.toContain('\u001b');
      expect(compiled(run)).toBe(true);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
