// What `kiln/runtime` resolves to in Node (the "node" export condition): the browser-safe runtime,
// with zlib's native CRC-32 for checking weight files, and weight files read by path straight
// into a model's memory (createModel('model.weights.bin')).
//
// Node's built-ins are taken with process.getBuiltinModule (Node 20.16+), and only when needed:
// importing node:zlib as an ES module loads Node's streams at import, 1-2.5 ms of a first
// prediction's 10-20, which a small model's checksum need not pay (crc32.ts loads zlib once 1 MiB
// has been checked; importing node:fs as an ES module loads the streams too). Older Nodes have no
// zlib CRC-32 either (WebAssembly then); there, a path is refused in one line (pass the bytes).
import { useNativeCrc32 } from './crc32.ts';
import { openWeightsFile, type NodeFs } from './weights-opener-node.ts';
import { useWeightsOpener } from './weights-reader.ts';

type Zlib = { crc32?: (data: Uint8Array, value?: number) => number };
const getBuiltin = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule;

if (getBuiltin) {
  useNativeCrc32(() => {
    const native = (getBuiltin('node:zlib') as Zlib).crc32;
    return typeof native === 'function' ? (bytes, previous) => native(bytes, previous) : undefined;
  });
  useWeightsOpener((path) => openWeightsFile(getBuiltin('node:fs') as NodeFs, path));
}

export * from './index.ts';
// What kiln/runtime/node's own modules take from the modules bundled here (scripts/build-dist.mjs
// imports them from this entry, so that both share one copy): not part of kiln/runtime's types.
export { FileError, osReason, errorCode, fileError } from './file-errors.ts';
