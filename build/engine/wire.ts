/*
 * How the engine's values cross to its child process and back: JSON, with Maps kept as Maps
 * (a CacheCheck holds its inputs and their snapshot as Maps). The child is this same code,
 * started by this process, so what arrives needs no schema of its own; a protocol version
 * catches a child and a parent of different builds.
 */
export const WIRE_PROTOCOL = 2;

const MAP_TAG = '$sweepMap';

export function encode(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Map ? { [MAP_TAG]: [...v] } : v));
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && MAP_TAG in v ? new Map((v as Record<string, [unknown, unknown][]>)[MAP_TAG]) : v,
  ) as T;
}
