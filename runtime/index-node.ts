// What `kiln/runtime` resolves to in Node (the "node" export condition): the runtime of index.ts,
// which under Node uses zlib's CRC-32 and reads weight files by path (node-host.ts), plus what
// kiln/runtime/node's own modules take from it.
export * from './index.ts';
// kiln/runtime/node's modules import these from this entry (scripts/build-dist.mjs bundles them
// over it, so that both share one copy): not part of kiln/runtime's types.
export { FileError, osReason, errorCode, fileError } from './file-errors.ts';
