// `kiln train`'s fit flags: a flag that would be ignored, or a file that could not be written at
// the end of a long run, is refused before training starts.
import { describe, expect, it } from 'vitest';
import { fitCallbackOptions } from '../../cli/train-fit.ts';

describe('fitCallbackOptions', () => {
  it('refuses --monitor and --min-delta without a callback that watches a figure', () => {
    expect(() => fitCallbackOptions({ validation: 0, monitor: 'loss' })).toThrow(/^--monitor applies with --early-stop <patience> or --reduce-lr-on-plateau <patience>$/);
    expect(() => fitCallbackOptions({ validation: 0, minDelta: 0.01 })).toThrow(/^--min-delta applies with --early-stop/);
  });

  it('passes --monitor and --min-delta to early stopping and reduce-on-plateau', () => {
    const o = fitCallbackOptions({ validation: 0, monitor: 'loss', minDelta: 0.01, earlyStop: 2, reduceLrOnPlateau: 1 });
    expect(o.earlyStopping).toMatchObject({ monitor: 'loss', patience: 2, minDelta: 0.01 });
    expect(o.reduceLrOnPlateau).toMatchObject({ monitor: 'loss', patience: 1, minDelta: 0.01, factor: 0.1 });
  });

  it('refuses --curves to a file that is not a .png, since the curves are a PNG image', () => {
    expect(() => fitCallbackOptions({ validation: 0, curves: 'curves.jpg' })).toThrow(/^--curves writes a PNG image: give a file ending in \.png, got 'curves\.jpg'$/);
    expect(() => fitCallbackOptions({ validation: 0, curves: 'out/Curves.PNG' })).not.toThrow();
  });
});
