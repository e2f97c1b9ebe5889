// Finite-difference gradient checks of the broadcasting binary ops, with every kind of
// broadcast (trailing, inner size-1, over the batch, scalar, both sides), in float64.
import { CASES } from './cases/binary.ts';
import { gradSuite } from './check.ts';

gradSuite('binary', 'gradients of binary ops', CASES);
