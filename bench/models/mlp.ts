// The benchmark's MLP (../shared/PEERS.md): Dense 784→256 ReLU → Dense 256→10 softmax.
import { layers, sequential } from '../../src/index.ts';

export default sequential({ name: 'mlp', input: [784] }, [
  layers.dense(256, { activation: 'relu' }),
  layers.dense(10, { activation: 'softmax' }),
]);
