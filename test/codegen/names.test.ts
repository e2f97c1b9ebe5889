// Sanitisers for model-provided names in generated source: comments, string literals, identifiers.
import { describe, expect, it } from 'vitest';
import { commentSafe, safeIdentifier, stringLiteral } from '../../compiler/codegen/names.ts';
import { Lcg } from '../reference/lcg.ts';

const HOSTILE = [
  '*/ process.exit(1) /*',
  '`${process.exit(1)}`',
  '${process.exit(1)}',
  '\u2028',
  '\u2029',
  'a\u2028b\u2029c',
  '"double" \'single\' `back`',
  'line\nbreak\r\nand\ttab',
  '\\',
  '\\u2028',
  '</script><script>alert(1)</script>',
  '',
  ' ',
  '\u0000\u0001\u001f\u007f',
  '*\n/',
  '**//**/',
  '\ud800', // lone surrogate
  '😀 emoji',
  'ünïcødé',
  'constructor',
  '__proto__',
  'class',
  '123abc',
  '-- // /* */',
];

/** Random strings biased towards the characters that break generated source. */
function randomStrings(count: number, seed: number): string[] {
  const rng = new Lcg(seed);
  const alphabet = ['*', '/', '`', '$', '{', '}', '"', "'", '\\', '\n', '\r', '\u2028', '\u2029', '\u0000', 'a', 'Z', '0', '_', ' ', 'é', '\ud83d', '\ude00'];
  return Array.from({ length: count }, () => Array.from({ length: rng.int(0, 24) }, () => alphabet[rng.int(0, alphabet.length)]).join(''));
}

const RANDOM = randomStrings(300, 42);
const CASES = [...HOSTILE, ...RANDOM];
const LABELLED = HOSTILE.map((s) => [JSON.stringify(s), s]);

describe('commentSafe', () => {
  it("neutralises '*/ process.exit(1) /*'", () => {
    const c = commentSafe('*/ process.exit(1) /*');
    expect(c).not.toContain('*/');
    // Inside a block comment it stays a comment: the function body is empty.
    expect(new Function(`/* ${c} */ return 1;`)()).toBe(1);
  });

  const commentOk = (s: string) => {
    const c = commentSafe(s);
    expect(c).not.toContain('*/');
    expect(c).not.toMatch(/[\n\r\u2028\u2029\u0000-\u001f\u007f]/);
    expect(c.length).toBeLessThanOrEqual(200);
    expect(new Function(`/* ${c} */\n/**\n * ${c}\n */\nreturn 42;`)()).toBe(42);
  };
  it.each(LABELLED)('keeps %s inside a block comment and a JSDoc line', (_label, s) => commentOk(s));
  it('keeps 300 random hostile strings inside comments', () => RANDOM.forEach(commentOk));

  it('leaves ordinary text alone, Latin-1 included; an arrow becomes ->, other wide characters \\uXXXX (latin1-source.test.ts)', () => {
    expect(commentSafe('conv2d → add → relu (conv2d_1), tile 4 × 8, entrée')).toBe('conv2d -> add -> relu (conv2d_1), tile 4 × 8, entrée');
    expect(commentSafe('出力')).toBe('\\u51fa\\u529b');
  });

  it('caps long text at 200 characters', () => {
    expect(commentSafe('x'.repeat(1000))).toHaveLength(200);
  });
});

describe('stringLiteral', () => {
  const roundTrips = (s: string) => {
    const lit = stringLiteral(s);
    expect(JSON.parse(lit)).toBe(s);
    expect(new Function(`return ${lit};`)()).toBe(s);
    // also as a computed key and an index
    expect(new Function(`return { [${lit}]: 1 }[${lit}];`)()).toBe(1);
  };
  it.each(LABELLED)('%s round-trips through JSON.parse and eval', (_label, s) => roundTrips(s));
  it('300 random hostile strings round-trip', () => RANDOM.forEach(roundTrips));

  it('escapes U+2028 and U+2029 (line terminators in older engines and some tools)', () => {
    const lit = stringLiteral('a\u2028b\u2029c');
    expect(lit).toBe('"a\\u2028b\\u2029c"');
    expect(lit).not.toMatch(/[\u2028\u2029]/);
  });

  it('contains no raw newline, and is a double-quoted literal (so ${} is inert)', () => {
    for (const s of CASES) {
      const lit = stringLiteral(s);
      expect(lit).not.toMatch(/[\n\r]/);
      expect(lit.startsWith('"') && lit.endsWith('"')).toBe(true);
    }
  });
});

describe('safeIdentifier', () => {
  const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

  const valid = (s: string) => {
    const id = safeIdentifier(s);
    expect(id).toMatch(IDENT);
    // Usable as a binding, never a reserved word.
    expect(new Function(`const ${id} = 5; return ${id};`)()).toBe(5);
  };
  it.each(LABELLED)('%s becomes a valid identifier', (_label, s) => valid(s));
  it('300 random hostile strings become valid identifiers', () => RANDOM.forEach(valid));

  it('keeps the safe characters and the given prefix', () => {
    expect(safeIdentifier('dense_1/kernel')).toBe('_dense_1_kernel');
    expect(safeIdentifier('conv1', 'p_')).toBe('p_conv1');
    expect(safeIdentifier('class')).toBe('_class');
    expect(safeIdentifier('123')).toBe('_123');
  });

  it('bounds the length', () => {
    expect(safeIdentifier('a'.repeat(500)).length).toBeLessThanOrEqual(65);
  });
});
