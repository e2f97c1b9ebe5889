// Under Node (20.16+: process.getBuiltinModule), the runtime reads weight files by path straight
// into a model's memory, and uses zlib's CRC-32 for large version 1 weight files (version 2's
// XXH32 needs no zlib). Browser-safe: it imports no Node built-in (it asks the host for them, when
// first needed), so the browser entry and a standalone module (which bundles that entry) get both
// when they run under Node, and a browser neither. Importing node:zlib or node:fs as ES modules
// would also load Node's streams, 1-2.5 ms of a first prediction (crc32.ts).
import { useNativeCrc32 } from './crc32.ts';
import { openWeightsFile, type NodeFs } from './weights-opener-node.ts';
import { useWeightsOpener } from './weights-reader.ts';

type Zlib = { crc32?: (data: Uint8Array, value?: number) => number };
const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;

if (typeof getBuiltin === 'function') {
  useNativeCrc32(() => {
    const native = (getBuiltin('node:zlib') as Zlib | undefined)?.crc32;
    return typeof native === 'function' ? (bytes, previous) => native(bytes, previous) : undefined;
  });
  useWeightsOpener((path) => openWeightsFile(getBuiltin('node:fs') as NodeFs, path));
}
