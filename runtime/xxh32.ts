// XXH32 (xxHash, 32 bits, seed 0: the content checksum of LZ4 frames), which checksums weight
// files of format version 2. Its four 32-bit lanes are one WebAssembly SIMD vector: a 16-byte
// stripe is one load, two multiplies, an add and a rotation (the lanes' dependency chains bound
// it at about 7 GB/s optimised; 1.5-2.5 GB/s in V8's baseline compiler, which runs its first
// megabytes). With the copy into its window, 34 MB take about 11 ms from a fresh start, as zlib's
// CRC-32 does once zlib is loaded (2-3 ms) and half the WebAssembly CRC-32's time (a browser has
// no zlib); a first prediction of cnn2 (3.4 MB) spends about 1.2 ms less in createModel.
// Specification: https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md (XXH32).

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
 * The stripes in WebAssembly SIMD (hand-assembled; 145 bytes). Memory: two 64 KiB pages, the
 * lanes at address 0, a window for the data at 65536.
 *
 *   (func $stripes (param $p i32) (param $end i32) (local $v v128) (local $p2 v128) (local $p1 v128)
 *     (local.set $v (v128.load (i32.const 0)))
 *     (local.set $p2 (i32x4.splat (i32.const 0x85ebca77)))
 *     (local.set $p1 (i32x4.splat (i32.const 0x9e3779b1)))
 *     (loop $stripe                                       ;; p < end, (end - p) a multiple of 16
 *       (local.set $v (i32x4.mul (v128.or (i32x4.shl (local.tee $v (i32x4.add (local.get $v)
 *                                                        (i32x4.mul (v128.load (local.get $p)) (local.get $p2))))
 *                                                    (i32.const 13))
 *                                         (i32x4.shr_u (local.get $v) (i32.const 19)))
 *                                (local.get $p1)))
 *       (br_if $stripe (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 16))) (local.get $end))))
 *     (v128.store (i32.const 0) (local.get $v)))
 */
const WASM_STRIPES = [
  0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 2, 127, 127, 0, 3, 2, 1, 0, 5, 3, 1, 0,
  2, 7, 20, 2, 7, 115, 116, 114, 105, 112, 101, 115, 0, 0, 6, 109, 101, 109, 111, 114, 121, 2, 0, 10,
  96, 1, 94, 1, 3, 123, 65, 0, 253, 0, 4, 0, 33, 2, 65, 247, 148, 175, 175, 120, 253, 17, 33, 3,
  65, 177, 243, 221, 241, 121, 253, 17, 33, 4, 3, 64, 32, 2, 32, 0, 253, 0, 4, 0, 32, 3, 253, 181,
  1, 253, 174, 1, 34, 2, 65, 13, 253, 171, 1, 32, 2, 65, 19, 253, 173, 1, 253, 80, 32, 4, 253, 181,
  1, 33, 2, 32, 0, 65, 16, 106, 34, 0, 32, 1, 73, 13, 0, 11, 65, 0, 32, 2, 253, 11, 4, 0,
  11,
];

/** Where the data window starts in the module's memory, and its length (a multiple of 16). */
const WINDOW = 65536;

/** The WebAssembly stripes, or undefined where WebAssembly (SIMD) is missing or refuses the module. */
export function openWasmStripes(): Stripes | undefined {
  let run: (p: number, end: number) => void;
  let memory: Uint8Array;
  let state: Int32Array;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(WASM_STRIPES)));
    run = instance.exports.stripes as typeof run;
    const buffer = (instance.exports.memory as WebAssembly.Memory).buffer;
    [memory, state] = [new Uint8Array(buffer), new Int32Array(buffer, 0, 4)];
  } catch {
    return undefined;
  }
  // Its lanes are read as little-endian words: on a big-endian host the JavaScript ones run.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) return undefined;
  return (lanes, bytes, from, to) => {
    state.set(lanes);
    for (let at = from; at < to; at += WINDOW) {
      const part = bytes.subarray(at, Math.min(to, at + WINDOW));
      memory.set(part, WINDOW);
      run(WINDOW, WINDOW + part.length);
    }
    lanes.set(state);
  };
}

let stripes: Stripes | undefined;

/** A fresh XXH32 (seed 0) over data arriving in pieces: the same as `xxh32` of the pieces joined. */
export function xxh32Stream() {
  const lanes = Int32Array.of((P1 + P2) | 0, P2 | 0, 0, -P1 | 0);
  const pending = new Uint8Array(16);
  let held = 0;
  let total = 0;
  const run = (bytes: Uint8Array, from: number, to: number) => (stripes ??= openWasmStripes() ?? stripesJs)(lanes, bytes, from, to);
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
      const whole = i + (bytes.length - i) - ((bytes.length - i) % 16);
      if (whole > i) run(bytes, i, whole);
      pending.set(bytes.subarray(whole), 0);
      held = bytes.length - whole;
    },
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
