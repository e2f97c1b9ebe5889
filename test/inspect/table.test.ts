// Tests for the plain-text table helpers: thousands separators and box layout.
import { describe, expect, it } from 'vitest';
import { formatCount, renderTable } from '../../compiler/inspect/table.ts';

describe('formatCount', () => {
  it('groups digits in threes', () => {
    expect([0, 7, 999, 1000, 693_962, 8_475_530, 1_234_567_890].map(formatCount)).toEqual([
      '0', '7', '999', '1,000', '693,962', '8,475,530', '1,234,567,890',
    ]);
    expect(formatCount(-1234)).toBe('-1,234');
    expect(formatCount(2.6)).toBe('3');
  });
});

describe('renderTable', () => {
  it('pads cells to their column and aligns as asked', () => {
    const text = renderTable(
      [
        { header: 'Name', align: 'left' },
        { header: 'N', align: 'right' },
      ],
      [['a', '1'], ['bbbbbb', '1,000']],
    );
    expect(text.split('\n')).toEqual([
      '┌────────┬───────┐',
      '│ Name   │ N     │',
      '├────────┼───────┤',
      '│ a      │     1 │',
      '│ bbbbbb │ 1,000 │',
      '└────────┴───────┘',
    ]);
  });
});
