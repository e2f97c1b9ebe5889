// LeNet with the two pools forgotten, as one seed text writes it: the view expects 320 values per
// image but the second convolution leaves 20×20×20 = 8000. `kiln check` rejects it.
import { conv2d, dense, defaultInit, input, logSoftmax, model, relu, reshape } from 'kiln';

defaultInit('pytorch');
const x = input([1, 28, 28], { name: 'image' });
let h = relu(conv2d(x, { filters: 10, kernelSize: 5, name: 'conv1' }));
h = relu(conv2d(h, { filters: 20, kernelSize: 5, name: 'conv2' }));
h = reshape(h, [-1, 320], { name: 'view' });
h = relu(dense(h, 50, { name: 'fc1' }));
const y = logSoftmax(dense(h, 10, { name: 'fc2' }));

export default model({ name: 'lenet_bug', inputs: x, outputs: { logProbs: y } });
