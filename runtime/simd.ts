// WebAssembly SIMD kernels at run time: one shared memory per model holds its weights, planned
// buffers and optimizer state, so a kernel receives byte addresses instead of arrays. The memory
// is shared (its buffer a SharedArrayBuffer) for two reasons: growing it never detaches the views
// already handed out, and a ThreadPool's worker can run the same kernels on it.

type ArrayType = typeof Float32Array | typeof Float64Array | typeof Int32Array;
type Array32 = Float32Array | Float64Array | Int32Array;

/** 64 KiB pages: the memory starts at 16 MiB and may grow to 2 GiB (what the kernels' module declares). */
const INITIAL_PAGES = 256;
const MAX_PAGES = 32768;
const PAGE = 65536;
/** Buffers start on 16-byte boundaries and are followed by 16 spare bytes: a partial vector reads up to 12 past its end. */
const ALIGN = 16;

/** The memory of one model (and its trainer): a bump allocator over a shared WebAssembly.Memory. */
export class SimdMemory {
  readonly memory: WebAssembly.Memory;
  private top = ALIGN;
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly instances = new WeakMap<WebAssembly.Module, WebAssembly.Instance>();

  constructor(memory?: WebAssembly.Memory) {
    this.memory = memory ?? new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    this.buffers.add(this.memory.buffer);
  }

  /** A zeroed array in this memory. Arrays are never freed: a model allocates once per batch-size increase. */
  alloc = <T extends ArrayType>(Type: T, length: number): InstanceType<T> => {
    const at = Math.ceil(this.top / ALIGN) * ALIGN;
    const end = at + Math.max(1, length) * Type.BYTES_PER_ELEMENT + ALIGN;
    const size = this.memory.buffer.byteLength;
    if (end > size) this.memory.grow(Math.ceil((end - size) / PAGE));
    this.top = end;
    const buffer = this.memory.buffer;
    this.buffers.add(buffer);
    // A shared memory starts zeroed and is never reused, so the new array is zeroed.
    return new (Type as unknown as new (b: ArrayBufferLike, o: number, n: number) => InstanceType<T>)(buffer, at, length);
  };

  owns(a: Array32): boolean {
    return this.buffers.has(a.buffer);
  }

  /** `a` itself if it lives here, else a copy that does (weights handed to a model). */
  adopt = <T extends Array32>(a: T): T => {
    if (this.owns(a)) return a;
    const copy = this.alloc(a.constructor as ArrayType, a.length) as T;
    copy.set(a as never);
    return copy;
  };

  /** The instance of a kernels module over this memory (one per module). */
  instance(module: WebAssembly.Module): WebAssembly.Instance {
    let i = this.instances.get(module);
    if (!i) {
      i = new WebAssembly.Instance(module, { env: { memory: this.memory } });
      this.instances.set(module, i);
    }
    return i;
  }
}

/** What an emitted module's SIMD kernel table is built from. */
export interface SimdKernels {
  readonly exports: Record<string, (...args: number[]) => void>;
  /**
   * The byte address of an array argument: its own if it lives in the memory, else that of a copy
   * made for this call in a staging buffer of argument slot `slot` (the caller's inputs, constants).
   */
  readonly address: (a: Array32, slot: number) => number;
  readonly memory: SimdMemory;
}

const compiled = new WeakMap<Uint8Array, WebAssembly.Module>();
let supported: boolean | undefined;

/** Whether this engine runs WebAssembly SIMD over shared memory (a browser page needs cross-origin isolation for the latter). */
export function simdSupported(): boolean {
  if (supported === undefined) {
    try {
      // (func (result v128) f32.const 0 f32x4.splat), and a shared memory.
      const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 11, 1, 9, 0, 67, 0, 0, 0, 0, 253, 19, 11]);
      supported = WebAssembly.validate(probe) && typeof SharedArrayBuffer === 'function' && new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
    } catch {
      supported = false;
    }
  }
  return supported;
}

/**
 * The SIMD kernels of module bytes `wasm` over `memory` (a fresh one when not given), or undefined
 * where the engine lacks SIMD or shared memory: the module then runs its JavaScript kernels.
 */
export function openSimd(wasm: Uint8Array, memory?: SimdMemory): SimdKernels | undefined {
  if (!simdSupported()) return undefined;
  let module = compiled.get(wasm);
  if (!module) {
    module = new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
    compiled.set(wasm, module);
  }
  const mem = memory ?? new SimdMemory();
  const exports = mem.instance(module).exports as Record<string, (...args: number[]) => void>;
  const staging: Array32[] = [];
  const address = (a: Array32, slot: number): number => {
    if (mem.owns(a)) return a.byteOffset;
    let copy = staging[slot];
    if (!copy || copy.length < a.length || copy.constructor !== a.constructor) {
      copy = mem.alloc(a.constructor as ArrayType, a.length);
      staging[slot] = copy;
    }
    copy.set(a as never);
    return copy.byteOffset;
  };
  return { exports, address, memory: mem };
}

/** The SIMD kernels of a worker thread, over memory the main thread allocated every argument in. */
export function workerSimd(wasm: Uint8Array, memory: WebAssembly.Memory): SimdKernels {
  const mem = new SimdMemory(memory);
  return { ...openSimd(wasm, mem)!, address: (a) => a.byteOffset };
}
