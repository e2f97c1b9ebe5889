import { it, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeNode } from '../../src/ir/build.ts';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { emitJsModule } from '../../compiler/emit/module.ts';

it('probe', async () => {
  const t0 = performance.now();
  const x = makeNode('input', [], { name: 'x', dtype: 'float64', shape: ['N', 3] });
  const r = makeNode('input', [], { name: 'r', dtype: 'float64', shape: ['N', 3] });
  const y = makeNode('tanh', [x]);
  const L = makeNode('reduceSum', [makeNode('mul', [y, r])], { axes: [], keepdims: false });
  const g = gradients(L, [x]);
  const graph = { name: 'probe', inputs: [x, r], outputs: [{ name: 'loss', node: L }, { name: 'g0', node: g.get(x)! }] };
  const { program } = compileGraph(graph);
  const t1 = performance.now();
  const { js } = emitJsModule(program, { graphHash: 'probe' });
  const t2 = performance.now();
  mkdirSync('test/.out/grad-probe', { recursive: true });
  writeFileSync('test/.out/grad-probe/m.js', js);
  const mod = await import('../.out/grad-probe/m.js');
  const t3 = performance.now();
  const m = mod.createModel();
  const out = m.run({ x: new Float64Array([1, 2, 3, 4, 5, 6]), r: new Float64Array(6).fill(1) }, 2);
  console.log(out, t1 - t0, t2 - t1, t3 - t2);
  console.log(js);
});
