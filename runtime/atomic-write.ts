// Node's crash-safe file writes for every file Kiln writes (weights, trainer state, emitted
// modules, pictures, reports): temporary file in the same folder, write, fsync, rename. A failed
// write (disk full, file-size limit, interrupted process) leaves the old file as it was.
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FileError, errorCode, fileError } from './file-errors.ts';

/** The bytes to write: text is written as UTF-8. */
export type FileData = string | Uint8Array;

const bytesOf = (data: FileData): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/**
 * A unique hidden name beside `path`, so the rename stays on one file system. The target's name
 * is shortened: a name that is itself near the length limit must not make the temporary one fail.
 */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path).slice(0, 48)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The permission bits of an existing target (kept by the replacement), or undefined. */
function existingMode(path: string): number | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? s.mode & 0o7777 : undefined;
  } catch {
    return undefined;
  }
}

/** Flushes the folder entry of a rename to disk where the platform allows it (not on Windows). */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Durability of the folder entry is best effort; the file's own bytes are already synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `data` to `path` atomically: either the complete new file is there afterwards, or the
 * old one (or none) is, byte for byte. The folder must exist.
 * @throws FileError `cannot write <path>: <reason> (<CODE>)`; the temporary file is removed.
 */
export function writeFileAtomicSync(path: string, data: FileData): void {
  const bytes = bytesOf(data);
  const temp = tempPathFor(path);
  const mode = existingMode(path);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o666);
    if (mode !== undefined) fchmodSync(fd, mode);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw fileError('write', path, err);
  }
  syncFolder(dirname(resolve(path)));
}

/** {@link writeFileAtomicSync} without blocking the event loop; the same guarantee. */
export async function writeFileAtomic(path: string, data: FileData): Promise<void> {
  const bytes = bytesOf(data);
  const temp = tempPathFor(path);
  const mode = existingMode(path);
  try {
    const handle = await open(temp, 'wx', 0o666);
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw fileError('write', path, err);
  }
  syncFolder(dirname(resolve(path)));
}

/**
 * Makes `folder` and any missing parents, one level at a time. (Node's `mkdirSync(…, { recursive })`
 * loops for ever where a folder cannot be made, e.g. under /proc.)
 * @throws FileError naming the folder and the reason.
 */
export function ensureFolderSync(folder: string): void {
  const missing: string[] = [];
  for (let p = resolve(folder); ; p = dirname(p)) {
    let isFolder: boolean;
    try {
      isFolder = statSync(p).isDirectory();
    } catch (err) {
      if (errorCode(err) === 'ENOENT' && dirname(p) !== p) {
        missing.push(p);
        continue;
      }
      throw fileError('use the folder', folder, err);
    }
    if (!isFolder) throw new FileError(folder, 'ENOTDIR', `cannot use the folder ${folder}: ${p} is a file, not a folder`);
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (err) {
      if (errorCode(err) === 'EEXIST' && statSync(p).isDirectory()) continue;
      // mkdir says ENOENT where a file system (procfs, sysfs) has no room for new folders.
      if (errorCode(err) === 'ENOENT') throw new FileError(folder, 'ENOENT', `cannot create the folder ${folder}: this file system does not allow a folder there`);
      throw fileError('create the folder', folder, err);
    }
  }
}

/**
 * Checks, before any long work, that a file can be written at `path`: its folder exists or is
 * made, is writable, and `path` is not a folder and not a name the file system refuses.
 * @throws FileError naming the path and what is wrong.
 */
export function checkWritableFile(path: string): void {
  ensureFolderSync(dirname(resolve(path)));
  try {
    accessSync(dirname(resolve(path)), constants.W_OK);
  } catch (err) {
    throw fileError('write', path, err);
  }
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (err) {
    // ENOENT is the usual case (a new file); ENAMETOOLONG and the like are answered here.
    if (errorCode(err) !== 'ENOENT') throw fileError('write', path, err);
  }
  if (isFolder) throw new FileError(path, 'EISDIR', `cannot write ${path}: it is a folder, not a file: give a file name`);
}

/** Checks that `folder` exists or can be made and is writable. @throws FileError. */
export function checkWritableFolder(folder: string): void {
  ensureFolderSync(folder);
  try {
    accessSync(folder, constants.W_OK);
  } catch (err) {
    throw fileError('write to the folder', folder, err);
  }
}

