import { printable } from '../support/printable.js';
import type { RemoteBuildReport, SignatureReport } from './cache.js';
import { describeProvenance } from './statement.js';

/*
 * `status --remote`'s lines about one build in the shared cache: whether it is there, and who
 * signed it with what provenance. Everything read from the bucket is escaped.
 */
export function remoteReportLines(url: string, fingerprint: string, report: RemoteBuildReport, trustsKeys: boolean): string[] {
  const fp = fingerprint.slice(0, 12);
  if (!report.held) return [`remote: ${url} does not hold fingerprint ${fp}`];
  const lines = [`remote: ${url} holds fingerprint ${fp}`];
  if (report.signatures.length === 0)
    lines.push(`remote: unsigned${trustsKeys ? ': this configuration trusts keys, so it would discard this build and build locally' : ''}`);
  for (const signature of report.signatures) lines.push(signatureLine(signature));
  return lines;
}

function signatureLine(signature: SignatureReport): string {
  const name = printable(signature.key);
  const provenance = signature.provenance ? `: ${describeProvenance(signature.provenance)}` : '';
  switch (signature.status) {
    case 'trusted':
      return `remote: signed by ${name} (trusted key)${provenance}`;
    case 'invalid':
      return `remote: signed by ${name} (trusted key), but not valid: ${printable(signature.why ?? '')}`;
    case 'untrusted':
      return `remote: signed by ${name} (not a trusted key: not checked)${provenance}`;
  }
}
