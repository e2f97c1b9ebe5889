// XXH32 (xxHash, 32 bits, seed 0: the content checksum of LZ4 frames), which checksums weight
// files of format version 2. Its four 32-bit lanes are one WebAssembly SIMD vector: a 16-byte
// stripe is one load, two multiplies, an add and a rotation (the lanes' dependency chains bound
// it at about 7 GB/s optimised; about 5 GB/s in V8's baseline compiler, which runs its first
// megabytes, with eight stripes a loop iteration). It reads bytes in place where they lie in a
// WebAssembly memory: a model's, or the 64 KiB window of its own that a weight file is read
// through piece by piece (weights-reader.ts) and other data is copied into (copying out of a
// model's shared memory ran at about 4 GB/s: V8 copies it with relaxed word moves). Against
// version 1's CRC-32 (zlib's, after 2-3 ms loading zlib), in interleaved fresh processes: createModel of cnn2
// (3.4 MB) 12.3 → 8.9 ms, of cifar-cnn (34 MB) 49.5 → 37.9 (a busy hour); a browser, which has
// no zlib, had the WebAssembly CRC-32 at 1.6 GB/s.
// Specification: https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md (XXH32).
import { memoryOf, noteMemoryBuffer } from './wasm-memories.ts';

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
/** One lane's step over a 32-bit word: rotl(acc + word·P2, 13)·P1. */
const round = (acc: number, word: number) => Math.imul(rotl((acc + Math.imul(word, P2)) | 0, 13), P1);

/**
 * Runs stripes [from, to) of `bytes` (whole 16-byte stripes) through the four lanes, in place.
 * The WebAssembly version where there is WebAssembly SIMD, else JavaScript.
 */
type Stripes = (lanes: Int32Array, bytes: Uint8Array, from: number, to: number) => void;

/** The stripes in JavaScript (little-endian words, whatever the host's order). */
export function stripesJs(lanes: Int32Array, bytes: Uint8Array, from: number, to: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let [v1, v2, v3, v4] = lanes;
  for (let i = from; i < to; i += 16) {
    v1 = round(v1, view.getInt32(i, true));
    v2 = round(v2, view.getInt32(i + 4, true));
    v3 = round(v3, view.getInt32(i + 8, true));
    v4 = round(v4, view.getInt32(i + 12, true));
  }
  lanes.set([v1, v2, v3, v4]);
}

/**
 * The stripes in WebAssembly SIMD (hand-assembled; 583 bytes). It imports the memory it reads (a
 * model's, where the weights were read to, or a 64 KiB window of its own that data from elsewhere
 * is copied into) and keeps the lanes in four globals. As listed it imports a shared memory (a
 * model's); the window's variant differs in one byte (LIMITS_FLAG), importing a plain one, which a
 * page without cross-origin isolation (no shared memory) can make too. The loop takes eight
 * stripes an iteration: in V8's baseline compiler, which runs a model's first megabytes (see
 * PIECE), what an iteration costs beside its stripes (the back edge and its tier-up check, the
 * locals kept in memory across it) was half the time: 4 MB in 1.6 ms one stripe an iteration, in
 * 0.8 ms eight (optimised: 0.65 either way).
 *
 *   (import "m" "memory" (memory 0 65536 shared))
 *   (global $l0 (export "l0") (mut i32) (i32.const 0))  ;; and $l1, $l2, $l3
 *   (func $stripes (export "stripes") (param $p i32) (param $end i32) (local $v v128) (local $p2 v128) (local $p1 v128)
 *     (local.set $v (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1
 *                     (i32x4.splat (global.get $l0)) (global.get $l1)) (global.get $l2)) (global.get $l3)))
 *     (local.set $p2 (i32x4.splat (i32.const 0x85ebca77)))
 *     (local.set $p1 (i32x4.splat (i32.const 0x9e3779b1)))
 *     (block $eights                                      ;; (end - p) a multiple of 16
 *       (br_if $eights (i32.lt_u (i32.sub (local.get $end) (local.get $p)) (i32.const 128)))
 *       (loop $eight
 *         ;; wasmRound(0), wasmRound(16), ... wasmRound(112): $v's four lanes over the stripe at p + offset:
 *         (local.set $v (i32x4.mul (v128.or (i32x4.shl (local.tee $v (i32x4.add (local.get $v)
 *                                                          (i32x4.mul (v128.load offset=0 (local.get $p)) (local.get $p2))))
 *                                                      (i32.const 13))
 *                                           (i32x4.shr_u (local.get $v) (i32.const 19)))
 *                                  (local.get $p1)))
 *         ...
 *         (br_if $eight (i32.ge_u (i32.sub (local.get $end) (local.tee $p (i32.add (local.get $p) (i32.const 128))))
 *                                 (i32.const 128)))))
 *     (block $ones
 *       (br_if $ones (i32.ge_u (local.get $p) (local.get $end)))
 *       (loop $one
 *         wasmRound(0)
 *         (br_if $one (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end)))))
 *     (global.set $l0 (i32x4.extract_lane 0 (local.get $v)))  ;; and lanes 1, 2, 3
 *     ...)
 */
const MODULE_HEAD = [
  // Magic, version; the type (i32, i32) -> (); the memory import; the function; the lane globals.
  0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 2, 127, 127, 0, 2, 16, 1, 1, 109, 6, 109, 101,
  109, 111, 114, 121, 2, 3, 0, 128, 128, 4, 3, 2, 1, 0, 6, 21, 4, 127, 1, 65, 0, 11, 127, 1,
  65, 0, 11, 127, 1, 65, 0, 11, 127, 1, 65, 0, 11,
  // The exports: "stripes", "l0" ... "l3".
  7, 31, 5, 7, 115, 116, 114, 105, 112, 101, 115, 0, 0, 2, 108, 48, 3, 0, 2, 108, 49, 3, 1, 2,
  108, 50, 3, 2, 2, 108, 51, 3, 3,
];

/** Locals: $p 0, $end 1, $v 2, $p2 3, $p1 4. The body's start: three v128 locals; $v, $p2 and $p1 set. */
const PROLOGUE = [
  1, 3, 123, 35, 0, 253, 17, 35, 1, 253, 28, 1, 35, 2, 253, 28, 2, 35, 3, 253, 28, 3, 33, 2,
  65, 247, 148, 175, 175, 120, 253, 17, 33, 3, 65, 177, 243, 221, 241, 121, 253, 17, 33, 4,
];

/** wasmRound(offset): the lanes over the stripe at p + offset (offset < 128, one LEB128 byte). */
const wasmRound = (offset: number) => [
  32, 2, 32, 0, 253, 0, 4, offset, 32, 3, 253, 181, 1, 253, 174, 1, 34, 2, 65, 13, 253, 171, 1,
  32, 2, 65, 19, 253, 173, 1, 253, 80, 32, 4, 253, 181, 1, 33, 2,
];

/** Stripes taken by one iteration of the first loop, and the bytes they span. */
const UNROLL = 8;
const STRIDE = 16 * UNROLL;

/** i32.const n, for 0 <= n < 8192 (signed LEB128: a second byte from 64 on). */
const i32Const = (n: number) => (n < 64 ? [65, n] : [65, (n & 127) | 128, n >> 7]);

/** The function's body: the two blocks of the listing, then the lanes stored. */
const BODY = [
  ...PROLOGUE,
  // block $eights: br_if (end - p < STRIDE); loop $eight: the rounds; p += STRIDE; br_if (end - p >= STRIDE).
  2, 64, 32, 1, 32, 0, 107, ...i32Const(STRIDE), 73, 13, 0, 3, 64,
  ...Array.from({ length: UNROLL }, (_, i) => wasmRound(16 * i)).flat(),
  32, 1, 32, 0, ...i32Const(STRIDE), 106, 34, 0, 107, ...i32Const(STRIDE), 79, 13, 0, 11, 11,
  // block $ones: br_if (p >= end); loop $one: one round; p += 16; br_if (p < end).
  2, 64, 32, 0, 32, 1, 79, 13, 0, 3, 64, ...wasmRound(0), 32, 0, 65, 16, 106, 34, 0, 32, 1, 73, 13, 0, 11, 11,
  // The lanes into the globals.
  32, 2, 253, 27, 0, 36, 0, 32, 2, 253, 27, 1, 36, 1, 32, 2, 253, 27, 2, 36, 2, 32, 2, 253, 27, 3,
  36, 3, 11,
];

/** `n` in unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    out.push((n & 127) | (n >= 128 ? 128 : 0));
    n >>>= 7;
  } while (n > 0);
  return out;
}

/** The whole module: the head, then the code section of the one function. */
const WASM_STRIPES = ((): number[] => {
  const entry = [1, ...uleb(BODY.length), ...BODY];
  return [...MODULE_HEAD, 10, ...uleb(entry.length), ...entry];
})();

/** Where the imported memory's limits flag lies in WASM_STRIPES: 3 (a maximum, shared) or 1 (a maximum). */
const LIMITS_FLAG = 29;

/** The stripes module, importing a shared memory or a plain one. */
function stripesModule(shared: boolean): WebAssembly.Module {
  const bytes = new Uint8Array(WASM_STRIPES);
  bytes[LIMITS_FLAG] = shared ? 3 : 1;
  return new WebAssembly.Module(bytes);
}

/** Whether `buffer` is shared memory (a page without cross-origin isolation has no SharedArrayBuffer). */
const isShared = (buffer: ArrayBufferLike) => typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;

/** The window's length (a multiple of 16): one page of its own memory. */
const WINDOW = 65536;
/**
 * Data shorter than this (outside the window) runs in JavaScript: a weight file's header, a bias
 * and the stripes completed across two pieces are this short, and a module for their memory would
 * cost more to compile and instantiate (0.2-0.3 ms, measured in createModel) than they take there.
 */
const FEW_BYTES = 4096;
/**
 * Bytes per call when reading a model's memory in place. WebAssembly has no on-stack replacement:
 * a call that started in V8's baseline code ends there, so a tensor of megabytes is taken in
 * pieces, and the pieces after V8 has optimised the loop (from about the second megabyte) run at
 * its speed.
 */
const PIECE = 1 << 18;

/** One instance of the stripes over a memory: the function and its lanes. */
interface StripesOver {
  run(p: number, end: number): void;
  lanes: WebAssembly.Global[];
}

/** The stripes in WebAssembly, and the window: 64 KiB of a memory of their own, which they read in place. */
export interface WasmStripes {
  readonly run: Stripes;
  /** Data from elsewhere is copied here to be read; a reader may also read a file straight into it. */
  readonly window: Uint8Array;
}

/**
 * The WebAssembly stripes, or undefined where WebAssembly (SIMD) is missing or refuses the module,
 * or on a big-endian host (the lanes are read as little-endian words).
 */
export function openWasmStripes(): WasmStripes | undefined {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return undefined;
  let windowMemory: WebAssembly.Memory;
  try {
    windowMemory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  } catch {
    return undefined;
  }
  // Noted like a model's memory: bytes already in the window are read where they lie.
  const window = new Uint8Array(noteMemoryBuffer(windowMemory));
  const modules = new Map<boolean, WebAssembly.Module>();
  const instances = new WeakMap<WebAssembly.Memory, StripesOver | undefined>();
  /** The instance over `memory`; undefined if it cannot be made (no WebAssembly SIMD, a memory larger than the import's). */
  const over = (memory: WebAssembly.Memory): StripesOver | undefined => {
    if (!instances.has(memory)) {
      try {
        const shared = isShared(memory.buffer);
        const module = modules.get(shared) ?? stripesModule(shared);
        modules.set(shared, module);
        const e = new WebAssembly.Instance(module, { m: { memory } }).exports;
        instances.set(memory, { run: e.stripes as StripesOver['run'], lanes: [e.l0, e.l1, e.l2, e.l3] as WebAssembly.Global[] });
      } catch {
        instances.set(memory, undefined);
      }
    }
    return instances.get(memory);
  };
  const run: Stripes = (lanes, bytes, from, to) => {
    // In place when `bytes` lie in a WebAssembly memory (a model's, or the window), else copied
    // through the window; each module is compiled when first needed. Without WebAssembly SIMD,
    // JavaScript.
    const home = memoryOf(bytes.buffer);
    const inPlace = home && over(home);
    const s = inPlace || over(windowMemory);
    if (!s) return stripesJs(lanes, bytes, from, to);
    s.lanes.forEach((g, i) => (g.value = lanes[i]));
    if (inPlace) {
      for (let at = from; at < to; at += PIECE) s.run(bytes.byteOffset + at, bytes.byteOffset + Math.min(to, at + PIECE));
    } else {
      for (let at = from; at < to; at += WINDOW) {
        const part = bytes.subarray(at, Math.min(to, at + WINDOW));
        window.set(part, 0);
        s.run(0, part.length);
      }
    }
    s.lanes.forEach((g, i) => (lanes[i] = g.value as number));
  };
  return { run, window };
}

/** The stripes this process runs (opened at the first update), and the window where there is one. */
let engine: { run: Stripes; window?: Uint8Array } | undefined;
const openEngine = () => (engine ??= openWasmStripes() ?? { run: stripesJs });

/** A fresh XXH32 (seed 0) over data arriving in pieces: the same as `xxh32` of the pieces joined. */
export function xxh32Stream() {
  const lanes = Int32Array.of((P1 + P2) | 0, P2 | 0, 0, -P1 | 0);
  const pending = new Uint8Array(16);
  let held = 0;
  let total = 0;
  const run = (bytes: Uint8Array, from: number, to: number) => {
    const { run: stripes, window } = openEngine();
    // Few bytes outside the window run in JavaScript: they take less there than compiling a module for their memory.
    if (to - from < FEW_BYTES && bytes.buffer !== window?.buffer) return stripesJs(lanes, bytes, from, to);
    stripes(lanes, bytes, from, to);
  };
  return {
    update(bytes: Uint8Array): void {
      total += bytes.length;
      let i = 0;
      if (held > 0) {
        i = Math.min(16 - held, bytes.length);
        pending.set(bytes.subarray(0, i), held);
        held += i;
        if (held < 16) return;
        run(pending, 0, 16);
        held = 0;
      }
      // Whole stripes from i on; the rest waits for the next piece (or the digest).
      const whole = bytes.length - ((bytes.length - i) % 16);
      if (whole > i) run(bytes, i, whole);
      pending.set(bytes.subarray(whole), 0);
      held = bytes.length - whole;
    },
    /** The window (bytes update reads where they lie), or undefined without WebAssembly SIMD. */
    buffer: (): Uint8Array | undefined => openEngine().window,
    /** The hash of every byte so far, as an unsigned 32-bit integer. */
    digest(): number {
      const [v1, v2, v3, v4] = lanes;
      let acc = total >= 16 ? (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0 : P5 | 0;
      acc = (acc + total) | 0;
      const view = new DataView(pending.buffer);
      let i = 0;
      for (; i + 4 <= held; i += 4) acc = Math.imul(rotl((acc + Math.imul(view.getInt32(i, true), P3)) | 0, 17), P4);
      for (; i < held; i++) acc = Math.imul(rotl((acc + Math.imul(pending[i], P5)) | 0, 11), P1);
      acc ^= acc >>> 15;
      acc = Math.imul(acc, P2);
      acc ^= acc >>> 13;
      acc = Math.imul(acc, P3);
      acc ^= acc >>> 16;
      return acc >>> 0;
    },
  };
}

/** XXH32 (seed 0) of `bytes`, as an unsigned 32-bit integer. */
export function xxh32(bytes: Uint8Array): number {
  const h = xxh32Stream();
  h.update(bytes);
  return h.digest();
}
