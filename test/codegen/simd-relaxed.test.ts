// The relaxed-SIMD variant (f32x4.relaxed_madd) of every SIMD contraction: Node 20 validates it
// only under --experimental-wasm-relaxed-simd, so the module is loaded in a child node started with
// that flag, which reports that the relaxed module ran and what it computed; both variants are
// compared with the float64 reference interpreter at every tile edge (4 rows, 8 and 16 columns,
// 4 lanes, 4 × 2 dot tiles), odd k, batched rows, transposed operands and the blocked path.
import { describe, expect, it } from 'vitest';
import { encodeModule } from '../../compiler/codegen/wasm/wasm-module.ts';
import { chooseTile, contractionOf } from '../../compiler/codegen/wasm/contraction.ts';
import { renderSimdKernel } from '../../compiler/codegen/wasm/simd-kernel.ts';
import { openSimd, relaxedSimdSupported } from '../../runtime/simd.ts';
import { BLOCKED, emitToFile, feedsAndReference, products, runRelaxed, worstError, type EdgeCase } from './simd-edge-cases.ts';

const RTOL = 1e-4;
const ATOL = 1e-4;
const EDGES: EdgeCase[] = [3, 13].flatMap((k) => [1, 3, 5, 8, 9, 15, 16, 17, 33].flatMap((m) => products(k, m)));

describe('relaxed-SIMD variant', () => {
  it('every product kernel carries a relaxed body that uses relaxed_madd (a dot tile only where its reduction fills a vector)', () => {
    const { program } = emitToFile('relaxed_plan', EDGES);
    const rendered = program.kernels.map((k) => [k, renderSimdKernel(k)] as const).flatMap(([k, s]) => (s ? [{ k, s }] : []));
    expect(rendered.length).toBeGreaterThan(40);
    for (const { k, s } of rendered) {
      // A dot tile over a reduction shorter than 4 lanes is one masked step: a masked product keeps mul + add.
      const c = contractionOf(k)!;
      const tile = chooseTile(k, c);
      const masked = tile?.kind === 'dot' && Number(tile.red.extent) < 4;
      expect(s.fn.relaxed, s.fn.name).toBeDefined();
      if (!masked) expect(s.fn.relaxed?.listing('f', []) ?? '', `${s.fn.name}: ${s.how}`).toMatch(/f32x4.relaxed_madd/);
    }
    for (const { s } of rendered) expect(s.fn.body.listing('f', []), s.fn.name).not.toMatch(/relaxed/);
  });

  it('this engine (Node 20, no flag) runs the fallback: the module validates, relaxed SIMD does not', () => {
    const { program } = emitToFile('relaxed_fallback', products(5, 9));
    const bytes = encodeModule(program.kernels.map((k) => renderSimdKernel(k)).flatMap((s) => (s ? [s.fn] : [])));
    expect(WebAssembly.validate(bytes)).toBe(true);
    const expected = !!process.versions.node && Number(process.versions.node.split('.')[0]) < 22 ? false : relaxedSimdSupported();
    expect(relaxedSimdSupported()).toBe(expected);
    expect(openSimd(bytes)?.memory.relaxed).toBe(expected);
  });

  for (const [family, cases, batches] of [['edges', EDGES, [1, 3, 5, 9]], ['blocked', BLOCKED, [19]]] as const) {
    it(`${family}: under --experimental-wasm-relaxed-simd the relaxed kernels run and agree with the interpreter (batch ${batches.join(', ')})`, () => {
      for (const batch of batches) {
        const { file } = emitToFile(`relaxed_${family}_${batch}`, cases);
        const { feeds, want } = feedsAndReference(cases, batch);
        const { relaxed, outputs } = runRelaxed(file, feeds, batch);
        expect(relaxed, 'relaxed module instantiated').toBe(true);
        for (const c of cases) expect(worstError(outputs[c.name], want[c.name], RTOL, ATOL), `${c.name}, batch ${batch}`).toBeLessThanOrEqual(1);
      }
    }, 120_000);
  }
});
