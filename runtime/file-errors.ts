// The one place that turns the operating system's error codes (ENOENT, EISDIR, EFBIG, …) into
// one-line explanations, for every message Kiln prints about a file, a folder or a port.

/** What each code means to a user, and what to do about it. */
const REASONS: ReadonlyMap<string, string> = new Map([
  ['ENOENT', 'no such file or folder'],
  ['EISDIR', 'it is a folder, not a file: give a file name'],
  ['ENOTDIR', 'a part of the path is a file, not a folder'],
  ['EACCES', 'permission denied: choose a place you can write to'],
  ['EPERM', 'operation not permitted: choose a place you can write to'],
  ['ENAMETOOLONG', 'the name is too long: use a shorter file name'],
  ['ENOSPC', 'no space left on the device: free some space or write elsewhere'],
  ['EDQUOT', 'disk quota exceeded: free some space or write elsewhere'],
  ['EFBIG', 'the file would exceed the file-size limit (ulimit -f): raise the limit or write elsewhere'],
  ['EROFS', 'the file system is read-only: write elsewhere'],
  ['EEXIST', 'something already exists there'],
  ['ENOTEMPTY', 'a folder that is not empty is in the way'],
  ['ELOOP', 'too many symbolic links in the path'],
  ['EMFILE', 'too many open files'],
  ['EIO', 'input/output error on the device'],
  ['EBUSY', 'the file or device is busy'],
  ['EXDEV', 'the temporary file and the target are on different file systems'],
  ['EINVAL', 'the file system does not accept this name or operation'],
  ['EADDRINUSE', 'the port is already in use: stop the other server or choose another port'],
  ['EADDRNOTAVAIL', 'the address is not available on this machine'],
]);

/** The `code` of a Node system error (`ENOENT`, …), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A one-line reason for a system error: the explanation and the code, e.g. `no such file or folder (ENOENT)`. */
export function osReason(err: unknown): string {
  const code = errorCode(err);
  const known = code === undefined ? undefined : REASONS.get(code);
  if (known) return `${known} (${code})`;
  const message = err instanceof Error ? err.message : String(err);
  // Node's own messages start with the code and end with the syscall and path: keep the first line.
  return message.split('\n')[0];
}

/** A file or folder Kiln could not read or write; the message names the path and the reason. */
export class FileError extends Error {
  override name = 'FileError';
  constructor(
    readonly path: string,
    readonly code: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `cannot <action> <path>: <reason>` as a FileError that keeps the original error as its cause. */
export function fileError(action: string, path: string, err: unknown): FileError {
  if (err instanceof FileError) return err;
  return new FileError(path, errorCode(err), `cannot ${action} ${path}: ${osReason(err)}`, { cause: err });
}
