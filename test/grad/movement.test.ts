// Finite-difference gradient checks of the movement ops: reshape, transpose, concat, slice
// (steps, negative steps, negative indices) and expand (broadcast to a batched shape).
import { CASES } from './cases/movement.ts';
import { gradSuite } from './check.ts';

gradSuite('movement', 'gradients of movement ops', CASES);
