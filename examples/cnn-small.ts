// Small CNN for MNIST: Conv2D 32 3×3 ReLU → MaxPool 2×2 → Flatten → Dense 10 softmax. 54,410 parameters.
import { layers, sequential } from 'kiln';

export default sequential({ name: 'cnn_small', input: [28, 28, 1], channelsLast: true }, [
  layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
  layers.maxPool2d({ poolSize: 2 }),
  layers.flatten(),
  layers.dense(10, { activation: 'softmax' }),
]);
