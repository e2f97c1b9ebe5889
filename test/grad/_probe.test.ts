import { it } from 'vitest';
import { makeNode } from '../../src/ir/build.ts';
import { checkGrads } from './check.ts';

it('probe', async () => {
  const t0 = performance.now();
  for (const op of ['tanh', 'exp', 'sigmoid']) {
    const r = await checkGrads({ name: op, inputs: [{ shape: ['N', 3, 4] }], build: ([x]) => makeNode(op, [x]) }, 'probe');
    console.log(r, performance.now() - t0);
  }
});
