// MLP for MNIST (PyTorch style): Linear 784→256 → ReLU → Linear 256→10 (logits). 203,530 parameters.
import { dense, input, model, relu, defaultInit } from 'kiln';

defaultInit('pytorch');
const x = input([784], { name: 'image' });
const h = relu(dense(x, 256, { name: 'fc1' }));
const logits = dense(h, 10, { name: 'fc2' });

export default model({ name: 'mlp256', inputs: x, outputs: { logits } });
