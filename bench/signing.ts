import { createHash } from 'node:crypto';
import { generateKeyPair, parseSigningKey, parseTrustedKey, type SigningKey, type TrustedKey } from '../build/remote/keys.js';
import { type Claim, checkSignature, makeStatement, signStatement } from '../build/remote/statement.js';
import type { Context, ScenarioResult } from './scenarios.js';
import { medianBreakdown } from './stats.js';

/**
 * What signatures add to the shared cache (issue 19), in-process, no bucket: per iteration, a
 * publisher signs one build's statement (makeStatement + signStatement: canonical JSON, Ed25519)
 * and a reader checks it as a remote hit does (the SHA-256 of the metadata document, then
 * checkSignature: parse, Ed25519 verify, parse the statement, compare every claim). The metadata
 * is the size of a real one (100 inputs). The row is sign + verify; the target is on verify,
 * which is what a remote hit pays.
 */
export async function signingScenario(ctx: Context, r: ScenarioResult): Promise<void> {
  const pair = generateKeyPair('bench');
  const key = parseSigningKey(pair.privateText) as SigningKey;
  const trusted = parseTrustedKey(pair.publicLine) as TrustedKey;
  const metadata = Buffer.from(
    JSON.stringify({ inputs: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`crates/x/src/f${i}.rs`, 'f'.repeat(64)])) }),
  );
  const hex = (text: string) => createHash('sha256').update(text).digest('hex');
  const breakdowns: Record<string, number>[] = [];
  const iterations = ctx.counts.signing;
  // Warm-up: the first call of each loads and compiles its code.
  for (let i = 0; i < 20; i++) once(i);
  for (let i = 1; i <= iterations; i++) {
    const { signMs, verifyMs } = once(i);
    r.samplesMs.push(signMs + verifyMs);
    breakdowns.push({ sign: signMs, verify: verifyMs });
  }
  r.breakdownMs = medianBreakdown(breakdowns);
  ctx.progress.line(`signing: ${iterations} sign + verify, median verify ${r.breakdownMs.verify} ms`);

  function once(i: number): { signMs: number; verifyMs: number } {
    const claim = (metadataSha256: string): Claim => ({
      fingerprint: hex(`fingerprint ${i}`),
      zip: { sha256: hex(`zip ${i}`), size: 271_600 + i },
      metadataSha256,
      architecture: 'x86_64',
      runtime: 'provided.al2023',
    });
    const provenance = {
      builderImageId: `sha256:${hex('image')}`,
      tool: 'aws-serverless-sweep 0.1.0',
      sourceRevision: null,
      signedAt: new Date().toISOString(),
    };
    const signStarted = performance.now();
    const document = signStatement(makeStatement(claim(createHash('sha256').update(metadata).digest('hex')), key.name, provenance), key);
    const verifyStarted = performance.now();
    const verdict = checkSignature(document, trusted, claim(createHash('sha256').update(metadata).digest('hex')));
    const verifyEnded = performance.now();
    if (!verdict.valid) throw new Error(`the bench's own signature does not verify: ${verdict.why}`);
    return { signMs: verifyStarted - signStarted, verifyMs: verifyEnded - verifyStarted };
  }
}
