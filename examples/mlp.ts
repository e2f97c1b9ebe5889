// MLP for MNIST (Keras style): Dense 784→64 ReLU → 64 ReLU → 10 softmax. 55,050 parameters.
import { layers, sequential } from 'kiln';

export default sequential({ name: 'mlp', input: [784] }, [
  layers.dense(64, { activation: 'relu' }),
  layers.dense(64, { activation: 'relu' }),
  layers.dense(10, { activation: 'softmax' }),
]);
