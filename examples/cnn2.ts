// Two-block CNN for MNIST: Conv2D 32 3×3 ReLU → MaxPool 2 → Conv2D 64 3×3 ReLU → MaxPool 2 → Flatten
// → Dense 512 ReLU → Dense 10 (logits). 843,658 parameters.
import { layers, sequential } from 'kiln';

export default sequential({ name: 'cnn2', input: [28, 28, 1], channelsLast: true }, [
  layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
  layers.maxPool2d(2),
  layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
  layers.maxPool2d(2),
  layers.flatten(),
  layers.dense(512, { activation: 'relu' }),
  layers.dense(10),
]);
