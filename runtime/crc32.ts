// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), which checksums weight files of format
// version 1 (version 2's is XXH32: xxh32.ts). Three ways, all with the same results: WebAssembly
// (slicing by 8, about 1.6 GB/s from its first call, in V8's baseline compiler); a native one
// where the host installs it (Node's zlib, several times faster, but loading it costs 1-2.5 ms, as
// much as about 1 MiB through WebAssembly: instruction counts of a first prediction, under
// valgrind, put cnn-small's 0.2 MB on WebAssembly 5 M instructions ahead and cnn2's 3.3 MB 11 M
// behind), loaded once 1 MiB has been checksummed, or up front when a caller says that much is
// coming (expectChecksum: a weight file read in pieces); and JavaScript tables (slicing by 4)
// where there is no WebAssembly. Plain JavaScript runs its first megabytes in V8's interpreter:
// 5 ms for a small model's 220 KB.

/** TABLES[k][n] is the CRC of byte n followed by k zero bytes (k < count). */
function buildTables(count: number): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  const tables = [t0];
  for (let k = 1; k < count; k++) tables.push(Uint32Array.from(tables[k - 1], (c) => (c >>> 8) ^ t0[c & 0xff]));
  return tables;
}

/** A CRC-32 with the contract of `crc32` (zlib's, which Node's entry of the runtime installs). */
type Crc32 = (bytes: Uint8Array, previous: number) => number;

let native: Crc32 | undefined;
let loadNative: (() => Crc32 | undefined) | undefined;
/** Bytes checksummed without the native CRC-32 so far, and how many make loading it pay. */
let checked = 0;
const NATIVE_AFTER = 1 << 20;

/**
 * Makes `crc32` use a native implementation, loaded by `load` once 1 MiB has been (or, by
 * expectChecksum, is about to be) checksummed (node-host.ts installs zlib's). `undefined`, or `load` returning undefined: WebAssembly or
 * JavaScript only.
 */
export function useNativeCrc32(load: (() => Crc32 | undefined) | undefined): void {
  native = undefined;
  loadNative = load;
  checked = 0;
}

/**
 * CRC-32 (IEEE) of `bytes`, as an unsigned 32-bit integer.
 * Pass the result of a previous call as `previous` to checksum data arriving in chunks:
 * `crc32(b, crc32(a))` equals the CRC of `a` followed by `b`.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  expectChecksum(bytes.length);
  if (native) return native(bytes, previous) >>> 0;
  checked += bytes.length;
  return (wasmCrc ??= openWasmCrc32() ?? crc32Table)(bytes, previous);
}

/**
 * Says that `bytes` more are about to be checksummed (a weight file read in pieces): the native
 * CRC-32 is loaded now if they reach the threshold, so that the first pieces do not build the
 * WebAssembly one (about 0.3 ms) only to leave it for the native one.
 */
export function expectChecksum(bytes: number): void {
  if (loadNative && checked + bytes >= NATIVE_AFTER) {
    native = loadNative();
    loadNative = undefined;
  }
}

/** Built on first use: the WebAssembly version normally runs instead. */
let tables: Uint32Array[] | undefined;

/** The table-driven CRC-32, in JavaScript. */
export function crc32Table(bytes: Uint8Array, previous = 0): number {
  const [T0, T1, T2, T3] = (tables ??= buildTables(4));
  let c = ~previous;
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = T3[c & 0xff] ^ T2[(c >>> 8) & 0xff] ^ T1[(c >>> 16) & 0xff] ^ T0[c >>> 24];
  }
  for (; i < n; i++) c = T0[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/**
 * The WebAssembly CRC-32 (hand-assembled; 433 bytes). Its memory is two 64 KiB pages: the eight
 * 1 KiB tables of slicing by 8 at address 0 (T[k] at k * 1024), and a 64 KiB window for the data
 * at 65536. Its start function builds the tables (a JavaScript loop would run them in V8's
 * interpreter: more than the module costs):
 *
 *   (func $init (local $n i32) (local $c i32) (local $k i32)
 *     (loop $each (local.set $c (local.get $n)) (local.set $k (i32.const 8))            ;; T0
 *       (loop $bit (local.set $c (i32.xor (i32.shr_u (local.get $c) (i32.const 1))
 *                                 (i32.and (i32.const 0xedb88320) (i32.sub (i32.const 0) (i32.and (local.get $c) (i32.const 1))))))
 *         (br_if $bit (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
 *       (i32.store (i32.shl (local.get $n) (i32.const 2)) (local.get $c))
 *       (br_if $each (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 1))) (i32.const 256))))
 *     (local.set $n (i32.const 1024))                                                    ;; T1-T7
 *     (loop $next (local.set $c (i32.load (i32.sub (local.get $n) (i32.const 1024))))
 *       (i32.store (local.get $n) (i32.xor (i32.shr_u (local.get $c) (i32.const 8))
 *                                          (i32.load (i32.shl (i32.and (local.get $c) (i32.const 255)) (i32.const 2)))))
 *       (br_if $next (i32.lt_u (local.tee $n (i32.add (local.get $n) (i32.const 4))) (i32.const 8192)))))
 *
 * and crc(p, n, crc) -> crc, over the n bytes at p:
 *
 *   (func $crc (param $p i32) (param $n i32) (param $crc i32) (result i32) (local $c i32) (local $d i32)
 *     (local.set $c (i32.xor (local.get $crc) (i32.const -1)))
 *     (block (loop                                    ;; 8 bytes a step
 *       (br_if 1 (i32.lt_u (local.get $n) (i32.const 8)))
 *       (local.set $c (i32.xor (local.get $c) (i32.load (local.get $p))))
 *       (local.set $d (i32.load offset=4 (local.get $p)))
 *       (local.set $c (xor of T7[c & 255], T6[(c >> 8) & 255], T5[(c >> 16) & 255], T4[c >> 24],
 *                             T3[d & 255], T2[(d >> 8) & 255], T1[(d >> 16) & 255], T0[d >> 24]))
 *       (local.set $p (i32.add (local.get $p) (i32.const 8)))
 *       (local.set $n (i32.sub (local.get $n) (i32.const 8)))
 *       (br 0)))
 *     (block (loop                                    ;; the last 0-7 bytes one at a time
 *       (br_if 1 (i32.eqz (local.get $n)))
 *       (local.set $c (i32.xor (T0[(c ^ load8_u p) & 255]) (i32.shr_u (local.get $c) (i32.const 8))))
 *       (local.set $p (i32.add (local.get $p) (i32.const 1)))
 *       (local.set $n (i32.sub (local.get $n) (i32.const 1)))
 *       (br 0)))
 *     (i32.xor (local.get $c) (i32.const -1)))
 */
const WASM_CRC32 = [
  0, 97, 115, 109, 1, 0, 0, 0, 1, 11, 2, 96, 3, 127, 127, 127, 1, 127, 96, 0, 0, 3, 3, 2,
  0, 1, 5, 3, 1, 0, 2, 7, 16, 2, 3, 99, 114, 99, 0, 0, 6, 109, 101, 109, 111, 114, 121, 2,
  0, 8, 1, 1, 10, 250, 2, 2, 237, 1, 1, 2, 127, 32, 2, 65, 127, 115, 33, 3, 2, 64, 3, 64,
  32, 1, 65, 8, 73, 13, 1, 32, 3, 32, 0, 40, 0, 0, 115, 33, 3, 32, 0, 40, 0, 4, 33, 4,
  32, 3, 65, 255, 1, 113, 65, 2, 116, 40, 2, 128, 56, 32, 3, 65, 8, 118, 65, 255, 1, 113, 65, 2,
  116, 40, 2, 128, 48, 115, 32, 3, 65, 16, 118, 65, 255, 1, 113, 65, 2, 116, 40, 2, 128, 40, 115, 32,
  3, 65, 24, 118, 65, 2, 116, 40, 2, 128, 32, 115, 32, 4, 65, 255, 1, 113, 65, 2, 116, 40, 2, 128,
  24, 115, 32, 4, 65, 8, 118, 65, 255, 1, 113, 65, 2, 116, 40, 2, 128, 16, 115, 32, 4, 65, 16, 118,
  65, 255, 1, 113, 65, 2, 116, 40, 2, 128, 8, 115, 32, 4, 65, 24, 118, 65, 2, 116, 40, 2, 0, 115,
  33, 3, 32, 0, 65, 8, 106, 33, 0, 32, 1, 65, 8, 107, 33, 1, 12, 0, 11, 11, 2, 64, 3, 64,
  32, 1, 69, 13, 1, 32, 3, 32, 0, 45, 0, 0, 115, 65, 255, 1, 113, 65, 2, 116, 40, 2, 0, 32,
  3, 65, 8, 118, 115, 33, 3, 32, 0, 65, 1, 106, 33, 0, 32, 1, 65, 1, 107, 33, 1, 12, 0, 11,
  11, 32, 3, 65, 127, 115, 11, 136, 1, 1, 3, 127, 65, 0, 33, 0, 3, 64, 32, 0, 33, 1, 65, 8,
  33, 2, 3, 64, 32, 1, 65, 1, 118, 65, 160, 134, 226, 237, 126, 65, 0, 32, 1, 65, 1, 113, 107, 113,
  115, 33, 1, 32, 2, 65, 1, 107, 34, 2, 65, 0, 71, 13, 0, 11, 32, 0, 65, 2, 116, 32, 1, 54,
  2, 0, 32, 0, 65, 1, 106, 34, 0, 65, 128, 2, 73, 13, 0, 11, 65, 128, 8, 33, 0, 3, 64, 32,
  0, 65, 128, 8, 107, 40, 2, 0, 33, 1, 32, 0, 32, 1, 65, 8, 118, 32, 1, 65, 255, 1, 113, 65,
  2, 116, 40, 2, 0, 115, 54, 2, 0, 32, 0, 65, 4, 106, 34, 0, 65, 128, 192, 0, 73, 13, 0, 11,
  11,
];

/** Where the data window starts in the module's memory, and its length. */
const WINDOW = 65536;

/** The WebAssembly CRC-32, or undefined where WebAssembly is missing or refuses the module. */
export function openWasmCrc32(): Crc32 | undefined {
  let crc: (p: number, n: number, crc: number) => number;
  let memory: Uint8Array;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(WASM_CRC32)));
    crc = instance.exports.crc as typeof crc;
    memory = new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer);
  } catch {
    return undefined;
  }
  return (bytes, previous) => {
    let c = previous;
    for (let at = 0; at < bytes.length; at += WINDOW) {
      const part = bytes.subarray(at, at + WINDOW);
      memory.set(part, WINDOW);
      c = crc(WINDOW, part.length, c);
    }
    return c >>> 0;
  };
}

let wasmCrc: Crc32 | undefined;
