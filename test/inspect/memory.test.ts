// Memory plan report: parameter bytes from the parameter count, buffers no larger than unplanned.
import { describe, expect, it } from 'vitest';
import { memoryPlan, formatMemory } from '../../compiler/inspect/memory.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { loadExample } from '../ir/fixtures.ts';

describe('memoryPlan', () => {
  it('cnn: 693,962 float32 parameters; reused buffers hold at least the largest activation', async () => {
    const graph = await loadExample('cnn');
    const m = memoryPlan(compileGraph(graph).program);
    expect(m.parameterBytes).toBe(693_962 * 4);
    // The conv output [32, 26, 26] is the largest per-sample activation: 21,632 floats.
    expect(m.bufferBytesPerSample).toBeGreaterThanOrEqual(21_632 * 4);
    expect(m.bufferBytesPerSample).toBeLessThanOrEqual(m.unplannedBytesPerSample);
    expect(m.buffers).toBeLessThan(m.kernels);
    const lines = formatMemory(m, 64);
    const peak = (693_962 * 4 + m.fixedBufferBytes + m.bufferBytesPerSample * 64) / 1024;
    expect(lines.join('\n')).toContain(`Planned peak at batch 64: ${peak.toLocaleString('en-US', { maximumFractionDigits: 1 })} KiB`);
  });
});

describe('the training step plan against the least memory any plan needs', () => {
  it('cnn, Adam, batch 64: parameters + Adam state exact; plan never below the live bound, and within 1.5× of it', async () => {
    const { buildTrainingGraph } = await import('../../compiler/train/step.ts');
    const graph = await loadExample('cnn');
    const t = buildTrainingGraph(graph, { loss: { kind: 'sparseCategoricalCrossEntropy', fromLogits: false }, optimizer: { kind: 'adam', lr: 1e-3 } });
    const m = memoryPlan(compileGraph(t.graph, 't').program);
    // Weights, Adam's two moments per weight, and the step count state (if any) as float32.
    expect(m.parameterBytes).toBeGreaterThanOrEqual(3 * 693_962 * 4);
    expect(m.parameterBytes).toBeLessThan(3 * 693_962 * 4 + 64);
    const at = (perSample: number, fixed: number) => m.parameterBytes + fixed + perSample * 64;
    const planned = at(m.bufferBytesPerSample, m.fixedBufferBytes);
    const least = at(m.liveBound.bytesPerSample, m.liveBound.fixedBytes);
    // The conv activation [32, 26, 26] must be kept for the filter gradient: at least that is live.
    expect(m.liveBound.bytesPerSample).toBeGreaterThanOrEqual(21_632 * 4);
    expect(planned).toBeGreaterThanOrEqual(least);
    expect(planned / least).toBeLessThanOrEqual(1.5);
  });
});

describe('memory over time with a loop (lstm-adding: LSTM(32) over 50 steps, Dense(1))', () => {
  it("the body's kernels run where the loop does, and while they run the loop's inputs and output are alive", async () => {
    const { loadExampleGraph } = await import('../e2e/helpers.ts');
    const { liveBytes } = await import('../../compiler/inspect/memory.ts');
    const { program } = compileGraph(await loadExampleGraph('lstm-adding'));
    const loop = program.schedule.find((s) => s.kind === 'loop');
    if (loop?.kind !== 'loop') throw new Error('expected a loop');
    const body = loop.loop.body.flatMap((s) => (s.kind === 'kernel' ? [s.kernel.name] : []));
    const before = program.schedule.slice(0, program.schedule.indexOf(loop)).flatMap((s) => (s.kind === 'kernel' ? [s.kernel.name] : []));
    const after = program.schedule.slice(program.schedule.indexOf(loop) + 1).flatMap((s) => (s.kind === 'kernel' ? [s.kernel.name] : []));
    const live = liveBytes(program);
    expect(live.map((l) => l.kernel)).toEqual([...before, ...body, ...after]);
    // Per sample, floats: the carry [64] (the scan's output: only its final step is read, so
    // nothing is stacked) and the time slice of the input [2] (the input projection is sunk into
    // the step); and [W; U] [34, 128], fixed: all alive through every step.
    const held = (64 + 2) * 4;
    for (const l of live.filter((x) => body.includes(x.kernel))) {
      expect(l.bytesPerSample, l.kernel).toBeGreaterThanOrEqual(held);
      expect(l.fixedBytes, l.kernel).toBeGreaterThanOrEqual(34 * 128 * 4);
    }
    // After the loop, its inputs are dead: the last kernel (the Dense) holds less than the loop did.
    expect(live[live.length - 1].bytesPerSample).toBeLessThan(held);
  });
});
