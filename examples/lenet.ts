// LeNet as the PyTorch MNIST example writes it: two 5×5 convolutions with pools, then 320→50→10.
// 21,840 parameters. Outputs log-probabilities (log_softmax), as the original does.
import { conv2d, dense, defaultInit, input, logSoftmax, maxPool2d, model, relu, reshape } from 'kiln';

defaultInit('pytorch');
const x = input([1, 28, 28], { name: 'image' });
let h = relu(maxPool2d(conv2d(x, { filters: 10, kernelSize: 5, name: 'conv1' }), 2));
h = relu(maxPool2d(conv2d(h, { filters: 20, kernelSize: 5, name: 'conv2' }), 2));
h = reshape(h, [-1, 320], { name: 'view' });
h = relu(dense(h, 50, { name: 'fc1' }));
const y = logSoftmax(dense(h, 10, { name: 'fc2' }));

export default model({ name: 'lenet', inputs: x, outputs: { logProbs: y } });
