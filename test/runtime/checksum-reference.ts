// The two checksums of weight-file trailers, written from their specifications with no shortcut
// (a byte at a time, no tables beyond CRC's one, no SIMD): the references the runtime's versions
// and the format tests are held to. XXH32: https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** CRC-32 (IEEE 802.3, reflected 0xEDB88320), a byte at a time. */
export function crc32Reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PRIME = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1];
const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
const add = (a: number, b: number) => (a + b) >>> 0;
const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;

/** XXH32 of `bytes` with `seed`, step by step as the specification describes it. */
export function xxh32Reference(bytes: Uint8Array, seed = 0): number {
  const word = (i: number) => (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
  const length = bytes.length;
  let i = 0;
  let acc: number;
  if (length >= 16) {
    const lanes = [add(add(seed, PRIME[0]), PRIME[1]), add(seed, PRIME[1]), seed >>> 0, (seed - PRIME[0]) >>> 0];
    for (; i + 16 <= length; i += 16) {
      for (let l = 0; l < 4; l++) lanes[l] = mul(rotl(add(lanes[l], mul(word(i + 4 * l), PRIME[1])), 13), PRIME[0]);
    }
    acc = add(add(rotl(lanes[0], 1), rotl(lanes[1], 7)), add(rotl(lanes[2], 12), rotl(lanes[3], 18)));
  } else {
    acc = add(seed, PRIME[4]);
  }
  acc = add(acc, length);
  for (; i + 4 <= length; i += 4) acc = mul(rotl(add(acc, mul(word(i), PRIME[2])), 17), PRIME[3]);
  for (; i < length; i++) acc = mul(rotl(add(acc, mul(bytes[i], PRIME[4])), 11), PRIME[0]);
  acc = mul(acc ^ (acc >>> 15), PRIME[1]);
  acc = mul(acc ^ (acc >>> 13), PRIME[2]);
  return (acc ^ (acc >>> 16)) >>> 0;
}

/** The trailer checksum of a weight file of format `version` (1: CRC-32, 2: XXH32), or undefined for another version. */
export function trailerReference(version: number, bytes: Uint8Array): number | undefined {
  return version === 1 ? crc32Reference(bytes) : version === 2 ? xxh32Reference(bytes) : undefined;
}
