import { type ArtifactOptions, CONTEXT_KEY, functionArtifactShape } from './schema.js';

/*
 * Where options came from, and so how a message names a setting the user can change: a key of
 * cdktf.json (`sweep.artifact`, or a function's `sweep.functions.<name>.artifact`; with `cli`
 * when a flag could set it too), or a construct's config.
 */
export type OptionsOrigin =
  | { readonly kind: 'context'; readonly function?: string; readonly cli?: boolean }
  | { readonly kind: 'props'; readonly label: string };

const CLI_FLAGS: Partial<Record<keyof ArtifactOptions, string>> = { workspace: '--workspace', package: '--package', binary: '--bin' };

/** The cdktf.json context key of option `key` for options from `origin` (workspace-wide options live in `sweep.artifact`). */
export function contextKeyOf(origin: { readonly function?: string }, key: keyof ArtifactOptions): string {
  const perFunction = origin.function !== undefined && key in functionArtifactShape;
  return [CONTEXT_KEY, ...(perFunction ? ['functions', origin.function!] : []), 'artifact', key].join('.');
}

/**
 * How to set option `key` where these options came from, e.g. "`package` (cdktf.json context
 * sweep.artifact.package, or --package)" or "`package` in the RuntimeArtifact "stack/runtime" config".
 */
export function optionHint(origin: OptionsOrigin = { kind: 'context' }, key: keyof ArtifactOptions): string {
  if (origin.kind === 'props') return `\`${key}\` in the ${origin.label}`;
  const flag = origin.cli ? CLI_FLAGS[key] : undefined;
  return `\`${key}\` (cdktf.json context ${contextKeyOf(origin, key)}${flag ? `, or ${flag}` : ''})`;
}

/** Where options came from, in words: `the RuntimeArtifact "x" config` or `cdktf.json context sweep.functions.api`. */
export function describeOrigin(origin: OptionsOrigin): string {
  if (origin.kind === 'props') return `the ${origin.label}`;
  return `cdktf.json context ${CONTEXT_KEY}${origin.function !== undefined ? `.functions.${origin.function}` : ''}`;
}
