// The optimizer, clipping and schedule flags as a user runs them: `kiln compile --train` and
// `kiln train` as processes, their modules and history files read back.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshOutDir, kiln, showRun } from '../e2e/helpers.ts';

const compileTrain = async (out: string, ...flags: string[]) => {
  const r = await kiln('compile', 'examples/mlp.ts', '--train', '--out', out, ...flags);
  expect(r.status, showRun(r)).toBe(0);
  return readFileSync(path.join(out, 'mlp.mjs'), 'utf8');
};

describe('optimizer flags from the command line', () => {
  const dir = freshOutDir('optimizer-cli');

  it('--optimizer adamw is not adam: its default weight decay 0.01 reaches the module, and --weight-decay 0.01 says the same', async () => {
    const [adam, adamw, explicit, other] = await Promise.all([
      compileTrain(path.join(dir, 'adam'), '--optimizer', 'adam'),
      compileTrain(path.join(dir, 'adamw'), '--optimizer', 'adamw'),
      compileTrain(path.join(dir, 'adamw-explicit'), '--optimizer', 'adamw', '--weight-decay', '0.01'),
      compileTrain(path.join(dir, 'adamw-other'), '--optimizer', 'adamw', '--weight-decay', '0.2'),
    ]);
    expect(adamw).not.toBe(adam);
    expect(explicit).toBe(adamw);
    expect(other).not.toBe(adamw);
  }, 60_000);

  it('--amsgrad adds the running maximum of v to the saved optimizer state', async () => {
    const src = await compileTrain(path.join(dir, 'amsgrad'), '--optimizer', 'adam', '--amsgrad', '--clip-norm', '1', '--clip-value', '0.5');
    const state = src.slice(src.indexOf('export const stateParameters'), src.indexOf('export const labelInfo'));
    expect(state).toMatch(/\/v_max"/);
    expect(state).toMatch(/\/m"/);
  }, 60_000);

  for (const [label, flags, message] of [
    ['a setting of another optimizer', ['--optimizer', 'sgd', '--beta1', '0.9'], 'error: --beta1 does not apply to sgd (it takes --lr, --momentum, --dampening, --nesterov, --weight-decay, --clip-norm, --clip-value)'],
    ['--centered on adam', ['--optimizer', 'adam', '--centered'], 'error: --centered does not apply to adam'],
    ['--nesterov without --momentum', ['--optimizer', 'sgd', '--nesterov'], 'error: sgd: --nesterov needs a --momentum > 0 and zero --dampening'],
    ['--beta2 1', ['--optimizer', 'adamw', '--beta2', '1'], 'error: adamw: --beta2 must be a number in [0, 1), got 1'],
    ['--clip-norm 0', ['--clip-norm', '0'], 'error: adam: --clip-norm must be a finite number > 0, got 0'],
  ] as const) {
    it(`${label}: exit 1 and one line naming the flag`, async () => {
      const r = await kiln('compile', 'examples/mlp.ts', '--train', '--out', path.join(dir, 'bad'), ...flags);
      expect(r.status, showRun(r)).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(message);
    }, 30_000);
  }
});

describe('schedule flags of kiln train', () => {
  const dir = freshOutDir('schedule-cli');

  it('--schedule step --step-size 1 --gamma 0.5 halves the rate each epoch (the history records each epoch’s last rate)', async () => {
    const history = path.join(dir, 'history.json');
    const r = await kiln('train', 'examples/mlp.ts', '--limit', '128', '--epochs', '3', '--batch-size', '64', '--optimizer', 'sgd', '--lr', '0.1', '--momentum', '0.9', '--nesterov', '--clip-value', '1', '--schedule', 'step', '--step-size', '1', '--gamma', '0.5', '--history', history, '--out', path.join(dir, 'build'), '--png', path.join(dir, 'p.png'));
    expect(r.status, showRun(r)).toBe(0);
    const epochs = (JSON.parse(readFileSync(history, 'utf8')) as { epochs: { lr: number }[] }).epochs;
    expect(epochs.map((e) => e.lr)).toBeAllclose([0.1, 0.05, 0.025], { rtol: 1e-12 });
  }, 120_000);

  it('--warmup 4 with --schedule cosine: 2 batches per epoch, so epoch 0 ends at step 1 of the warm-up and epoch 1 at step 3', async () => {
    const history = path.join(dir, 'history-warmup.json');
    const r = await kiln('train', 'examples/mlp.ts', '--limit', '128', '--epochs', '2', '--batch-size', '64', '--optimizer', 'adamw', '--lr', '0.01', '--schedule', 'cosine', '--warmup', '4', '--warmup-start', '0.2', '--history', history, '--out', path.join(dir, 'build2'), '--png', path.join(dir, 'p2.png'));
    expect(r.status, showRun(r)).toBe(0);
    const epochs = (JSON.parse(readFileSync(history, 'utf8')) as { epochs: { lr: number }[] }).epochs;
    // LinearLR: 0.01·(0.2 + 0.8·t/4) at t = 1 and t = 3
    expect(epochs.map((e) => e.lr)).toBeAllclose([0.01 * (0.2 + 0.8 / 4), 0.01 * (0.2 + (0.8 * 3) / 4)], { rtol: 1e-12 });
  }, 120_000);

  for (const [label, flags, message] of [
    ['--step-size with cosine', ['--schedule', 'cosine', '--step-size', '2'], 'error: --step-size applies to --schedule step, not --schedule cosine'],
    ['step without --step-size', ['--schedule', 'step'], 'error: --schedule step needs --step-size <epochs>'],
    ['an unknown schedule', ['--schedule', 'onecycle'], "error: unknown schedule 'onecycle' (none, step, exponential, cosine)"],
    ['--warmup-start alone', ['--warmup-start', '0.1'], 'error: --warmup-start applies only with --warmup <steps>'],
    ['a setting of another optimizer', ['--optimizer', 'rmsprop', '--amsgrad'], 'error: --amsgrad does not apply to rmsprop'],
  ] as const) {
    it(`${label}: exit 1 and one line`, async () => {
      const r = await kiln('train', 'examples/mlp.ts', '--limit', '64', '--out', path.join(dir, 'bad'), ...flags);
      expect(r.status, showRun(r)).toBe(1);
      expect(r.stderr).toContain(message);
    }, 30_000);
  }
});
