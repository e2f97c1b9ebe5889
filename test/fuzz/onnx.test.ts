// Fuzz: 350 onnx mutants per `npm test` (fixed seed), each a clear Kiln error or a result that matches its reference.
import { describe, expect, it } from 'vitest';
import { formatCounts, fuzzInSuite } from './suite.ts';

// TODO(issue 12): enable once these failure classes are fixed (npm run fuzz -- --target onnx lists them):
//  - stack overflow at import @ src/onnx/fold.ts (onlyConstants recurses; a 3,000-node chain)
//  - UnsupportedError with a multi-line message @ src/onnx/import.ts valueInfoType (names quoted raw)
describe.skip('fuzz: onnx (skipped until the failure classes in the TODO above are fixed)', () => {
  it('350 mutants: each is a clear error or matches', async () => {
    const counts = await fuzzInSuite('onnx', 350);
    console.log(formatCounts(counts));
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(350);
  }, 300_000);
});
