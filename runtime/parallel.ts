// Both cores for emitted JavaScript kernels (Node): a worker thread that imports the same module
// and runs part of a kernel's outermost output loop over SharedArrayBuffer memory, while the main
// thread runs the rest. Every output element is computed by the same code in the same order
// whichever thread runs it, so results are identical to a one-thread run.
//
// The handshake is a few Int32 slots in shared memory (Atomics.wait / notify), not messages: a
// split kernel costs about as much as a function call plus one wake-up, so the threshold below
// which kernels stay on one thread can be low. Arrays reach the worker once, when first used.
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { WORKER_SOURCE } from './parallel-worker.ts';
import type { SimdMemory } from './simd.ts';

type Array32 = Float32Array | Float64Array | Int32Array;
type ArrayType = typeof Float32Array | typeof Float64Array | typeof Int32Array;
type Alloc = <T extends ArrayType>(Type: T, length: number) => InstanceType<T>;
/** Where a split kernel's arguments must live (memory the worker sees too), and how to copy others there. */
interface Staging {
  readonly alloc: Alloc;
  owns(a: Array32): boolean;
}
/** An emitted kernel: `(batch, out, ...inputs, lo, hi)`. */
export type KernelFn = (batch: number, ...args: (Array32 | number)[]) => void;

/** How a kernel may be split: its outermost output loop's extent ('N': the batch) and its work. */
export interface KernelSplit {
  readonly extent: number | 'N';
  /** Multiply-adds of one call at this batch size. */
  work(batch: number): number;
  /** The kernel has a WebAssembly SIMD version, which runs several times faster, so splitting pays later. */
  readonly simd?: boolean;
}

/** Kernels below this many multiply-adds stay on the calling thread (bench/threads.ts: a split
 * dense layer breaks even near 16,000 on this machine; kept above that for the idle-worker case). */
export const DEFAULT_THRESHOLD = 50_000;
/** The same for SIMD kernels (bench/threads.ts: a split SIMD dense layer pays from about 500,000). */
export const DEFAULT_SIMD_THRESHOLD = 500_000;
/** Split points are multiples of this, so the JS renderer's 4-row register tiles stay whole. */
const ALIGN = 4;

// Control slots in shared memory.
const STATE = 0; // 0 idle, 1 job posted, 2 done, 3 failed
const MODULE = 1;
const KERNEL = 2;
const BATCH = 3;
const LO = 4;
const HI = 5;
const ARGC = 6;
const ARGS = 7;
const STARTED = 63; // set by the worker once it listens
const CONTROL_SLOTS = 64;
/** How long a split kernel waits for a worker that never started (it may be broken). */
const START_TIMEOUT_MS = 10_000;

export class PoolError extends Error {
  override name = 'PoolError';
}

/** One worker thread and the shared memory it works on. See `createThreadPool`. */
export class ThreadPool {
  readonly threshold: number;
  readonly simdThreshold: number;
  private readonly worker: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
  private readonly toWorker: MessagePort;
  private readonly fromWorker: MessagePort;
  private readonly ids = new WeakMap<object, number>();
  private nextId = 0;
  private readonly modules = new Map<string, number>();
  /** Copies of arrays that are not shared (the caller's inputs, module constants), by allocator and argument slot. */
  private readonly staging = new Map<Alloc, Array32[]>();
  private readonly memories = new WeakMap<SimdMemory, number>();
  private nextMemory = 0;

  constructor(options: { threshold?: number; simdThreshold?: number } = {}) {
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    this.simdThreshold = options.simdThreshold ?? options.threshold ?? DEFAULT_SIMD_THRESHOLD;
    const down = new MessageChannel();
    const up = new MessageChannel();
    [this.toWorker, this.fromWorker] = [down.port1, up.port2];
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control: this.control, commands: down.port2, replies: up.port1 },
      transferList: [down.port2, up.port1],
    });
    // A waiting worker must not keep the process alive; a broken one surfaces as a PoolError
    // (the calling thread stops waiting for it) instead of an unhandled 'error' event.
    this.worker.unref();
    this.worker.on('error', () => {});
  }

  /** A typed array in shared memory (what planned buffers and weights must be, to be split). */
  alloc = <T extends ArrayType>(Type: T, length: number): InstanceType<T> => {
    const memory = new SharedArrayBuffer(Math.max(1, length) * Type.BYTES_PER_ELEMENT);
    return new (Type as unknown as new (b: SharedArrayBuffer, o: number, n: number) => InstanceType<T>)(memory, 0, length);
  };

  /** `a` itself if shared, else a shared copy (weights handed to a model). */
  share = <T extends Array32>(a: T): T => {
    if (a.buffer instanceof SharedArrayBuffer) return a;
    const copy = this.alloc(a.constructor as ArrayType, a.length) as T;
    copy.set(a as never);
    return copy;
  };

  /**
   * The kernels of the module at `moduleUrl`, wrapped: a call with enough work runs half of its
   * outermost loop on the worker (which imports the module itself), the other half here.
   */
  bind<K extends Record<string, (...args: never[]) => void>>(moduleUrl: string, kernels: K, splits: Readonly<Record<string, KernelSplit>>, simd?: SimdMemory): K {
    // With SIMD kernels the worker builds its own instance over the model's memory, so a module
    // is bound once per memory; arguments are staged in that memory, where kernels address them.
    // A module's model and trainer bind different tables (names are sent once, then kernels go by index).
    const memoryId = simd ? this.memoryId(simd) : undefined;
    const key = `${moduleUrl}#${memoryId ?? ''}#${Object.keys(kernels).join(',')}`;
    let moduleId = this.modules.get(key);
    if (moduleId === undefined) {
      moduleId = this.modules.size;
      this.modules.set(key, moduleId);
      this.toWorker.postMessage({ kind: 'module', id: moduleId, url: moduleUrl, names: Object.keys(kernels), memory: memoryId });
    }
    const stage: Staging = simd ? { alloc: simd.alloc, owns: (a) => simd.owns(a) } : { alloc: this.alloc, owns: (a) => a.buffer instanceof SharedArrayBuffer };
    const id = moduleId;
    const names = Object.keys(kernels);
    const bound: Record<string, KernelFn> = {};
    for (const [index, name] of names.entries()) {
      const k = kernels[name] as unknown as KernelFn;
      const split = splits[name];
      bound[name] = !split
        ? k
        : (batch, ...args) => {
            const extent = split.extent === 'N' ? batch : split.extent;
            const threshold = simd && split.simd ? this.simdThreshold : this.threshold;
            if (extent < 2 * ALIGN || split.work(batch) < threshold) return k(batch, ...args);
            this.run(id, index, k, batch, args as Array32[], extent, stage);
          };
    }
    return bound as unknown as K;
  }

  private run(moduleId: number, kernel: number, k: KernelFn, batch: number, args: Array32[], extent: number, stage: Staging) {
    const c = this.control;
    if (Atomics.load(c, STARTED) !== 1 && Atomics.wait(c, STARTED, 0, START_TIMEOUT_MS) === 'timed-out') {
      throw new PoolError(`the worker thread did not start within ${START_TIMEOUT_MS / 1000} s`);
    }
    if (!(args[0].buffer instanceof SharedArrayBuffer)) throw new PoolError('a split kernel must write shared memory: allocate its buffers with pool.alloc');
    const shared = args.map((a, i) => (i === 0 ? a : this.staged(i, a, stage)));
    const mid = Math.ceil(extent / 2 / ALIGN) * ALIGN;
    c[MODULE] = moduleId;
    c[KERNEL] = kernel;
    c[BATCH] = batch;
    c[LO] = mid;
    c[HI] = extent;
    c[ARGC] = shared.length;
    shared.forEach((a, i) => (c[ARGS + i] = this.idOf(a)));
    Atomics.store(c, STATE, 1);
    Atomics.notify(c, STATE);
    let failure: unknown;
    try {
      k(batch, ...shared, 0, mid);
    } catch (e) {
      failure = e;
    }
    // The worker usually finishes its half at about the same time: spin a little, then sleep.
    for (let spin = 0; spin < 20000 && Atomics.load(c, STATE) === 1; spin++);
    for (let s = Atomics.load(c, STATE); s === 1; s = Atomics.load(c, STATE)) Atomics.wait(c, STATE, 1);
    const state = Atomics.load(c, STATE);
    Atomics.store(c, STATE, 0);
    if (state === 3) {
      const reply = receiveMessageOnPort(this.fromWorker)?.message as { error?: string } | undefined;
      throw new PoolError(`worker thread: ${reply?.error ?? 'unknown error'}`);
    }
    if (failure) throw failure;
  }

  /** The shared array a kernel reads for argument slot `slot`: `a`, or a fresh copy of it. */
  private staged(slot: number, a: Array32, stage: Staging): Array32 {
    if (stage.owns(a)) return a;
    const staging = this.staging.get(stage.alloc) ?? [];
    this.staging.set(stage.alloc, staging);
    let copy = staging[slot];
    if (!copy || copy.length !== a.length || copy.constructor !== a.constructor) {
      copy = stage.alloc(a.constructor as ArrayType, a.length);
      staging[slot] = copy;
    }
    copy.set(a as never);
    return copy;
  }

  /** The worker's name for a model's SIMD memory; sent to it the first time. */
  private memoryId(simd: SimdMemory): number {
    let id = this.memories.get(simd);
    if (id === undefined) {
      id = this.nextMemory++;
      this.memories.set(simd, id);
      this.toWorker.postMessage({ kind: 'memory', id, memory: simd.memory });
    }
    return id;
  }

  /** The worker's name for a shared array; sent to it the first time. */
  private idOf(a: Array32): number {
    let id = this.ids.get(a);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(a, id);
      this.toWorker.postMessage({ kind: 'array', id, buffer: a.buffer, offset: a.byteOffset, length: a.length, type: a.constructor.name });
    }
    return id;
  }

  /** Stops the worker. */
  close(): Promise<number> {
    this.toWorker.close();
    return this.worker.terminate();
  }
}

/**
 * A pool for emitted modules (`createModel(weights, { pool })`), or undefined on a single core,
 * where splitting would only add overhead.
 */
export function createThreadPool(options: { threshold?: number; simdThreshold?: number; force?: boolean } = {}): ThreadPool | undefined {
  if (!options.force && availableParallelism() < 2) return undefined;
  return new ThreadPool(options);
}
