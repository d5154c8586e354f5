import { describe, expect, it } from '@jest/globals';
import type { MissReason } from '../../../build/cache/decide.js';
import { explainDecision, explainReason } from '../../../build/cache/explain.js';
import { printable } from '../../../build/support/printable.js';

// File names come from the workspace, so they can hold anything but `/` and NUL. A name printed
// raw in the `cache-miss:` line could forge a log line (`\n[x] done: cache-hit`) or send terminal
// escapes (clear the screen). Every name shown is escaped, so one reason is one line.
const context = { zipPath: 'dist/sweep.zip' };
const changed = (...names: string[]): MissReason => ({ kind: 'inputs-changed', changed: names, added: [], removed: [] });
const missLine = (...reasons: MissReason[]) => explainDecision({ outcome: 'cache-miss', reasons }, context);

describe('explain: names are shown escaped, one reason per line', () => {
  it('escapes a newline in a file name, so it cannot forge a log line', () => {
    const forged = 'src/x.rs\n[sweep-lambda] done: cache-hit';
    const text = missLine(changed(forged));
    expect(text).toBe('cache-miss: changed src/x.rs\\n[sweep-lambda] done: cache-hit');
    expect(text.split('\n')).toHaveLength(1);
  });

  it.each([
    ['ESC (a terminal escape that clears the screen)', 'a\u001b[2J\u001b[Hb.rs', 'a\\x1b[2J\\x1b[Hb.rs'],
    ['a carriage return', 'a\rb.rs', 'a\\rb.rs'],
    ['a tab', 'a\tb.rs', 'a\\tb.rs'],
    ['a bell and a NUL', 'a\u0007\u0000b.rs', 'a\\x07\\x00b.rs'],
    ['DEL', 'a\u007fb.rs', 'a\\x7fb.rs'],
    ['a C1 control (CSI, 0x9b)', 'a\u009b2Jb.rs', 'a\\x9b2Jb.rs'],
    ['NEL (0x85)', 'a\u0085b.rs', 'a\\x85b.rs'],
    ['a right-to-left override', 'evil\u202Esr.exe', 'evil\\u202esr.exe'],
    ['a zero-width space', 'a\u200bb.rs', 'a\\u200bb.rs'],
    ['a line separator', 'a\u2028b.rs', 'a\\u2028b.rs'],
    ['a private-use character', 'a\u{F0000}b.rs', 'a\\u{f0000}b.rs'],
    ['a backslash (so escapes shown always come from the escaping)', 'a\\nb.rs', 'a\\\\nb.rs'],
  ])('escapes %s', (_what, name, shown) => {
    expect(missLine(changed(name))).toBe(`cache-miss: changed ${shown}`);
  });

  it('keeps normal Unicode names readable', () => {
    const names = ['src/café.rs', 'src/данные.rs', 'src/数据.rs', 'src/emoji-🦀.rs', 'src/naïve — a b.rs'];
    expect(missLine(changed(...names))).toBe(`cache-miss: changed ${names.join(', ')}`);
  });

  it('escapes names in the added and removed lists too', () => {
    expect(missLine({ kind: 'inputs-changed', changed: [], added: ['a\nb'], removed: ['c\u001bd'] })).toBe(
      'cache-miss: added a\\nb; removed c\\x1bd',
    );
  });

  it('escapes setting values, the forced source, the record error and the zip path', () => {
    const reasons: MissReason[] = [
      { kind: 'forced', source: 'FORCE_REBUILD=1\nx' },
      { kind: 'metadata-unusable', status: 'invalid', detail: 'bad\u001b[31m' },
      { kind: 'setting-changed', setting: 'features', from: [], to: ['a\nb'] },
      { kind: 'setting-changed', setting: 'toolchainImage', from: 'rust:1', to: 'img\r' },
      { kind: 'setting-changed', setting: 'env', from: {}, to: { RUSTFLAGS: '-C "x"\n' } },
    ];
    const text = missLine(...reasons);
    expect(text).toBe(
      'cache-miss: forced (FORCE_REBUILD=1\\nx); metadata invalid (bad\\x1b[31m); features (none) -> a\\nb; ' +
        'toolchain image rust:1 -> img\\r; build environment (none) -> RUSTFLAGS="-C \\"x\\"\\n"',
    );
    expect(text.split('\n')).toHaveLength(1);
    expect(explainReason({ kind: 'zip-missing' }, { zipPath: 'dist/a\nb.zip' })).toBe('dist/a\\nb.zip missing');
  });
});

describe('printable', () => {
  it('leaves printable text alone, Unicode included', () => {
    for (const text of ['plain', 'café', 'a b', '"quoted"', "it's", '🦀', 'x=1;y=2']) expect(printable(text)).toBe(text);
  });

  it('escapes a lone surrogate (not valid text)', () => {
    expect(printable('a\ud800b')).toBe('a\\ud800b');
  });
});
