// The profile tests' "kernel times add up to the call" check, made robust to a shared machine.
import type { ProfileReport } from '../../compiler/inspect/profile.ts';

/** How far the kernels' sum is from the measured call, as a fraction of the call. */
export const attributionGap = (r: ProfileReport): number => Math.abs(r.kernelMs - r.callMs) / r.callMs;

/**
 * Profiles up to `tries` times and returns the first report whose kernel times add up to the
 * call within `tolerance`, else the closest. Another process on a busy machine can preempt the
 * thread between two kernels: the call's time sees that pause and no kernel's does, so one
 * disturbed run says nothing about attribution; five disturbed runs in a row would.
 */
export async function closestProfile(run: () => Promise<ProfileReport>, tolerance = 0.1, tries = 5): Promise<ProfileReport> {
  let best: ProfileReport | undefined;
  for (let i = 0; i < tries; i++) {
    const r = await run();
    if (!best || attributionGap(r) < attributionGap(best)) best = r;
    if (attributionGap(best) < tolerance) break;
  }
  return best!;
}
