// The checksum in a weight file's trailer, by format version: CRC-32 (IEEE) in version 1, XXH32
// (seed 0) from version 2 on, which runs in WebAssembly SIMD over the weights where they were
// read to, faster than zlib's CRC-32 and without loading zlib (xxh32.ts).
// Files of either version are read; encodeWeights writes the newest.
import { crc32, expectChecksum } from './crc32.ts';
import { xxh32Stream } from './xxh32.ts';

/** A checksum computed over data arriving in pieces. */
export interface Checksum {
  update(bytes: Uint8Array): void;
  /** The checksum of every byte so far, as an unsigned 32-bit integer. */
  digest(): number;
  /**
   * A buffer whose bytes `update` reads where they lie, fastest (reused: its contents change at
   * every use); absent or undefined where there is none.
   */
  buffer?(): Uint8Array | undefined;
}

/** A running CRC-32; `bytes` of data are to come (the native CRC-32 is loaded now if they are many). */
function crc32Stream(bytes: number): Checksum {
  expectChecksum(bytes);
  let crc = 0;
  return {
    update: (data) => void (crc = crc32(data, crc)),
    digest: () => crc,
  };
}

/** Each readable format version's checksum, over `bytes` of data to come. */
export const CHECKSUMS: Readonly<Record<number, (bytes: number) => Checksum>> = { 1: crc32Stream, 2: xxh32Stream };

/** The checksum of `data` whole, as format version `version` computes it. */
export function checksumOf(version: number, data: Uint8Array): number {
  const sum = CHECKSUMS[version](data.length);
  sum.update(data);
  return sum.digest();
}
