import type { ArtifactMetadata } from '../cache/metadata.js';
import type { SweepError } from '../support/errors.js';

/*
 * What the engine hands back for one artifact, in one place: the engine, its batches, its child
 * process and the constructs all speak this shape.
 */
export interface ArtifactResult {
  readonly outcome: 'cache-hit' | 'cache-miss';
  /** Where the zip came from in this run: reused from dist/, downloaded from the shared cache, or built. */
  readonly via: 'local' | 'remote' | 'build';
  /** The `cache-hit` / `cache-miss: ...` line of the local check. */
  readonly explanation: string;
  readonly name: string;
  readonly zipPath: string;
  readonly metadata: ArtifactMetadata;
  /** Milliseconds per stage of this run, and its total. */
  readonly timingsMs: Readonly<Record<string, number>>;
}

/** One artifact's end in a run: its result, or its own error (one function's problem is that function's). */
export type Settled =
  | { readonly result: ArtifactResult; readonly error?: undefined }
  | { readonly error: SweepError; readonly result?: undefined };
