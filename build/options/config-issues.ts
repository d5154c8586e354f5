import { z } from 'zod';
import type { ConfigIssue } from '../support/errors.js';

/*
 * zod's issues in the words of this project: each bad key with the value it got and what it
 * accepts, taken from the schema's `meta({ expected })` (see schema.ts), for one-screen config errors.
 */

/**
 * Turns zod's issues into ConfigIssues whose keys carry `prefix` (e.g. `context.sweep.`), with the
 * words of what each key accepts taken from the schema's `meta({ expected })`, and the keys an
 * object accepts from the schema's shape.
 */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], prefix: string, schema: z.ZodType, value: unknown): ConfigIssue[] {
  const keyOf = (at: readonly PropertyKey[]) => (at.length === 0 ? prefix.replace(/\.$/, '') : `${prefix}${at.join('.')}`);
  return issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = Object.keys(objectShapeAt(schema, issue.path, value) ?? {}).join(', ');
      return issue.keys.map((key) => ({
        key: keyOf([...issue.path, key]),
        got: valueAt(value, [...issue.path, key]),
        expected: `no such key (known keys: ${known})`,
      }));
    }
    // The closest described key: `features.0` is described by `features`.
    let expected: string | undefined;
    // A bad key of a record is described by the record (which says what its keys may be).
    const start = issue.code === 'invalid_key' ? issue.path.length - 1 : issue.path.length;
    for (let n = start; n >= 0 && expected === undefined; n--) {
      expected = expectedAt(schema, issue.path.slice(0, n), value);
    }
    return [{ key: keyOf(issue.path), got: valueAt(value, issue.path), expected: expected ?? issue.message }];
  });
}

/** The schema of the value at `at` inside `schema`, looking through optional/default/record/union wrappers. */
export function schemaAt(schema: z.ZodType, at: readonly PropertyKey[], value: unknown): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  let currentValue = value;
  for (const key of at) {
    const object: Record<string, unknown> | undefined = current && objectShapeOf(current, currentValue);
    const element: z.ZodType | undefined = current && containerElement(current);
    if (object && typeof key === 'string' && key in object) current = object[key] as z.ZodType;
    else if (element) current = element;
    else return undefined;
    currentValue = valueAt(currentValue, [key]);
  }
  return current;
}

function expectedAt(schema: z.ZodType, at: readonly PropertyKey[], value: unknown): string | undefined {
  const found = schemaAt(schema, at, value);
  return found ? (metaExpected(found) ?? undefined) : undefined;
}

function metaExpected(schema: z.ZodType): string | undefined {
  for (let s: z.ZodType | undefined = schema; s; s = unwrap(s)) {
    const expected = s.meta()?.expected;
    if (typeof expected === 'string') return expected;
  }
  return undefined;
}

function objectShapeAt(schema: z.ZodType, at: readonly PropertyKey[], value: unknown): Record<string, unknown> | undefined {
  const found = schemaAt(schema, at, value);
  return found && objectShapeOf(found, valueAt(value, at));
}

/** The shape of an object schema (through wrappers; for a discriminated union, the member matching `value`). */
function objectShapeOf(schema: z.ZodType, value: unknown): Record<string, unknown> | undefined {
  for (let s: z.ZodType | undefined = schema; s; s = unwrap(s)) {
    if (s instanceof z.ZodObject) return s.shape;
    if (s instanceof z.ZodUnion) {
      // The member whose literal fields (a discriminator like `type: "s3"`) match the value.
      const members = (s.options as z.ZodType[]).filter((option) => option instanceof z.ZodObject) as z.ZodObject[];
      const matches = (member: z.ZodObject) =>
        Object.entries(member.shape).every(
          ([key, field]) => !(field instanceof z.ZodLiteral) || field.values.has(valueAt(value, [key]) as never),
        );
      const member = members.find(matches) ?? members[0];
      return member?.shape;
    }
  }
  return undefined;
}

function containerElement(schema: z.ZodType): z.ZodType | undefined {
  for (let s: z.ZodType | undefined = schema; s; s = unwrap(s)) {
    if (s instanceof z.ZodArray) return s.element as z.ZodType;
    if (s instanceof z.ZodRecord) return s.valueType as z.ZodType;
  }
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType | undefined {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault)
    return schema.unwrap() as z.ZodType;
  return undefined;
}

function valueAt(value: unknown, at: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of at) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
