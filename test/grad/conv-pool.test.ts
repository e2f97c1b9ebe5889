// Finite-difference gradient checks of conv2d (stride, asymmetric padding, dilation, groups),
// maxPool2d (stride, padding, overlapping windows; distinct values so every max is unique)
// and globalAvgPool, on NCHW inputs.
import { CASES } from './cases/conv-pool.ts';
import { gradSuite } from './check.ts';

gradSuite('conv-pool', 'gradients of convolution and pooling', CASES);
