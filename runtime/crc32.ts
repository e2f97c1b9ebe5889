// Table-driven CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) used to checksum weight files.

/** Builds the 256-entry lookup table for the reflected IEEE polynomial. */
function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const TABLE = buildTable();

/**
 * CRC-32 (IEEE) of `bytes`, as an unsigned 32-bit integer.
 * Pass the result of a previous call as `previous` to checksum data arriving in chunks:
 * `crc32(b, crc32(a))` equals the CRC of `a` followed by `b`.
 */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
