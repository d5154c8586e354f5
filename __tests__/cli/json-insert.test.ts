import { describe, expect, it } from '@jest/globals';
import { insertIntoJsonObject } from '../../cli/json-insert.js';

/** `sweep-runtime new` adds a function to cdktf.json without reformatting the user's file. */
describe('insertIntoJsonObject', () => {
  it('adds the member on its own line after the last one, keeping every other byte', () => {
    const text =
      '{\n  "context": {\n    "sweep": {\n      "functions": {\n        "a": { "artifact": { "package": "a" } }\n      },\n      "region": "eu-west-1"\n    }\n  }\n}\n';
    expect(insertIntoJsonObject(text, ['context', 'sweep', 'functions'], 'b', { artifact: { package: 'b' } })).toBe(
      '{\n  "context": {\n    "sweep": {\n      "functions": {\n        "a": { "artifact": { "package": "a" } },\n        "b": { "artifact": { "package": "b" } }\n      },\n      "region": "eu-west-1"\n    }\n  }\n}\n',
    );
  });

  it('fills an empty object, and appends to a one-line one', () => {
    expect(insertIntoJsonObject('{"f": {}}', ['f'], 'x', 1)).toBe('{"f": { "x": 1 }}');
    expect(insertIntoJsonObject('{"f": {"a": "}\\"{"}}', ['f'], 'x', [1])).toBe('{"f": {"a": "}\\"{", "x": [1]}}');
  });

  it('finds the object past strings, arrays and numbers that look like structure', () => {
    const text = '{"s": "{\\"f\\": 1}", "n": [1, {"f": 2}], "e": -1.5e3, "f": {"a": true}}';
    expect(JSON.parse(insertIntoJsonObject(text, ['f'], 'b', null))).toEqual({
      s: '{"f": 1}',
      n: [1, { f: 2 }],
      e: -1500,
      f: { a: true, b: null },
    });
  });
});
