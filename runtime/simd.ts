// WebAssembly SIMD kernels at run time: one shared memory per model holds its weights, planned
// buffers and optimizer state, so a kernel receives byte addresses instead of arrays. The memory
// is shared (its buffer a SharedArrayBuffer) for two reasons: growing it never detaches the views
// already handed out, and a ThreadPool's worker can run the same kernels on it.

import { noteMemoryBuffer } from './wasm-memories.ts';

type ArrayType = typeof Float32Array | typeof Float64Array | typeof Int32Array;
type Array32 = Float32Array | Float64Array | Int32Array;

/** 64 KiB pages: the memory starts at 16 MiB and may grow to 2 GiB (what the kernels' module declares). */
const INITIAL_PAGES = 256;
const MAX_PAGES = 32768;
const PAGE = 65536;
/** Buffers start on 16-byte boundaries and are followed by 16 spare bytes: a partial vector reads up to 12 past its end. */
const ALIGN = 16;

/**
 * The memory of one model (and its trainer): a bump allocator over a shared WebAssembly.Memory.
 * The allocator's top lives in the memory itself (bytes 0–3, below the first buffer), moved with
 * Atomics, so a ThreadPool worker's view of the same memory can take its own scratch region.
 */
export class SimdMemory {
  readonly memory: WebAssembly.Memory;
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly instances = new WeakMap<WebAssembly.Module, WebAssembly.Instance>();
  /** Whether a kernels module was instantiated here in its relaxed-SIMD variant. */
  relaxed = false;

  constructor(memory?: WebAssembly.Memory) {
    this.memory = memory ?? new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    this.buffers.add(noteMemoryBuffer(this.memory));
  }

  /** Reserves `bytes` (16-byte aligned, 16 spare after) and returns the address; grows the memory as needed. */
  private reserve(bytes: number): number {
    const top = new Uint32Array(this.memory.buffer, 0, 1);
    for (;;) {
      const cur = Atomics.load(top, 0);
      const at = Math.ceil((cur || ALIGN) / ALIGN) * ALIGN;
      const end = at + bytes + ALIGN;
      if (Atomics.compareExchange(top, 0, cur, end) !== cur) continue; // another thread moved it: retry
      // Two threads may both grow; the memory then has spare pages, never too few.
      const size = this.memory.buffer.byteLength;
      if (end > size) this.memory.grow(Math.ceil((end - size) / PAGE));
      return at;
    }
  }

  /** A zeroed array in this memory. Arrays are never freed: a model allocates once per batch-size increase. */
  alloc = <T extends ArrayType>(Type: T, length: number): InstanceType<T> => {
    const at = this.reserve(Math.max(1, length) * Type.BYTES_PER_ELEMENT);
    const buffer = noteMemoryBuffer(this.memory);
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

  /**
   * The instance of a kernels module over this memory (one per module). A module that packs panels
   * (cache-blocked products) gets a scratch region of its own here, so each thread has one.
   */
  instance(module: WebAssembly.Module): WebAssembly.Instance {
    let i = this.instances.get(module);
    if (!i) {
      const env: Record<string, WebAssembly.Memory | WebAssembly.Global> = { memory: this.memory };
      const [scratch] = WebAssembly.Module.customSections(module, SCRATCH_SECTION);
      if (scratch) env.scratch = new WebAssembly.Global({ value: 'i32', mutable: false }, this.reserve(readUleb(new Uint8Array(scratch), 0)[0]));
      i = new WebAssembly.Instance(module, { env });
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

/** Custom sections of a kernels module (compiler/codegen/wasm/wasm-module.ts writes them). */
export const SCRATCH_SECTION = 'kiln.scratch';
export const RELAXED_SECTION = 'kiln.relaxed';
/** The export of a model's kernels module that warms its larger kernels up (wasm-module.ts's warmFunction); openSimd calls it. */
export const WARM_EXPORT = 'warm';

/** An unsigned LEB128 at `at`: [value, next offset]. */
export function readUleb(b: Uint8Array, at: number): [number, number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = b[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [value, at];
  }
}

/** The bytes of custom section `name` of module bytes `wasm` (a walk over the section headers), or undefined. */
function customSection(wasm: Uint8Array, name: string): Uint8Array | undefined {
  const want = new TextEncoder().encode(name);
  for (let at = 8; at < wasm.length; ) {
    const id = wasm[at];
    const [size, start] = readUleb(wasm, at + 1);
    at = start + size;
    if (id !== 0) continue;
    const [length, nameAt] = readUleb(wasm, start);
    if (length === want.length && want.every((c, i) => wasm[nameAt + i] === c)) return wasm.subarray(nameAt + length, at);
  }
  return undefined;
}

const compiled = new WeakMap<Uint8Array, { module: WebAssembly.Module; relaxed: boolean }>();
let supported: boolean | undefined;
let relaxedSupported: boolean | undefined;

/**
 * Whether this engine has relaxed SIMD (f32x4.relaxed_madd): Node 22+, Chrome 114+; Node 20 only
 * with --experimental-wasm-relaxed-simd. Asked once, of a module of one function using it.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupported === undefined) {
    // (func (param v128) (result v128) local.get 0 local.get 0 local.get 0 f32x4.relaxed_madd)
    const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 0, 32, 0, 253, 133, 2, 11]);
    try {
      relaxedSupported = WebAssembly.validate(probe);
    } catch {
      relaxedSupported = false;
    }
  }
  return relaxedSupported;
}

/** The compiled module for bytes `wasm`: its relaxed-SIMD variant where it has one and the engine validates it. */
function compile(wasm: Uint8Array): { module: WebAssembly.Module; relaxed: boolean } {
  let c = compiled.get(wasm);
  if (!c) {
    const relaxed = relaxedSimdSupported() ? customSection(wasm, RELAXED_SECTION) : undefined;
    c = relaxed ? { module: new WebAssembly.Module(relaxed.slice()), relaxed: true } : { module: new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>), relaxed: false };
    compiled.set(wasm, c);
  }
  return c;
}

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
  const { module, relaxed } = compile(wasm);
  const mem = memory ?? new SimdMemory();
  if (relaxed) mem.relaxed = true;
  const exports = mem.instance(module).exports as Record<string, (...args: number[]) => void>;
  // Before anything else (the weights are read next): V8 then compiles the larger kernels with
  // TurboFan on a background thread while this thread reads, and the first prediction runs them optimised.
  exports[WARM_EXPORT]?.();
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
