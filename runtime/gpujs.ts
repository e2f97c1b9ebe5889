// What modules emitted for the GPU.js backend import: a GPU opened on a backend that is checked,
// kernels built once from sources written at compile time, and tensors moved on and off it.
//
// Tensors between kernels stay where the backend computes: WebGL textures (kernels run with
// `pipeline: true`), plain typed arrays on the cpu and webasm backends. Every kernel runs with
// `immutable: true`, so a result survives the kernel's next call; the emitted code releases each
// result after its last reader (`release`), which hands the texture back to its kernel for reuse.
//
// On WebGPU (`mode: 'webgpu'`, or `'async'` where the browser offers an adapter) kernels are
// compute shaders over storage buffers and every call is asynchronous: the device opens in
// `ready()`, and the emitted module's `predictAsync`/`stepAsync` call `kernel.async`, `uploadAsync`
// and `readAsync`. The synchronous methods refuse such a device with a one-line error.
import { GPU, HeadlessGLKernel, WebGL2Kernel, WebGLKernel } from 'gpu.js';
import type { IKernelRunShortcut, Texture } from 'gpu.js';
import { byAdapter, GpuError, runOverride, softwareAdapter, type WgslBuffer, type WgslDevice, type WgslOverride, type WgslOverrides } from './gpujs-wgsl.ts';

export { byAdapter, GpuError, softwareAdapter, type WgslBuffer, type WgslDevice, type WgslOverride, type WgslOverrides };

/** The GPU.js backends Kiln reports. `webgpu` kernels are asynchronous only (`predictAsync`). */
export type GpuMode = 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu' | 'webgpu';
export const GPU_MODES: readonly GpuMode[] = ['webgl2', 'webgl', 'headlessgl', 'webasm', 'cpu', 'webgpu'];
/** What `{ mode }` accepts: a backend, or `'async'`: WebGPU where an adapter answers, else GPU.js's best synchronous backend. */
export type GpuModeRequest = GpuMode | 'async';

export interface GpuOptions {
  /** A GPU.js instance to share (its backend is checked like any other). */
  gpu?: GPU;
  /** The backend to demand: opening fails unless GPU.js really runs this one. Default: GPU.js's choice. */
  mode?: GpuModeRequest;
  /**
   * Kernels that run as hand-written WGSL on WebGPU instead of their GPU.js source, by kernel name;
   * they replace the module's own (`wgslKernels`). `false` runs every kernel as GPU.js (to compare).
   */
  wgsl?: WgslOverrides | false;
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

/** A tensor on the device: a texture on WebGL, a storage buffer's handle on WebGPU, a typed array on the cpu and webasm backends. */
export type DeviceTensor = Texture | Float32Array;

/**
 * A built kernel: its output holds `perSample` elements per batch entry, or `perSample` in all.
 * Called directly on a synchronous backend; `async` works on every backend (WebGPU's only way).
 */
export interface DeviceKernel {
  (batch: number, ...args: (DeviceTensor | number)[]): DeviceTensor;
  async(batch: number, ...args: (DeviceTensor | number)[]): DeviceTensor | Promise<DeviceTensor>;
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

/** Modes whose kernels only run asynchronously, or whose backend is only known after a probe. */
const LAZY_MODES: readonly GpuModeRequest[] = ['webgpu', 'async'];

/** The error of a synchronous call on a device whose kernels run asynchronously. */
const asyncOnly = (backend: string, what: string) =>
  new GpuError(`${what}: this device runs GPU.js backend '${backend}', whose kernels are asynchronous; use predictAsync, runAsync, stepAsync or fitAsync (after await ready())`);

export class GpuDevice {
  /** The GPU.js instance; on a `'webgpu'`/`'async'` device it exists once `ready()` has resolved. */
  gpu!: GPU;
  readonly maxBatch: number;
  /** The backend every kernel so far ran on (checked after each kernel's first call); on a `'async'` device, known after `ready()`. */
  backend: GpuMode;
  /** Whether kernels are asynchronous (WebGPU): only the `*Async` methods run them. */
  asynchronous: boolean;
  private uploader!: IKernelRunShortcut;
  private readonly kernels: IKernelRunShortcut[] = [];
  private readonly precompiled?: PrecompiledKernels;
  private readonly ownsGpu: boolean;
  private readonly options: GpuOptions;
  /** Set while a `'webgpu'`/`'async'` device has not opened yet; `ready()` opens it once. */
  private opening: Promise<GpuMode> | null = null;
  private opened: boolean;
  /** Host arrays `upload` returned before the device opened: `settle` moves them onto it. */
  private readonly pending = new WeakSet<Float32Array>();
  /** Builders of kernels asked for before the device opened, run when it opens. */
  private readonly builders: (() => void)[] = [];
  /** How many times each kernel ran as WGSL (by name): shows which kernels took that path, and that they did. */
  readonly wgslCalls = new Map<string, number>();
  /** While `exportKernels` runs: each kernel's `toString` at its first call. */
  private exported: Record<string, string> | null = null;

  constructor(options: GpuOptions = {}) {
    this.options = options;
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    if (options.mode !== undefined && !GPU_MODES.includes(options.mode as GpuMode) && options.mode !== 'async') {
      throw new GpuError(`unknown GPU.js backend '${String(options.mode)}' (one of ${GPU_MODES.join(', ')}, or 'async')`);
    }
    this.ownsGpu = !options.gpu;
    this.precompiled = options.precompiled;
    this.opened = !(options.mode && LAZY_MODES.includes(options.mode));
    // Until ready() says otherwise: what was asked for.
    this.backend = options.mode === 'async' ? 'webgpu' : ((options.mode as GpuMode | undefined) ?? 'cpu');
    this.asynchronous = !this.opened;
    if (this.opened) this.backend = this.openSync(options.mode as GpuMode | undefined);
  }

  /** A synchronous backend: GPU.js's choice (or `mode`), checked by a first upload. */
  private openSync(mode: GpuMode | undefined): GpuMode {
    try {
      this.gpu = this.options.gpu ?? new GPU(mode ? { mode } : {});
    } catch (e) {
      throw new GpuError(`GPU.js cannot open backend '${mode}' here: ${(e as Error).message}`);
    }
    this.uploader = this.gpu.createKernel('function (a) { return a[this.thread.x]; }', this.settings([1], []));
    // A first upload builds the uploader, which tells which backend GPU.js really picked.
    this.upload(new Float32Array([0]));
    const backend = modeOf(this.uploader) as GpuMode;
    if (backend === 'webgpu') throw asyncOnly(backend, 'GpuDevice');
    if (mode && backend !== mode) throw new GpuError(`GPU.js backend '${mode}' was demanded but '${backend}' runs (GPU.js fell back)`);
    if (this.options.precompiled && this.options.precompiled.backend !== backend) {
      throw new GpuError(`these kernels were precompiled for '${this.options.precompiled.backend}', but '${backend}' runs`);
    }
    return backend;
  }

  /**
   * Opens the device and resolves to the backend that runs. `'webgpu'` demands WebGPU (an error
   * when the browser has no adapter); `'async'` takes WebGPU where an adapter answers and GPU.js's
   * best synchronous backend otherwise. Resolves at once on a device opened synchronously.
   */
  ready(): Promise<GpuMode> {
    if (this.opened) return Promise.resolve(this.backend);
    return (this.opening ??= this.openAsync());
  }

  private async openAsync(): Promise<GpuMode> {
    const webgpu = this.options.mode === 'webgpu' || (await GPU.isWebGPUAvailable());
    if (!webgpu) {
      this.backend = this.openSync(undefined);
      this.asynchronous = false;
    } else {
      if (this.options.precompiled) throw new GpuError(`these kernels were precompiled for '${this.options.precompiled.backend}', but 'webgpu' runs (WebGPU kernels cannot be precompiled)`);
      if (!GPU.isWebGPUSupported) throw new GpuError(`GPU.js backend 'webgpu' was demanded but this platform has no WebGPU (navigator.gpu is missing)`);
      this.gpu = this.options.gpu ?? new GPU({ mode: 'webgpu' } as unknown as ConstructorParameters<typeof GPU>[0]);
      this.uploader = this.gpu.createKernel('function (a) { return a[this.thread.x]; }', this.settings([1], []));
      try {
        await this.uploadAsync(new Float32Array([0]));
      } catch (e) {
        throw new GpuError(`GPU.js backend 'webgpu' was demanded but cannot run here: ${(e as Error).message.split('\n')[0]}`);
      }
      this.backend = modeOf(this.uploader) as GpuMode;
      if (this.backend !== 'webgpu') throw new GpuError(`GPU.js backend 'webgpu' was demanded but '${this.backend}' runs (GPU.js fell back)`);
    }
    this.opened = true;
    for (const build of this.builders.splice(0)) build();
    return this.backend;
  }

  /** Moves host arrays that `upload` returned before the device opened onto it, in place. */
  async settle(tensors: DeviceTensor[]): Promise<void> {
    await this.ready();
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i];
      if (t instanceof Float32Array && this.pending.has(t)) {
        this.pending.delete(t);
        tensors[i] = await this.uploadAsync(t);
      }
    }
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

  /**
   * Builds kernel `name`; `helpers` are the sources of the functions it calls. On WebGPU,
   * `options.wgsl[name]` or else `override` (the module's `wgslKernels` entry) runs instead of the
   * GPU.js source, and each such call is counted in `wgslCalls`.
   */
  kernel(name: string, source: string, helpers: readonly string[], perSample: number, batched: boolean, override?: WgslOverride): DeviceKernel {
    let k: IKernelRunShortcut | undefined;
    const build = () => {
      const [src, fns] = this.backend === 'webgpu' ? [wgslSafe(source), helpers.map(wgslSafe)] : [source, [...helpers]];
      k = this.gpu.createKernel(src, this.settings([Math.max(1, perSample)], fns));
      this.kernels.push(k);
    };
    if (this.opened) build();
    else this.builders.push(build);
    let elements = perSample;
    let ran = false;
    const pre = this.precompiled?.kernels[name];
    let fixed: ((...args: unknown[]) => DeviceTensor) | undefined;
    const wgsl = this.options.wgsl === false ? undefined : (this.options.wgsl?.[name] ?? override);
    const call = (batch: number, args: (DeviceTensor | number)[]): DeviceTensor | Promise<DeviceTensor> => {
      if (batch > this.maxBatch) throw new GpuError(`batch ${batch} is above this model's maxBatch (${this.maxBatch}); create it with a larger { maxBatch }`);
      if (!k) throw new GpuError(`kernel ${name}: the device has not opened yet; await ready() (or call the *Async methods, which do)`);
      if (pre && batch === this.precompiled!.batch) {
        fixed ??= this.instantiate(pre);
        return fixed(...args, batch);
      }
      const want = batched ? perSample * batch : perSample;
      if (wgsl && this.backend === 'webgpu') return this.runWgsl(name, wgsl, batch, args, Math.max(1, want)) as Promise<DeviceTensor>;
      if (want !== elements) {
        k.setOutput([want]);
        elements = want;
      }
      const out = k(...args, batch) as DeviceTensor | Promise<DeviceTensor>;
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
    const kernel = (batch: number, ...args: (DeviceTensor | number)[]) => {
      if (this.asynchronous) throw asyncOnly(this.backend, `kernel ${name}`);
      return call(batch, args) as DeviceTensor;
    };
    return Object.assign(kernel, { async: (batch: number, ...args: (DeviceTensor | number)[]) => call(batch, args) });
  }

  /** A hand-written WGSL kernel's call: its output becomes a buffer handle like any kernel's. */
  private runWgsl(name: string, override: WgslOverride, batch: number, args: readonly (DeviceTensor | number)[], elements: number) {
    this.wgslCalls.set(name, (this.wgslCalls.get(name) ?? 0) + 1);
    const reader = (this.uploader as unknown as { kernel: { context: { device: WgslDevice } } }).kernel;
    return runOverride({ device: reader.context.device, context: reader.context, reader }, name, override, batch, args, elements);
  }

  /** GPU.js may move one kernel to another backend (webasm degrades to cpu): that is an error. */
  private check(k: IKernelRunShortcut) {
    const mode = modeOf(k);
    if (mode !== this.backend) throw new GpuError(`a kernel fell back from GPU.js backend '${this.backend}' to '${mode}'`);
  }

  /**
   * A copy of `data` on the device, as float32. On an asynchronous device (or one not open yet) a
   * host copy that the next `settle` moves up: weights set synchronously reach WebGPU that way.
   */
  upload(data: ArrayLike<number>): DeviceTensor {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (!this.opened || this.asynchronous) {
      const copy = values.slice();
      this.pending.add(copy);
      return copy;
    }
    this.uploader.setOutput([Math.max(1, values.length)]);
    return this.uploader(values.length ? values : new Float32Array(1)) as DeviceTensor;
  }

  /** `upload` on every backend (WebGPU's uploads resolve once the copy is queued). */
  async uploadAsync(data: ArrayLike<number>): Promise<DeviceTensor> {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    if (!this.asynchronous) return this.upload(values);
    this.uploader.setOutput([Math.max(1, values.length)]);
    return (await this.uploader(values.length ? values : new Float32Array(1))) as DeviceTensor;
  }

  /** The first `length` values of a device tensor, converted to the model's dtype. */
  read(t: DeviceTensor, length: number, dtype: 'float32' | 'float64' | 'int32' = 'float32'): Float32Array | Float64Array | Int32Array {
    if (this.asynchronous && !(t instanceof Float32Array)) throw asyncOnly(this.backend, 'read');
    return convert((t instanceof Float32Array ? t : (t.toArray() as Float32Array)).subarray(0, length), dtype);
  }

  /** `read` on every backend: on WebGPU the copy back is awaited, so the page stays live meanwhile. */
  async readAsync(t: DeviceTensor, length: number, dtype: 'float32' | 'float64' | 'int32' = 'float32'): Promise<Float32Array | Float64Array | Int32Array> {
    if (!this.asynchronous || t instanceof Float32Array) return this.read(t, length, dtype);
    const values = (await (t.toArray() as unknown as Promise<Float32Array>)) as Float32Array;
    return convert(Float32Array.from(values.subarray(0, length)), dtype);
  }

  /** Hands a device tensor back (a texture returns to its kernel's pool, a WebGPU buffer is freed; arrays need nothing). */
  release(t: DeviceTensor | undefined): void {
    if (t && !(t instanceof Float32Array) && typeof t.delete === 'function') t.delete();
  }

  /** Frees every kernel and texture of this device, and the GPU instance unless it was given. */
  destroy(): void {
    for (const k of this.kernels) k.destroy();
    this.uploader?.destroy();
    if (this.ownsGpu && this.gpu) void this.gpu.destroy();
  }
}

/**
 * A kernel source whose infinities and NaNs WGSL accepts. The renderer spells them `1.0 / 0.0`
 * and `0.0 / 0.0`, which GLSL evaluates as IEEE division; WGSL evaluates a division of constants
 * at shader creation and refuses one whose result is not a finite float. Dividing by a zero
 * computed from the thread's index (times 0.0) defers the division to run time, where SwiftShader
 * and GPUs divide as IEEE 754 says.
 */
function wgslSafe(source: string): string {
  return source.replace(/\b([01])\.0 \/ 0\.0\b/g, '$1.0 / (this.thread.x * 0.0)');
}

function convert(values: Float32Array, dtype: 'float32' | 'float64' | 'int32'): Float32Array | Float64Array | Int32Array {
  if (dtype === 'int32') return Int32Array.from(values, Math.round);
  if (dtype === 'float64') return Float64Array.from(values);
  return values.slice();
}

/** Float32 view of an input the GPU reads (labels and indices are exact below 2^24). */
export function asFloat32(data: Float32Array | Float64Array | Int32Array): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}
