// Fuzz: 250 json mutants per `npm test` (fixed seed), each a clear Kiln error or a result that matches its reference.
import { describe, expect, it } from 'vitest';
import { formatCounts, fuzzInSuite } from './suite.ts';

describe('fuzz: json', () => {
  it('250 mutants: each is a clear error or matches', async () => {
    const counts = await fuzzInSuite('json', 250);
    console.log(formatCounts(counts));
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(250);
  }, 300_000);
});
