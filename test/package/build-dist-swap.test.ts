// scripts/build-dist.mjs rebuilds the runtime bundles that every emitted module imports while other
// test files run (test/package/pack.test.ts builds first). It used to empty dist/runtime/bundle/
// and write it again, and a module imported in that window failed to resolve `kiln/runtime`; it
// now builds in a staging folder and renames each file into place. Watched from here, no bundle
// may be missing at any moment of a rebuild.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.ts';

const BUNDLES = ['inference.js', 'index.js', 'index-node.js', 'node.js', 'gpujs.js'].map((f) => path.join(ROOT, 'dist', 'runtime', 'bundle', f));

describe('scripts/build-dist.mjs', () => {
  it('never leaves a runtime bundle missing while it rebuilds them', async () => {
    expect(BUNDLES.filter((f) => !existsSync(f)), 'bundles before (npm run build)').toEqual([]);
    const child = spawn(process.execPath, ['scripts/build-dist.mjs'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', done));
    let running = true;
    void exited.then(() => (running = false));
    let looks = 0;
    const missing = new Set<string>();
    while (running) {
      for (const f of BUNDLES) if (!existsSync(f)) missing.add(path.basename(f));
      looks++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited, stderr).toBe(0);
    // The build takes hundreds of milliseconds: thousands of looks, not a handful.
    expect(looks).toBeGreaterThan(100);
    expect([...missing]).toEqual([]);
    expect(existsSync(path.join(ROOT, 'dist', 'runtime', 'bundle.next')), 'staging folder left behind').toBe(false);
  }, 60_000);
});
