// Hostile values shared by the fuzzers: names, payload strings, numbers and dims an adversary would try.

/** Sets globalThis.__pwned if it ever runs as code (the oracle checks the mark after every stage). */
export const PAYLOAD = '0+(globalThis.__pwned=1,0)';

/** Payloads in the shapes renderers might splice them into: an expression, a statement, a comment, a template, a string. */
export const PAYLOADS = [
  PAYLOAD,
  `0;globalThis.__pwned=1;0`,
  `*/globalThis.__pwned=1;/*`,
  '${globalThis.__pwned=1}',
  `'+(globalThis.__pwned=1)+'`,
  `"+(globalThis.__pwned=1)+"`,
  `\`+(globalThis.__pwned=1)+\``,
  `\nglobalThis.__pwned=1\n`,
  `\u2028globalThis.__pwned=1`,
];

/** Names from prototypes, JavaScript keywords, odd characters, lengths, and Kiln's own 'N'. */
export const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  'class',
  'return',
  'await',
  'this',
  'N',
  '',
  ' ',
  '0',
  '1e3',
  'a.b',
  'a-b',
  'x'.repeat(5000),
  'ünïcödé_名前_🦀',
  '\u2028\u2029',
  '\u0000',
  ...PAYLOADS,
];

/** Integer values for dims, axes, sizes, counts. */
export const HOSTILE_INTS = [0, -1, -2, 1, 2, 3, 7, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 40, 2 ** 53 - 1, 100_000];

/** Float values for attributes and data. */
export const HOSTILE_FLOATS = [NaN, Infinity, -Infinity, 0, -0, 1e38, -3.4e38, 1e-45, 2 ** 40, 0.5];

/** Picks `list[i mod length]`. */
export const pick = <T>(list: readonly T[], i: number): T => list[Math.abs(Math.trunc(i)) % list.length];
