// Leaves of the graph: inputs fed at run time, parameters (weights), and small constants.
import { isDType, type DType } from '../dtype.ts';
import { RuleError } from '../errors.ts';
import { numel, validateShape, type Dim } from '../shape.ts';
import { defineOp } from './types.ts';
import type { InitSpec } from './init-spec.ts';

export interface InputAttrs {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface ParamAttrs extends InputAttrs {
  init: InitSpec;
  /** Updated by optimizers; false for state such as batch-norm running statistics. */
  trainable: boolean;
}

export interface ConstAttrs {
  dtype: DType;
  shape: Dim[];
  /** Row-major values; a single value is broadcast to the whole shape. */
  values: number[];
}

function leafType(a: { dtype: DType; shape: Dim[] }, what: string) {
  if (!isDType(a.dtype)) throw new RuleError(`${what}: unknown dtype ${JSON.stringify(a.dtype)}`);
  validateShape(a.shape);
  return { dtype: a.dtype, shape: a.shape };
}

export const sourceOps = {
  input: defineOp<InputAttrs>({ kind: 'source', arity: 0, infer: (_i, a) => leafType(a, 'input') }),
  param: defineOp<ParamAttrs>({ kind: 'source', arity: 0, infer: (_i, a) => leafType(a, 'param') }),
  const: defineOp<ConstAttrs>({
    kind: 'source',
    arity: 0,
    infer(_i, a) {
      const t = leafType(a, 'const');
      if (a.shape.includes('N')) throw new RuleError(`a constant cannot have a batch dimension`);
      if (!Array.isArray(a.values) || (a.values.length !== 1 && a.values.length !== numel(a.shape))) {
        throw new RuleError(`constant of shape [${a.shape.join(', ')}] needs 1 or ${numel(a.shape)} values`);
      }
      return t;
    },
  }),
};
