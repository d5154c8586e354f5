import { describe, expect, it } from '@jest/globals';
import { bindMount } from '../../../build/builder/container.js';

/**
 * `--mount` takes CSV: a path with `:` (which breaks `-v source:target`) is fine as it is, one
 * with `,` or `"` is quoted the way docker's CSV parser reads it.
 */
describe('bindMount', () => {
  it('passes a path with a colon as it is (the -v syntax could not)', () => {
    expect(bindMount('/work/a:b/rust', '/work', true)).toBe('type=bind,source=/work/a:b/rust,target=/work,readonly');
  });

  it('quotes a path with a comma or a double quote, doubling the quote', () => {
    expect(bindMount('/work/a,b', '/cache/target', false)).toBe('type=bind,"source=/work/a,b",target=/cache/target');
    expect(bindMount('/work/say "hi"', '/work', true)).toBe('type=bind,"source=/work/say ""hi""",target=/work,readonly');
  });
});
