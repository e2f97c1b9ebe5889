// CIFAR-10 CNN: Conv 3→64 k3 pad 1 → ReLU → MaxPool 2 → Conv 64→128 k3 pad 1 → ReLU → MaxPool 2
// → Linear 8192→1024 → ReLU → Linear 1024→10 softmax, on 3×32×32. 8,475,530 parameters.
import { layers, sequential } from 'kiln';

export default sequential({ name: 'cifar_cnn', input: [3, 32, 32], init: 'pytorch' }, [
  layers.conv2d({ filters: 64, kernelSize: 3, padding: 1, activation: 'relu' }),
  layers.maxPool2d(2),
  layers.conv2d({ filters: 128, kernelSize: 3, padding: 1, activation: 'relu' }),
  layers.maxPool2d(2),
  layers.flatten(),
  layers.dense(1024, { activation: 'relu' }),
  layers.dense(10, { activation: 'softmax' }),
]);
