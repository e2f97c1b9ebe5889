// Which WebAssembly memory an array's buffer belongs to, for code that reads arrays in place from
// WebAssembly (the weight-file checksum reads a model's weights where they were read to, instead
// of copying them into a memory of its own). A memory's buffer is replaced when it grows, and
// arrays made before keep the old one, so every buffer handed out is noted (SimdMemory does).
const owners = new WeakMap<ArrayBufferLike, WebAssembly.Memory>();

/** Notes that `memory.buffer`, as it is now, belongs to `memory`. */
export function noteMemoryBuffer(memory: WebAssembly.Memory): ArrayBufferLike {
  const buffer = memory.buffer;
  owners.set(buffer, memory);
  return buffer;
}

/** The memory whose buffer `buffer` is (noted by noteMemoryBuffer), if any. */
export function memoryOf(buffer: ArrayBufferLike): WebAssembly.Memory | undefined {
  return owners.get(buffer);
}
