// The runtime's choice between a kernel's two WGSL shaders (runtime/gpujs-wgsl.ts): registers only
// where the WebGPU adapter computes on the CPU, workgroup tiles on a GPU. Fake devices carry only
// what the choice reads (`adapterInfo`, as Chromium reports it); the shaders themselves are tested
// in the browser (test/browser/wgsl.test.ts).
import { describe, expect, it } from 'vitest';
import { byAdapter, softwareAdapter, type WgslDevice, type WgslOverride } from '../../runtime/gpujs.ts';

const device = (adapterInfo?: Record<string, unknown>): WgslDevice => ({ createBuffer: () => ({ size: 0, destroy() {} }), queue: {}, ...(adapterInfo ? { adapterInfo } : {}) });

describe('softwareAdapter', () => {
  it('names the CPU adapters Chromium and Firefox report', () => {
    expect(softwareAdapter(device({ vendor: 'google', architecture: 'swiftshader', device: '', description: '' }))).toBe(true);
    expect(softwareAdapter(device({ vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toBe(true);
    expect(softwareAdapter(device({ vendor: 'mesa', architecture: '', description: 'lavapipe' }))).toBe(true);
    expect(softwareAdapter(device({ vendor: 'microsoft', architecture: '', description: 'Microsoft Basic Render Driver (WARP)' }))).toBe(true);
    expect(softwareAdapter(device({ vendor: 'unknown', isFallbackAdapter: true }))).toBe(true);
  });

  it('takes GPUs, and a browser that does not say, as hardware', () => {
    // The H200 run's adapter (bench/results-browser-gpu.md) and the usual desktop ones.
    expect(softwareAdapter(device({ vendor: 'nvidia', architecture: 'hopper', device: '', description: '' }))).toBe(false);
    expect(softwareAdapter(device({ vendor: 'apple', architecture: 'metal-3' }))).toBe(false);
    expect(softwareAdapter(device({ vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) Iris(R) Xe Graphics' }))).toBe(false);
    expect(softwareAdapter(device())).toBe(false);
  });
});

describe('byAdapter', () => {
  it('runs the software shader on a CPU adapter and the hardware one on a GPU, deciding once per device', () => {
    const calls: string[] = [];
    const shader = (tag: string): WgslOverride => (_d, batch) => void calls.push(`${tag}@${batch}`);
    const run = byAdapter(shader('registers'), shader('tiles'));
    const cpu = device({ vendor: 'google', architecture: 'swiftshader' });
    const gpu = device({ vendor: 'nvidia', architecture: 'hopper' });
    run(cpu, 1, [], { size: 4, destroy() {} });
    run(gpu, 2, [], { size: 4, destroy() {} });
    // The choice is kept per device: changing what a device reports later does not flip it.
    (cpu as Record<string, unknown>).adapterInfo = { vendor: 'nvidia' };
    run(cpu, 3, [], { size: 4, destroy() {} });
    expect(calls).toEqual(['registers@1', 'tiles@2', 'registers@3']);
  });
});
