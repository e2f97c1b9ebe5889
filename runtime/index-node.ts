// What `kiln/runtime` resolves to in Node (the "node" export condition): the browser-safe runtime,
// with zlib's native CRC-32 for checking weight files (a model's first load checks megabytes), and
// weight files read by path straight into a model's memory (createModel('model.weights.bin')).
import * as zlib from 'node:zlib';
import { useNativeCrc32 } from './crc32.ts';
import { openWeightsFile } from './weights-opener-node.ts';
import { useWeightsOpener } from './weights-reader.ts';

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
if (typeof native === 'function') useNativeCrc32((bytes, previous) => native(bytes, previous));
useWeightsOpener(openWeightsFile);

export * from './index.ts';
