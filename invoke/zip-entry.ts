import { exceedsUnzippedLimit, inflateEntry, readCentralDirectory, unzippedSize, withZipFile, ZipFormatError } from '../build/index.js';
import { zipDamaged, zipTooLargeUnzipped } from './errors.js';

/**
 * The bytes of entry `name` of the zip at `zipPath` (the package room's reader, build/package/
 * zip-read.ts), or undefined when the zip, checked whole, has no such entry. What Lambda would
 * refuse is refused before anything is inflated: code of 250 MB or more unzipped. Throws the
 * user-facing error for that and for a zip that is truncated or damaged.
 */
export function readZipEntry(zipPath: string, name: string): Buffer | undefined {
  try {
    return withZipFile(zipPath, (zip) => {
      const entries = readCentralDirectory(zip);
      const total = unzippedSize(entries);
      if (exceedsUnzippedLimit(total)) throw zipTooLargeUnzipped(zipPath, total);
      const entry = entries.find((e) => e.name === name);
      return entry && inflateEntry(zip, entry);
    });
  } catch (error) {
    if (error instanceof ZipFormatError) throw zipDamaged(zipPath, error.message);
    throw error;
  }
}
