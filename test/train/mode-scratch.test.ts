import { it } from 'vitest';
import { dense, dropout, batchNorm, input, model } from '../../src/index.ts';
import { compileModel } from '../../compiler/compile.ts';
import { writeFileSync } from 'node:fs';
it('x', () => {
  const x = input([4]);
  const y = dense(dropout(x, 0.5), 2);
  const m = model({ name: 'dd', inputs: x, outputs: y });
  const c = compileModel(m.graph, { seed: 1, training: { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0.1 } } });
  writeFileSync('/tmp/kx/dd.ts', c.ts);
  const x2 = input([3]);
  const y2 = batchNorm(x2, { momentum: 0.8 });
  const m2 = model({ name: 'bn', inputs: x2, outputs: y2 });
  const c2 = compileModel(m2.graph, { seed: 1, training: { loss: { kind: 'mse' }, optimizer: { kind: 'sgd', lr: 0 } } });
  writeFileSync('/tmp/kx/bn.ts', c2.ts);
});
