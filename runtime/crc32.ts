// Table-driven CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) used to checksum weight files.
// Four bytes per step ("slicing by 4"): loading a model checks megabytes, and this is 3× faster
// than one byte per step.

/** Four 256-entry tables: TABLES[k][n] is the CRC of byte n followed by k zero bytes. */
function buildTables(): Uint32Array[] {
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c >>> 0;
  }
  const tables = [t0];
  for (let k = 1; k < 4; k++) tables.push(Uint32Array.from(tables[k - 1], (c) => (c >>> 8) ^ t0[c & 0xff]));
  return tables;
}

/** Built on first use: under Node the native CRC-32 is used and the tables never are. */
let tables: Uint32Array[] | undefined;

/**
 * CRC-32 (IEEE) of `bytes`, as an unsigned 32-bit integer.
 * Pass the result of a previous call as `previous` to checksum data arriving in chunks:
 * `crc32(b, crc32(a))` equals the CRC of `a` followed by `b`.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  return native ? native(bytes, previous) >>> 0 : crc32Table(bytes, previous);
}

/** A native CRC-32 with the same contract (zlib's, which Node's entry of the runtime installs: 20× faster). */
type Crc32 = (bytes: Uint8Array, previous: number) => number;
let native: Crc32 | undefined;

/** Makes `crc32` use a native implementation (index-node.ts does, with `zlib.crc32`). */
export function useNativeCrc32(fn: Crc32 | undefined): void {
  native = fn;
}

/** The table-driven CRC-32, in JavaScript. */
export function crc32Table(bytes: Uint8Array, previous = 0): number {
  const [T0, T1, T2, T3] = (tables ??= buildTables());
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
