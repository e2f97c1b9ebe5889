// The warm-up of a model's larger kernels (compiler/codegen/wasm/wasm-module.ts's warm(), which
// runtime/simd.ts's openSimd calls): every SIMD kernel does nothing for an empty row range, so
// warm() may call the larger ones many times with one to make V8 compile them with TurboFan before
// the first prediction. Checked here: that no kernel of the examples (model and trainer, every
// kernel family) writes a byte for an empty range, that V8 (Node's, under --allow-natives-syntax)
// has the kernels warm() names optimised after it and no other kernel, which
// kernels those are for cnn2 (multiply-adds counted by hand), and that openSimd runs warm().
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { FunctionBody } from '../../compiler/codegen/wasm/binary.ts';
import { encodeModule } from '../../compiler/codegen/wasm/wasm-module.ts';
import { renderSimdKernel, simdListing } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { fromBase64 } from '../../runtime/model-io.ts';
import { openSimd, SimdMemory, simdSupported, WARM_EXPORT } from '../../runtime/simd.ts';
import { loadExampleGraph } from '../e2e/helpers.ts';

/** Each SIMD binary of an example's module compiled with a training step: [declaration name, bytes]. */
async function simdBinaries(example: string): Promise<{ js: string; binaries: [string, Uint8Array][] }> {
  const graph = await loadExampleGraph(example);
  const training = { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) };
  const { js } = compileModel(graph, { seed: 1, training });
  const binaries = [...js.matchAll(/const (\w+) = \/\* @__PURE__ \*\/ fromBase64\('([A-Za-z0-9+/=]*)'\)/g)].map((m): [string, Uint8Array] => [m[1], fromBase64(m[2])]);
  return { js, binaries };
}

/** The names warm() calls, as the module's comment on its binary gives them. */
function warmedNames(js: string): string[] {
  const m = /Its warm\(\) runs ([\w, ]+) on empty row ranges/.exec(js);
  return m ? m[1].split(', ') : [];
}

describe.skipIf(!simdSupported())('kernels on an empty row range, and warm()', () => {
  it.each(['cnn', 'cnn2', 'lstm-adding', 'gru-copy', 'transformer-sort', 'conv1d-signal'])('%s: no kernel writes a byte for an empty row range, warm() included', async (example) => {
    const { binaries } = await simdBinaries(example);
    expect(binaries.map(([name]) => name)).toContain('trainerSimdWasm');
    for (const [name, bytes] of binaries) {
      const memory = new SimdMemory();
      const { exports } = memory.instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>));
      // The first 4 MiB in a pattern, with every address a kernel is given inside it.
      const view = Buffer.from(memory.memory.buffer, 0, 4 << 20);
      for (let i = 0; i < view.length; i++) view[i] = (i * 2654435761) >>> 24;
      const before = Buffer.from(view);
      const firstChange = () => (view.equals(before) ? -1 : view.findIndex((b, i) => b !== before[i]));
      const kernels = Object.entries(exports).filter(([, f]) => typeof f === 'function' && (f as () => void).length >= 4) as [string, (...a: number[]) => void][];
      expect(kernels.length, name).toBeGreaterThan(0);
      for (const [kernel, f] of kernels) {
        for (const [batch, row] of [[1, 0], [4, 2], [64, 64]]) {
          const addresses = Array.from({ length: f.length - 3 }, (_, i) => 65536 * (i + 1));
          f(batch, row, row, ...addresses);
          const changed = firstChange();
          expect(changed, `${name}.${kernel}(batch ${batch}, rows [${row}, ${row})) wrote byte ${changed}`).toBe(-1);
        }
      }
      (exports[WARM_EXPORT] as (() => void) | undefined)?.();
      expect(firstChange(), `${name}.warm() wrote`).toBe(-1);
    }
  });

  it("cnn2's warm() names the products of 2^18 multiply-adds or more at batch 1 and other kernels of 2^22: dense_1's single-row part alone", async () => {
    const { js } = await simdBinaries('cnn2');
    // By hand, at batch 1: conv2d_1 26·26·32 outputs × 3·3·1 = 194,688; conv2d_2 11·11·64 × 3·3·32 =
    // 2,230,272; dense_1 1600 × 512 = 819,200; dense_2 512 × 10 = 5,120; pools and the rest: none.
    // The manifest's kernels in order (layer names depend on what this process built before).
    const kernels = [...js.matchAll(/\{ name: "(k\d+)", ops: "([^"]*)", layers: \[[^\]]*\] \}/g)].map((m) => ({ name: m[1], ops: m[2] }));
    const convs = kernels.filter((k) => k.ops.startsWith('conv2d')).map((k) => k.name);
    const products = kernels.filter((k) => k.ops.startsWith('matmul')).map((k) => k.name);
    expect([convs.length, products.length]).toEqual([2, 2]);
    // A product over the batch runs a call of fewer than 4 rows in `<name>_rows`: what a prediction at batch 1 runs.
    // conv2d_2 (2,230,272 < 2^22 = 4,194,304) runs well enough in Liftoff: not warmed.
    expect(warmedNames(js)).toEqual([`${products[0]}_rows`]);
    // Only the model's products have that part: a trainer's steps take batches.
    const trainerTable = /function trainerSimdKernels\(s\) \{[\s\S]*?\n\}\n/.exec(js)![0];
    expect(trainerTable).toContain('(hi - lo >= 16 ?');
    expect(trainerTable).not.toContain('_rows');
    // Each kernel's text starts by skipping everything for an empty range (the branch that warm() takes).
    const { program } = compileModel(await loadExampleGraph('cnn2'), { seed: 1 });
    for (const k of program.kernels) {
      const s = renderSimdKernel(k);
      if (!s) continue;
      const lines = simdListing(k, s).split('\n').map((l) => l.trim());
      const body = lines.slice(lines.findIndex((l) => l.startsWith('(func')) + 1).filter((l) => !l.startsWith('(local'));
      expect(body.slice(0, 5), k.name).toEqual(['block ;; an empty row range [lo, hi) skips everything', 'local.get 2', 'local.get 1', 'i32.le_s', 'br_if 0']);
    }
    // The trainer's binary has no warm(): its kernels tier up in the first steps.
    expect(js.match(/Its warm\(\) runs/g)).toHaveLength(1);
  });

  it('after warm(), V8 has compiled the kernels it names with TurboFan, and no other kernel with it', async () => {
    const { js, binaries } = await simdBinaries('cnn2');
    const bytes = binaries.find(([name]) => name === 'simdWasm')![1];
    const warmed = warmedNames(js);
    // A fresh node: instantiate over a shared memory (and a scratch address where imported), warm(), then poll V8's tiers for up to 20 s.
    const script = `
      const bytes = Buffer.from(process.argv[1], 'base64');
      const module = new WebAssembly.Module(bytes);
      const env = { memory: new WebAssembly.Memory({ initial: 256, maximum: 32768, shared: true }) };
      if (WebAssembly.Module.imports(module).some((i) => i.name === 'scratch')) env.scratch = new WebAssembly.Global({ value: 'i32' }, 1 << 20);
      const e = new WebAssembly.Instance(module, { env }).exports;
      e.warm();
      const warmed = ${JSON.stringify(warmed)};
      const tier = (f) => (%IsTurboFanFunction(f) ? 'turbofan' : %IsLiftoffFunction(f) ? 'liftoff' : 'not compiled');
      const start = Date.now();
      while (Date.now() - start < 20000 && !warmed.every((k) => tier(e[k]) === 'turbofan')) {}
      console.log(JSON.stringify(Object.fromEntries(Object.keys(e).map((k) => [k, tier(e[k])]))));`;
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script, Buffer.from(bytes).toString('base64')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const tiers = JSON.parse(r.stdout) as Record<string, string>;
    expect(warmed.length).toBeGreaterThan(0);
    for (const [name, tier] of Object.entries(tiers)) {
      if (name === WARM_EXPORT) continue;
      // The others were never called: not compiled at all where V8 compiles lazily (Node 20), never optimised.
      if (warmed.includes(name)) expect(tier, name).toBe('turbofan');
      else expect(tier, name).not.toBe('turbofan');
    }
  });

  it("openSimd runs a module's warm() as it opens it", () => {
    // A module whose warm() stores 7 at byte 64 of the memory it imports.
    const body = new FunctionBody(0);
    body.i32(64).f32(7).f32Store(0);
    const s = openSimd(encodeModule([{ name: WARM_EXPORT, params: 0, body }]))!;
    expect(new Float32Array(s.memory.memory.buffer, 64, 1)[0]).toBe(7);
  });
});
