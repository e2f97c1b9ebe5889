// Finite-difference gradient checks of matmul: all four transA/transB combinations, the dense
// layer, batched [N, M, K] operands, broadcast leading dims, and a product over the batch.
import { CASES } from './cases/linalg.ts';
import { gradSuite } from './check.ts';

gradSuite('linalg', 'gradients of matmul', CASES);
