// One fuzz case from one seed: generate the mutant, judge it, and on failure shrink it with fast-check to a minimal reproducer.
import fc from 'fast-check';
import { outcomeKey, type Outcome } from './oracle.ts';
import type { AnyTarget } from './targets.ts';

/**
 * A case that took longer than this is a failure (a model that is quick to load must be quick to
 * reject or run). It is a bound on hangs, not a speed test: the slowest legitimate case (import
 * and check of a 12,000-node chain) takes a few seconds alone and 23 s on a machine loaded by
 * other work, so the bound leaves room for that.
 */
export const CASE_TIME_LIMIT_MS = 60_000;

export interface CaseReport {
  seed: number;
  key: string;
  outcome: Outcome;
  ms: number;
  /** For failures: the minimised mutant and the key it fails with. */
  minimal?: { mutant: unknown; key: string };
}

/** Runs a target on one mutant, turning a slow case into a failure. */
export async function judge(target: AnyTarget, mutant: unknown): Promise<{ outcome: Outcome; ms: number }> {
  const t0 = performance.now();
  const outcome = await target.run(mutant);
  const ms = performance.now() - t0;
  if (ms > CASE_TIME_LIMIT_MS && outcome.kind !== 'failure') {
    return { outcome: { kind: 'failure', stage: 'any', failure: `case took over ${CASE_TIME_LIMIT_MS / 1000} s`, message: `${Math.round(ms)} ms (${outcomeKey(outcome)})` }, ms };
  }
  return { outcome, ms };
}

/**
 * The case of `seed` (fast-check's first value for that seed). When it fails, fast-check shrinks it
 * (each step judged the same way, for at most `shrinkMs`) towards the smallest mutant that still fails.
 */
export async function runSeed(target: AnyTarget, seed: number, options: { shrink?: boolean; shrinkMs?: number; onStep?: () => void } = {}): Promise<CaseReport> {
  const [mutant] = fc.sample(target.arbitrary, { seed, numRuns: 1 });
  const { outcome, ms } = await judge(target, mutant);
  const report: CaseReport = { seed, key: outcomeKey(outcome), outcome, ms };
  if (outcome.kind !== 'failure' || options.shrink === false) return report;
  // Shrinking keeps mutants that fail at all; the reported class is the minimal one's.
  let lastKey = report.key;
  const property = fc.asyncProperty(target.arbitrary, async (m) => {
    options.onStep?.();
    const r = await judge(target, m);
    if (r.outcome.kind === 'failure') lastKey = outcomeKey(r.outcome);
    return r.outcome.kind !== 'failure';
  });
  const details = await fc.check(property, { seed, numRuns: 1, interruptAfterTimeLimit: options.shrinkMs ?? 60_000 });
  if (details.failed && details.counterexample) {
    // Re-judge the minimal mutant so its key is its own (the last step judged may have passed).
    const minimal = details.counterexample[0];
    const again = await judge(target, minimal);
    report.minimal = { mutant: minimal, key: again.outcome.kind === 'failure' ? outcomeKey(again.outcome) : lastKey };
  }
  return report;
}
