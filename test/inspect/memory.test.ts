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
