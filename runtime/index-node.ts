// What `kiln/runtime` resolves to in Node (the "node" export condition): the browser-safe runtime,
// with zlib's native CRC-32 for checking weight files (a model's first load checks megabytes).
import * as zlib from 'node:zlib';
import { useNativeCrc32 } from './crc32.ts';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
if (typeof native === 'function') useNativeCrc32((bytes, previous) => native(bytes, previous));

export * from './index.ts';
