// Node's opener of weight files for readWeightsInPlace (weights-reader.ts): positioned synchronous
// reads, which the kernel copies straight into the arrays a model allocated, its WebAssembly
// memory included. node:fs is handed in (node-host.ts asks Node for it), so this file imports no
// Node built-in and the browser-safe runtime may carry it.
import { fileError } from './file-errors.ts';
import { WeightFileError } from './weights.ts';
import type { WeightsReader } from './weights-reader.ts';

/** The most one read asks for (Node refuses more than 2 GiB - 1 bytes a call). */
const MAX_READ = 1 << 30;

/** The parts of node:fs the opener uses. */
export interface NodeFs {
  openSync(path: string, flags: 'r'): number;
  fstatSync(fd: number): { size: number; isDirectory(): boolean };
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  closeSync(fd: number): void;
}

/** Opens `path` for reading; a missing file, a folder or another OS error is a one-line FileError. */
export function openWeightsFile({ openSync, fstatSync, readSync, closeSync }: NodeFs, path: string): WeightsReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fileError('read weight file', path, err);
  }
  let byteLength: number;
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    byteLength = stat.size;
  } catch (err) {
    closeSync(fd);
    throw fileError('read weight file', path, err);
  }
  return {
    byteLength,
    read(into, position) {
      for (let done = 0; done < into.length; ) {
        let n: number;
        try {
          // Node reads at most 2 GiB - 1 bytes a call.
          n = readSync(fd, into, done, Math.min(into.length - done, MAX_READ), position + done);
        } catch (err) {
          throw fileError('read weight file', path, err);
        }
        // The file shrank after it was opened (being rewritten): not what its header describes.
        if (n === 0) throw new WeightFileError(`file is truncated: it ended at byte ${position + done} while being read (${byteLength} bytes when opened)`);
        done += n;
      }
    },
    close: () => closeSync(fd),
  };
}
