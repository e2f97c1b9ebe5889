// Node entry point of the Kiln runtime: the browser-safe runtime plus filesystem-backed helpers.

export * from './index-node.ts';
export { loadMnist, mnistDataDir } from './mnist.ts';
export type { MnistData, MnistOptions, MnistSplit } from './mnist.ts';
export { readWeightsFile, readWeightsFileSync, writeWeightsFile, writeWeightsFileSync } from './weights-file.ts';
export type { WeightFileContents } from './weights-file.ts';
export { writeFileAtomic, writeFileAtomicSync, ensureFolderSync, checkWritableFile, checkWritableFolder } from './atomic-write.ts';
export type { FileData } from './atomic-write.ts';
export { FileError, osReason } from './file-errors.ts';
export { ChunkedRows, DEFAULT_CHUNK_BYTES, DEFAULT_CACHE_BYTES } from './data/chunked-rows.ts';
export { ThreadPool, createThreadPool, DEFAULT_THRESHOLD, DEFAULT_SIMD_THRESHOLD, PoolError } from './parallel.ts';
export type { KernelFn, KernelSplit } from './parallel.ts';
