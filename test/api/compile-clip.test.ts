// compile()'s train.clipNorm reaches the compiled step: it was put beside the optimizer, where the
// compiler does not read it, so the module clipped nothing.
import { describe, expect, it } from 'vitest';
import { compile, layers, sequential } from '../../api/index.ts';

const net = () => sequential({ name: 'clipped', input: [2] }, [layers.dense(1, { name: 'fc' })]);
const sgd = { kind: 'sgd', lr: 0.1 } as const;

describe('compile() train.clipNorm', () => {
  it('compiles the same step as optimizer.clipNorm, and not the unclipped one', async () => {
    const [plain, beside, inside] = await Promise.all([
      compile(net(), { train: { optimizer: sgd, loss: 'mse' } }),
      compile(net(), { train: { optimizer: sgd, loss: 'mse', clipNorm: 0.5 } }),
      compile(net(), { train: { optimizer: { ...sgd, clipNorm: 0.5 }, loss: 'mse' } }),
    ]);
    expect(beside.js).not.toBe(plain.js);
    expect(beside.js).toBe(inside.js);
  });

  it('refuses two different clip norms in one line', async () => {
    await expect(compile(net(), { train: { optimizer: { ...sgd, clipNorm: 1 }, loss: 'mse', clipNorm: 2 } })).rejects.toThrow(
      /^compile\(\): train\.clipNorm \(2\) and train\.optimizer\.clipNorm \(1\) differ: give one$/,
    );
  });
});
