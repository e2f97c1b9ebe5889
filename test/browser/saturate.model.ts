// A fixture for the GPU.js edge cases: activations far into saturation once its weights are
// scaled up (tanh and sigmoid of ±100s, softmax of logits in the thousands).
import { layers, sequential } from 'kiln';

export default sequential({ name: 'saturate', input: [4] }, [
  layers.dense(6, { activation: 'tanh' }),
  layers.dense(5, { activation: 'sigmoid' }),
  layers.dense(3, { activation: 'softmax' }),
]);
