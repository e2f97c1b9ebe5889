// Finite-difference gradient checks of the unary elementwise ops (activations, math functions,
// clip, and the no-op views), through the emitted module, in float64.
import { CASES } from './cases/unary.ts';
import { gradSuite } from './check.ts';

gradSuite('unary', 'gradients of unary ops', CASES);
