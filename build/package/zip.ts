import { zipSync } from 'fflate';
import { LAMBDA_ENTRY_POINT } from '../options/schema.js';

/*
 * The Lambda zip: one entry, `bootstrap`, at the root, mode 0755, a fixed timestamp and fixed
 * compression, so the same binary always gives a byte-identical zip (and so the same asset hash
 * and no Terraform diff).
 *
 * fflate writes it: its deflate is pure JavaScript (the bytes do not depend on the machine's
 * zlib), and it takes the entry's mtime, "made by" OS and attributes explicitly.
 */
export const ZIP_ENTRY_NAME = LAMBDA_ENTRY_POINT;
/** Regular file (0o100000), rwxr-xr-x: Lambda executes `bootstrap`. */
export const ZIP_ENTRY_MODE = 0o100755;
/**
 * fflate's deflate level, chosen by measurement (`npm run bench -- --only=fleet` prints it for a
 * 10.4 MiB Rust binary, CPU time): level 9 738 ms, 6 406 ms, 5 327 ms, 1 244 ms; the zip is
 * 35.21%, 35.26%, 35.55% and 37.76% of the binary. Packaging, not upload, is what every cold
 * build and every edit waits for: at level 1 a cold build of 100 such functions fits in 2.5x its
 * compile stage on 2 cores (at level 5 it cannot: 2.74x at best), for zips 6% larger than level
 * 5's (3.9 instead of 3.7 MiB). Changing it changes every zip: bump ENGINE_PACKAGING_VERSION.
 */
export const DEFLATE_LEVEL = 1;
const MADE_BY_UNIX = 3;

/**
 * fflate's options for the one entry, in one place: the in-process zip and the packaging pool's
 * workers (pool.ts) both use exactly these.
 */
export function zipEntryOptions(): { level: typeof DEFLATE_LEVEL; mtime: Date; os: number; attrs: number } {
  return {
    level: DEFLATE_LEVEL,
    // fflate converts the Date to a DOS timestamp using the *local* fields; a Date built
    // from local fields gives 1980-01-01 00:00 in every timezone.
    mtime: new Date(1980, 0, 1, 0, 0, 0),
    os: MADE_BY_UNIX,
    // Unix mode in the high 16 bits of the external attributes.
    attrs: (ZIP_ENTRY_MODE << 16) >>> 0,
  };
}

export function createLambdaZip(binary: Uint8Array): Uint8Array {
  return zipSync({ [ZIP_ENTRY_NAME]: [binary, zipEntryOptions()] }, {});
}
