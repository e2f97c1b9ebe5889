// Measures what unrolling costs (docs/design/time.md): an LSTM over 20 and 200 steps, compiled for
// inference and for training, its graph's node count, compile time and module size. Skipped
// unless KILN_MEASURE=1 (it takes minutes): `KILN_MEASURE=1 npx vitest run test/dsl/recurrent-time.test.ts`.
import { it } from 'vitest';
import { compileModel } from '../../compiler/compile.ts';
import { resetLayerNames } from '../../src/dsl/context.ts';
import { layers, sequential } from '../../src/dsl/sequential.ts';
import { graphNodes } from '../../src/ir/graph.ts';

it.skipIf(!process.env.KILN_MEASURE)('LSTM(32) over 20 and 200 steps: nodes, compile ms, module bytes', () => {
  const rows: string[] = ['| steps | mode | IR nodes | compile ms | module bytes |', '|---|---|---|---|---|'];
  for (const steps of [20, 200]) {
    for (const training of [false, true]) {
      resetLayerNames();
      const m = sequential({ name: `lstm${steps}`, input: [steps, 2] }, [layers.lstm(32), layers.dense(1)]);
      const t0 = performance.now();
      const c = compileModel(m.graph, { seed: 1, ...(training ? { training: { loss: { kind: 'mse' as const }, optimizer: { kind: 'adam' as const, lr: 1e-3 } } } : {}) });
      const ms = performance.now() - t0;
      rows.push(`| ${steps} | ${training ? 'training' : 'inference'} | ${graphNodes(m.graph).length} | ${ms.toFixed(0)} | ${c.js.length} |`);
      console.log(rows[rows.length - 1]);
    }
  }
  console.log(rows.join('\n'));
}, 1_800_000);
