// Finite-difference gradient checks of the reductions (sum, mean, max: over inner axes, the
// batch axis 0 and everything, with and without keepdims) and of softmax and logSoftmax.
import { CASES } from './cases/reduce.ts';
import { gradSuite } from './check.ts';

gradSuite('reduce', 'gradients of reductions and softmax', CASES);
