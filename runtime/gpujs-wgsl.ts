// WebGPU pieces of the GPU.js runtime: the error class, and the seam through which a kernel runs
// as hand-written WGSL instead of its GPU.js source (results stay GPU.js buffer handles, so the
// kernels around it read them as they read any other).
import * as gpujs from 'gpu.js';

export class GpuError extends Error {
  override name = 'GpuError';
}

/** A WebGPU buffer (a `GPUBuffer`; typed loosely so the runtime needs no WebGPU typings). */
export interface WgslBuffer {
  readonly size: number;
  destroy(): void;
}

/** The WebGPU device (a `GPUDevice`), typed loosely for the same reason. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type WgslDevice = { createBuffer(descriptor: { size: number; usage: number }): WgslBuffer; readonly queue: any } & Record<string, any>;

/**
 * A kernel written directly in WGSL. It gets the device, the call's batch size, the storage
 * buffers of the kernel's array arguments in the order of its GPU.js source (float32 each), and a
 * zeroed output buffer of the kernel's flat output (float32, `perSample` or `perSample * batch`
 * values); it submits its work to `device.queue` (queue order keeps it between the kernels before
 * and after it) and may resolve before that work has finished.
 */
export type WgslOverride = (device: WgslDevice, batch: number, inputs: readonly WgslBuffer[], output: WgslBuffer) => void | Promise<void>;

/** Overrides by kernel name (`k3`, `tk12`, …): kernels not named run their GPU.js source. */
export type WgslOverrides = Readonly<Record<string, WgslOverride | undefined>>;

/**
 * Whether the WebGPU adapter behind `device` computes on the CPU (SwiftShader, llvmpipe and
 * lavapipe, WARP, or any the browser calls a fallback adapter). Read from `device.adapterInfo`;
 * a browser without it is taken to have a GPU, the common case.
 */
export function softwareAdapter(device: WgslDevice): boolean {
  const info = device.adapterInfo as Record<string, unknown> | undefined;
  if (!info) return false;
  if (info.isFallbackAdapter === true) return true;
  const words = ['vendor', 'architecture', 'device', 'description'].map((key) => String(info[key] ?? '')).join(' ');
  return /swiftshader|llvmpipe|lavapipe|\bwarp\b|software/i.test(words);
}

/**
 * One kernel's two WGSL shaders, chosen per device at each call: `software` where the adapter
 * runs on the CPU, `hardware` on a GPU. Kiln emits registers-only tiles for the first and
 * workgroup-memory tiles for the second: on an NVIDIA H200 the tiles ran a CNN's inference 1.9×
 * as fast, on SwiftShader 5–8× slower (docs/gpujs.md, "WGSL kernels").
 */
export function byAdapter(software: WgslOverride, hardware: WgslOverride): WgslOverride {
  const chosen = new WeakMap<WgslDevice, WgslOverride>();
  return (device, batch, inputs, output) => {
    let run = chosen.get(device);
    if (!run) chosen.set(device, (run = softwareAdapter(device) ? software : hardware));
    return run(device, batch, inputs, output);
  };
}

// GPUBufferUsage's values, fixed by the WebGPU spec (the global exists only where WebGPU does).
const STORAGE = 0x0080;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;

/** GPU.js's pipeline handle for a WebGPU buffer (exported by GPU.js, missing from its typings). */
interface BufferResult {
  readonly buffer: WgslBuffer;
}
type BufferResultClass = new (settings: { buffer: WgslBuffer; output: number[]; context: unknown; kernel: unknown }) => BufferResult;

export function bufferResultClass(): BufferResultClass {
  const c = (gpujs as unknown as { WebGPUBufferResult?: BufferResultClass }).WebGPUBufferResult;
  if (!c) throw new GpuError('this GPU.js build has no WebGPU backend (WebGPUBufferResult is missing): GPU.js 2.24 or later is needed');
  return c;
}

/** Where override results live: the GPU.js kernel whose context and readback they share. */
export interface OverrideHost {
  readonly device: WgslDevice;
  readonly context: unknown;
  readonly reader: unknown;
}

/** Runs `override` on the buffers of `args` into a fresh output of `elements` floats; resolves to its handle. */
export async function runOverride(host: OverrideHost, name: string, override: WgslOverride, batch: number, args: readonly unknown[], elements: number): Promise<unknown> {
  const inputs = args.map((a, i) => {
    const buffer = (a as Partial<BufferResult> | null)?.buffer;
    if (!buffer) throw new GpuError(`WGSL kernel ${name}: argument ${i} is not a WebGPU buffer (every argument of an overridden kernel must live on the device)`);
    return buffer;
  });
  const output = host.device.createBuffer({ size: Math.max(4, elements * 4), usage: STORAGE | COPY_SRC | COPY_DST });
  try {
    await override(host.device, batch, inputs, output);
  } catch (e) {
    output.destroy();
    throw e;
  }
  return new (bufferResultClass())({ buffer: output, output: [elements], context: host.context, kernel: host.reader });
}
