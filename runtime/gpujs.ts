// What modules emitted for the GPU.js backend import: a GPU opened on a backend that is checked,
// kernels built once from sources written at compile time, and tensors moved on and off it.
//
// Tensors between kernels stay where the backend computes: WebGL textures (kernels run with
// `pipeline: true`), plain typed arrays on the cpu and webasm backends. Every kernel runs with
// `immutable: true`, so a result survives the kernel's next call; the emitted code releases each
// result after its last reader (`release`), which hands the texture back to its kernel for reuse.
import { GPU, HeadlessGLKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js';
import type { IKernelRunShortcut, Texture } from 'gpu.js';

/** The GPU.js backends Kiln reports. `webgpu` is left out: its kernels are asynchronous only. */
export type GpuMode = 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu';
export const GPU_MODES: readonly GpuMode[] = ['webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu'];

export interface GpuOptions {
  /** A GPU.js instance to share (its backend is checked like any other). */
  gpu?: GPU;
  /** The backend to demand: opening fails unless GPU.js really runs this one. Default: GPU.js's choice. */
  mode?: GpuMode;
  /** The largest batch a call may have (bounds the GPU loops that reduce over the batch). */
  maxBatch?: number;
  /** Kernels exported by `GpuDevice.exportKernels` on a WebGL backend, used at their batch size. */
  precompiled?: PrecompiledKernels;
}

/**
 * Kernels GPU.js exported with `toString` after running them at one batch size. Shaders are
 * included, so no JavaScript → GLSL translation happens at run time. GPU.js exports a kernel with
 * its output size fixed, so other batch sizes use the kernels built from source. These strings are
 * code: load them only from a build you made (`kiln precompile`), like the module itself.
 */
export interface PrecompiledKernels {
  /** The model they were exported from (emitted modules check it). */
  readonly graphHash: string;
  readonly backend: GpuMode;
  readonly batch: number;
  /** Kernel name → what GPU.js's `toString` wrote (a function of `{ context, canvas }`). */
  readonly kernels: Readonly<Record<string, string>>;
}

/** A tensor on the device: a texture on WebGL, a typed array on the cpu and webasm backends. */
export type DeviceTensor = Texture | Float32Array;

/** A built kernel: its output holds `perSample` elements per batch entry, or `perSample` in all. */
export type DeviceKernel = (batch: number, ...args: (DeviceTensor | number)[]) => DeviceTensor;

export class GpuError extends Error {
  override name = 'GpuError';
}

const DEFAULT_MAX_BATCH = 65536;

/** The backend a built kernel runs on. GL kernels all call themselves 'gpu': tell them apart by class. */
function modeOf(shortcut: IKernelRunShortcut): string {
  const kernel = (shortcut as unknown as { kernel: object }).kernel;
  if (kernel instanceof HeadlessGLKernel) return 'headlessgl';
  if (kernel instanceof WebGL2Kernel) return 'webgl2';
  if (kernel instanceof WebGLKernel) return 'webgl';
  return (kernel.constructor as unknown as { mode: string }).mode;
}

export class GpuDevice {
  readonly gpu: GPU;
  readonly maxBatch: number;
  /** The backend every kernel so far ran on (checked after each kernel's first call). */
  readonly backend: GpuMode;
  private readonly uploader: IKernelRunShortcut;
  private readonly kernels: IKernelRunShortcut[] = [];
  private readonly precompiled?: PrecompiledKernels;
  private readonly ownsGpu: boolean;
  /** While `exportKernels` runs: each kernel's `toString` at its first call. */
  private exported: Record<string, string> | null = null;

  constructor(options: GpuOptions = {}) {
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (options.mode !== undefined && !GPU_MODES.includes(options.mode)) {
      throw new GpuError(`unknown GPU.js backend '${String(options.mode)}' (one of ${GPU_MODES.join(', ')})`);
    }
    this.ownsGpu = !options.gpu;
    try {
      this.gpu = options.gpu ?? new GPU(options.mode ? { mode: options.mode } : {});
    } catch (e) {
      throw new GpuError(`GPU.js cannot open backend '${options.mode}' here: ${(e as Error).message}`);
    }
    this.uploader = this.gpu.createKernel('function (a) { return a[this.thread.x]; }', this.settings([1], []));
    // A first upload builds the uploader, which tells which backend GPU.js really picked.
    this.upload(new Float32Array([0]));
    this.backend = modeOf(this.uploader) as GpuMode;
    if (options.mode && this.backend !== options.mode) {
      throw new GpuError(`GPU.js backend '${options.mode}' was demanded but '${this.backend}' runs (GPU.js fell back)`);
    }
    if (options.precompiled && options.precompiled.backend !== this.backend) {
      throw new GpuError(`these kernels were precompiled for '${options.precompiled.backend}', but '${this.backend}' runs`);
    }
    this.precompiled = options.precompiled;
  }

  /**
   * Runs `work` (model calls at one batch size) and returns every kernel it called, exported by
   * GPU.js with its shaders. WebGL backends only.
   */
  exportKernels(graphHash: string, work: () => void): PrecompiledKernels {
    if (!this.backend.startsWith('webgl')) throw new GpuError(`GPU.js exports kernels on WebGL only, not '${this.backend}'`);
    this.exported = {};
    let batch = 0;
    try {
      this.exportBatch = (b) => {
        if (batch && b !== batch) throw new GpuError(`exportKernels: every call must have one batch size (${batch}, then ${b})`);
        batch = b;
      };
      work();
      return { graphHash, backend: this.backend, batch, kernels: this.exported };
    } finally {
      this.exported = null;
      this.exportBatch = () => {};
    }
  }

  private exportBatch: (batch: number) => void = () => {};

  /** A precompiled kernel, made on this device's context. */
  private instantiate(source: string): (...args: unknown[]) => DeviceTensor {
    const factory = new Function(`return ${source}`)() as (s: object) => (...args: unknown[]) => DeviceTensor;
    return factory({ context: (this.gpu as unknown as { context: unknown }).context, canvas: (this.gpu as unknown as { canvas: unknown }).canvas });
  }

  private settings(output: number[], functions: string[]) {
    return {
      output,
      pipeline: true,
      immutable: true,
      dynamicOutput: true,
      dynamicArguments: true,
      loopMaxIterations: this.maxBatch,
      precision: 'single' as const,
      tactic: 'precision' as const,
      functions: functions as unknown as [],
    };
  }

  /** Builds kernel `name`; `helpers` are the sources of the functions it calls. */
  kernel(name: string, source: string, helpers: readonly string[], perSample: number, batched: boolean): DeviceKernel {
    const k = this.gpu.createKernel(source, this.settings([Math.max(1, perSample)], [...helpers]));
    this.kernels.push(k);
    let elements = perSample;
    let ran = false;
    const pre = this.precompiled?.kernels[name];
    let fixed: ((...args: unknown[]) => DeviceTensor) | undefined;
    return (batch, ...args) => {
      if (batch > this.maxBatch) throw new GpuError(`batch ${batch} is above this model's maxBatch (${this.maxBatch}); create it with a larger { maxBatch }`);
      if (pre && batch === this.precompiled!.batch) {
        fixed ??= this.instantiate(pre);
        return fixed(...args, batch);
      }
      const want = batched ? perSample * batch : perSample;
      if (want !== elements) {
        k.setOutput([want]);
        elements = want;
      }
      const out = k(...args, batch) as DeviceTensor;
      if (this.exported && !(name in this.exported)) {
        this.exportBatch(batch);
        this.exported[name] = k.toString(...args, batch);
      }
      if (!ran) {
        ran = true;
        this.check(k);
      }
      return out;
    };
  }

  /** GPU.js may move one kernel to another backend (webasm degrades to cpu): that is an error. */
  private check(k: IKernelRunShortcut) {
    const mode = modeOf(k);
    if (mode !== this.backend) throw new GpuError(`a kernel fell back from GPU.js backend '${this.backend}' to '${mode}'`);
  }

  /** A copy of `data` on the device, as float32. */
  upload(data: ArrayLike<number>): DeviceTensor {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    this.uploader.setOutput([Math.max(1, values.length)]);
    return this.uploader(values.length ? values : new Float32Array(1)) as DeviceTensor;
  }

  /** The first `length` values of a device tensor, converted to the model's dtype. */
  read(t: DeviceTensor, length: number, dtype: 'float32' | 'float64' | 'int32' = 'float32'): Float32Array | Float64Array | Int32Array {
    const values = (t instanceof Float32Array ? t : (t.toArray() as Float32Array)).subarray(0, length);
    if (dtype === 'int32') return Int32Array.from(values, Math.round);
    if (dtype === 'float64') return Float64Array.from(values);
    return values.slice();
  }

  /** Hands a device tensor back (a texture returns to its kernel's pool; arrays need nothing). */
  release(t: DeviceTensor | undefined): void {
    if (t && !(t instanceof Float32Array) && typeof t.delete === 'function') t.delete();
  }

  /** Frees every kernel and texture of this device, and the GPU instance unless it was given. */
  destroy(): void {
    for (const k of this.kernels) k.destroy();
    this.uploader.destroy();
    if (this.ownsGpu) void this.gpu.destroy();
  }
}

/** Float32 view of an input the GPU reads (labels and indices are exact below 2^24). */
export function asFloat32(data: Float32Array | Float64Array | Int32Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}
