// A weight file read in place is checksummed in pieces (its front, then tensor by tensor). A
// version 1 file's CRC-32, told the file's length first, loads the native CRC-32 before the first
// piece when the file reaches the 1 MiB threshold, so that no piece builds the WebAssembly one
// only to leave it; a version 2 file (XXH32) never loads it.
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32, expectChecksum, useNativeCrc32 } from '../../runtime/crc32.ts';
import { encodeWeights } from '../../runtime/weights.ts';
import { readWeightsInPlace, type WeightsReader } from '../../runtime/weights-reader.ts';
import { crc32Reference } from './checksum-reference.ts';

afterEach(() => useNativeCrc32(undefined));

/** A native CRC-32 (zlib's) that counts its loads and the bytes it checksums. */
function countingNative() {
  const seen = { loads: 0, bytes: 0 };
  useNativeCrc32(() => {
    seen.loads++;
    return (b, previous) => ((seen.bytes += b.length), zlib.crc32(b, previous));
  });
  return seen;
}

/** A weight file of one float32 tensor of `count` values (format `version`), as a reader over its bytes. */
function fileOf(count: number, version: 1 | 2 = 1): { reader: WeightsReader; bytes: Uint8Array } {
  const data = Float32Array.from({ length: count }, (_, i) => Math.sin(i));
  const bytes = encodeWeights([{ name: 'w', dtype: 'float32', shape: [count], data }]);
  if (version === 1) {
    // As an earlier Kiln wrote it: the same layout, version 1, a CRC-32 trailer.
    const view = new DataView(bytes.buffer);
    view.setUint32(8, 1, true);
    view.setUint32(bytes.length - 4, crc32Reference(bytes.subarray(0, bytes.length - 4)), true);
  }
  const reader = { byteLength: bytes.length, read: (into: Uint8Array, at: number) => into.set(bytes.subarray(at, at + into.length)), close() {} };
  return { reader, bytes };
}

describe('expectChecksum', () => {
  it('loads the native CRC-32 at once for bytes reaching 1 MiB, not for fewer', () => {
    const seen = countingNative();
    expectChecksum((1 << 20) - 1);
    expect(seen.loads).toBe(0);
    expectChecksum(1 << 20);
    expect(seen.loads).toBe(1);
    const part = new TextEncoder().encode('123456789');
    expect(crc32(part)).toBe(0xcbf43926);
    expect(seen.bytes).toBe(part.length);
  });

  it('a version 1 file of 1.2 MB read in place goes through the native CRC-32 whole, its first piece included', () => {
    const { reader, bytes } = fileOf(300_000);
    const seen = countingNative();
    let into: Uint8Array | undefined;
    readWeightsInPlace(reader, (entries) => entries.map((e) => (into = new Uint8Array(e.byteLength))));
    expect(seen).toEqual({ loads: 1, bytes: bytes.length - 4 });
    expect(new Float32Array(into!.buffer)[12345]).toBe(Math.fround(Math.sin(12345)));
  });

  it('a small version 1 file, or a version 2 file of any size, read in place never loads it', () => {
    for (const [count, version] of [[1000, 1], [1000, 2], [300_000, 2]] as const) {
      const { reader } = fileOf(count, version);
      const seen = countingNative();
      let into: Uint8Array | undefined;
      readWeightsInPlace(reader, (entries) => entries.map((e) => (into = new Uint8Array(e.byteLength))));
      expect(seen.loads, `${count} values, version ${version}`).toBe(0);
      expect(new Float32Array(into!.buffer)[count - 1]).toBe(Math.fround(Math.sin(count - 1)));
    }
  });
});
