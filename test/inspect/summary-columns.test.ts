// Tests for kiln summary's columns from issue 17: "Connected to" for a functional (residual) model,
// channels-last shapes as NHWC, activation memory at --batch, --optimizer for --train, JSON agreeing
// with kiln inspect's.
import { describe, expect, it } from 'vitest';
import { formatSummary, isFunctional, summarize } from '../../compiler/inspect/summary.ts';
import { summaryCommand } from '../../cli/commands.ts';
import { loadModel } from '../../cli/load.ts';
import { kiln, showRun } from '../e2e/helpers.ts';
import { loadExample } from '../ir/fixtures.ts';

const RESIDUAL = 'test/inspect/fixtures/residual.ts';

describe('summary: connected to', () => {
  it('shows the residual branch: skip reads stem and body, stem feeds two layers', async () => {
    const s = summarize((await loadModel(RESIDUAL)).graph);
    expect(Object.fromEntries(s.layers.map((l) => [l.name, l.connectedTo]))).toEqual({ x: [], stem: ['x'], body: ['stem'], skip: ['stem', 'body'], head: ['skip'] });
    expect(isFunctional(s)).toBe(true);
    const text = formatSummary(s);
    expect(text.split('\n')[2]).toMatch(/│ Connected to +│$/);
    expect(text).toMatch(/│ skip \(Add\) .*│ stem, body +│/);
  });

  it('leaves the column out of a plain chain', async () => {
    const s = summarize(await loadExample('mlp'));
    expect(isFunctional(s)).toBe(false);
    expect(formatSummary(s)).not.toContain('Connected to');
  });
});

describe('summary: activation memory and layout', () => {
  it('gives each layer\'s output bytes at the batch asked for (hand-computed)', async () => {
    const s = summarize((await loadModel(RESIDUAL)).graph);
    // stem's output f32[N,16]: 64 bytes a sample; at batch 10, 640 B; head's f32[N,4] at 10: 160 B.
    expect(s.layers.find((l) => l.name === 'stem')!.activationBytes).toBe(64);
    const text = formatSummary(s, 10);
    expect(text).toContain('Activations @10');
    expect(text).toMatch(/│ stem \(Dense\) .*│ +640 B │/);
    expect(text).toMatch(/│ head \(Dense\) .*│ +160 B │/);
  });

  it('shows a channels-last model in NHWC and says so', async () => {
    const text = formatSummary(summarize(await loadExample('cnn')));
    expect(text).toMatch(/│ conv2d_\d+ \(Conv2D\) +│ \[N, 26, 26, 32\] /);
    // 26·26·32 floats = 86,528 bytes a sample; at 64, 5,537,792 B = 5.3 MiB.
    expect(text).toMatch(/│ conv2d_\d+ \(Conv2D\) .*│ +5.3 MiB │/);
    expect(text).toContain('Shapes are channels-last (NHWC), as the input was declared.');
  });
});

describe('summary: --train --optimizer', () => {
  it('plans the optimizer given: SGD keeps no state, Adam two tensors per parameter', async () => {
    const sgd = JSON.parse(await summaryCommand(RESIDUAL, true, true, { optimizer: 'sgd' }));
    const adam = JSON.parse(await summaryCommand(RESIDUAL, true, true, { optimizer: 'adam' }));
    expect(sgd.optimizer).toBe('sgd');
    // Parameters: 484 floats (1,936 B); Adam adds m and v: three times that.
    expect(sgd.training.parameterBytes).toBe(484 * 4);
    expect(adam.training.parameterBytes).toBe(3 * 484 * 4);
    expect(await summaryCommand(RESIDUAL, false, true, { optimizer: 'sgd' })).toContain('Training step (sgd,');
  });

  it('refuses a batch that is not a positive integer', async () => {
    await expect(summaryCommand(RESIDUAL, false, false, { batch: 0 })).rejects.toThrow(/--batch must be a positive integer, got 0/);
  });
});

describe('summary --json agrees with inspect --format json', () => {
  it('same layers and totals, as processes', async () => {
    for (const file of ['examples/cnn.ts', RESIDUAL]) {
      const [s, i] = await Promise.all([kiln('summary', file, '--json'), kiln('inspect', file, '--format', 'json')]);
      expect(s.status, showRun(s)).toBe(0);
      expect(i.status, showRun(i)).toBe(0);
      const [summary, doc] = [JSON.parse(s.stdout), JSON.parse(i.stdout)];
      expect(summary.layers).toEqual(doc.layers);
      expect(summary.totals).toEqual(doc.totals);
      expect(summary.layout).toBe(doc.layout);
    }
  });
});
