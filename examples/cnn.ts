// CNN for MNIST (Keras style): Conv2D 32 3×3 ReLU → MaxPool 2×2 → Flatten → Dense 128 ReLU → Dense 10 softmax.
// 693,962 parameters. Images arrive as 28×28×1 (channels last) and are transposed to NCHW.
import { layers, sequential } from 'kiln';

export default sequential({ name: 'cnn', input: [28, 28, 1], channelsLast: true }, [
  layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
  layers.maxPool2d({ poolSize: 2 }),
  layers.flatten(),
  layers.dense(128, { activation: 'relu' }),
  layers.dense(10, { activation: 'softmax' }),
]);
