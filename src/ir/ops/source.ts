// Leaves of the graph: inputs fed at run time, parameters (weights), and small constants.
import { isDType, type DType } from '../dtype.ts';
import { RuleError } from '../errors.ts';
import { numel, validateShape, type Dim } from '../shape.ts';
import { defineOp } from './types.ts';
import type { InitSpec } from './init-spec.ts';
import { bool, dims, type Field, int, num, numbers, oneOf, optional, record, str, tagged } from './attr-schema.ts';

export interface InputAttrs {
  name: string;
  dtype: DType;
  shape: Dim[];
}

/** An L1 and/or L2 penalty on a weight, added to the training loss. */
export interface RegularizerAttrs {
  l1?: number;
  l2?: number;
}

export interface ParamAttrs extends InputAttrs {
  init: InitSpec;
  /** Updated by optimizers; false for state such as batch-norm running statistics. */
  trainable: boolean;
  regularizer?: RegularizerAttrs;
}

export interface ConstAttrs {
  dtype: DType;
  shape: Dim[];
  /** Row-major values; a single value is broadcast to the whole shape. */
  values: number[];
}

const dtype = () => oneOf<DType>('float32', 'float64', 'int32');
const fan = int(0);
const fanInit = { fanIn: fan, fanOut: fan, truncated: optional(bool()) };

/** The initialiser kinds of runtime/init.ts, each with its own fields. */
const initSpec: Field<InitSpec> = tagged<InitSpec>('kind', {
  zeros: {},
  ones: {},
  constant: { value: num() },
  glorotUniform: fanInit,
  glorotNormal: fanInit,
  heUniform: fanInit,
  heNormal: fanInit,
  lecunUniform: fanInit,
  lecunNormal: fanInit,
  kaimingUniform: { fanIn: fan, a: num() },
  uniform: { low: num(), high: num() },
  normal: { mean: num(), std: num({ min: 0 }) },
  orthogonal: { rows: int(1), cols: int(1), gain: optional(num()) },
  unitForgetBias: { gates: int(1), forget: int(0), low: num(), high: num() },
});

const leafAttrs = { name: str(), dtype: dtype(), shape: dims() };

function leafType(a: { dtype: DType; shape: Dim[] }, what: string) {
  if (!isDType(a.dtype)) throw new RuleError(`${what}: unknown dtype ${JSON.stringify(a.dtype)}`);
  validateShape(a.shape);
  return { dtype: a.dtype, shape: a.shape };
}

export const sourceOps = {
  input: defineOp<InputAttrs>({
    kind: 'source',
    arity: 0,
    attrs: leafAttrs,
    infer: (_i, a) => leafType(a, 'input'),
  }),
  param: defineOp<ParamAttrs>({
    kind: 'source',
    arity: 0,
    attrs: { ...leafAttrs, init: initSpec, trainable: bool(), regularizer: optional(record<RegularizerAttrs>({ l1: optional(num({ min: 0 })), l2: optional(num({ min: 0 })) })) },
    infer: (_i, a) => leafType(a, 'param'),
  }),
  const: defineOp<ConstAttrs>({
    kind: 'source',
    arity: 0,
    // Values are data: any float64, and ±Infinity and NaN (an attention mask's -Infinity).
    attrs: { dtype: dtype(), shape: dims(), values: numbers({ nonFinite: true, limit: Number.MAX_VALUE }) },
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
