// The in-suite form of a fuzzer: a fixed seed and case count, failing on the first case that is neither a clear error nor a match.
import fc from 'fast-check';
import { judge } from './campaign.ts';
import { outcomeKey } from './oracle.ts';
import { makeTarget, type TargetName } from './targets.ts';

/** The seed every `npm test` uses, so a failure here is a failure on every machine. */
export const SUITE_SEED = 12_2025;

/** Runs `runs` cases of `name`; throws fast-check's report (seed, path, mutant) on the first failure. Returns the counts by outcome. */
export async function fuzzInSuite(name: TargetName, runs: number): Promise<Map<string, number>> {
  const target = await makeTarget(name);
  const counts = new Map<string, number>();
  const property = fc.asyncProperty(target.arbitrary, async (mutant) => {
    const { outcome } = await judge(target, mutant);
    const key = outcomeKey(outcome);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (outcome.kind === 'failure') throw new Error(`${key}: ${outcome.message}`);
  });
  // No shrinking here (each step may compile a model): `npm run fuzz -- --target <name> --seed <case seed>` minimises.
  await fc.assert(property, { seed: SUITE_SEED, numRuns: runs, endOnFailure: true });
  return counts;
}

/** The counts as lines for the test log. */
export const formatCounts = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${String(n).padStart(5)}  ${k}`).join('\n');
