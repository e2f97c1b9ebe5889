// The ONNX type of each attribute the importer reads, per operator (from the ONNX operator
// schemas), so that an attribute of the wrong type (a FLOAT `perm`, INTS where INT is expected)
// is an error instead of being ignored for its default.
import { onnx, OnnxFormatError, type AttributeProto } from './proto.ts';

export type AttrType = 'FLOAT' | 'INT' | 'STRING' | 'TENSOR' | 'GRAPH' | 'FLOATS' | 'INTS' | 'STRINGS' | 'SPARSE_TENSOR' | 'TYPE_PROTO';

type Schema = Readonly<Record<string, AttrType>>;

const WINDOW: Schema = { auto_pad: 'STRING', dilations: 'INTS', kernel_shape: 'INTS', pads: 'INTS', strides: 'INTS' };
/** Attributes of the pre-opset-7 broadcasting binary ops. */
const LEGACY_BINARY: Schema = { broadcast: 'INT', axis: 'INT', consumed_inputs: 'INTS' };
const LEGACY: Schema = { consumed_inputs: 'INTS' };
const SOFTMAX: Schema = { axis: 'INT' };
const REDUCE: Schema = { axes: 'INTS', keepdims: 'INT', noop_with_empty_axes: 'INT' };
const RECURRENT: Schema = { activation_alpha: 'FLOATS', activation_beta: 'FLOATS', activations: 'STRINGS', clip: 'FLOAT', direction: 'STRING', hidden_size: 'INT', layout: 'INT' };
const LOSS: Schema = { reduction: 'STRING', ignore_index: 'INT' };
const AXIS: Schema = { axis: 'INT' };

/** Attribute types by operator; an attribute not listed is not read by Kiln. */
const SCHEMAS: Readonly<Record<string, Schema>> = {
  Add: LEGACY_BINARY,
  Sub: LEGACY_BINARY,
  Mul: LEGACY_BINARY,
  Div: LEGACY_BINARY,
  Pow: LEGACY_BINARY,
  Neg: LEGACY,
  Abs: LEGACY,
  Exp: LEGACY,
  Log: LEGACY,
  Sqrt: LEGACY,
  Relu: LEGACY,
  Sigmoid: LEGACY,
  Tanh: LEGACY,
  LeakyRelu: { alpha: 'FLOAT', ...LEGACY },
  Elu: { alpha: 'FLOAT', ...LEGACY },
  Selu: { alpha: 'FLOAT', gamma: 'FLOAT', ...LEGACY },
  Gelu: { approximate: 'STRING' },
  Softmax: SOFTMAX,
  LogSoftmax: SOFTMAX,
  Gemm: { alpha: 'FLOAT', beta: 'FLOAT', transA: 'INT', transB: 'INT', broadcast: 'INT' },
  Conv: { ...WINDOW, group: 'INT' },
  MaxPool: { ...WINDOW, ceil_mode: 'INT', storage_order: 'INT' },
  AveragePool: { ...WINDOW, ceil_mode: 'INT', count_include_pad: 'INT' },
  BatchNormalization: { epsilon: 'FLOAT', momentum: 'FLOAT', training_mode: 'INT', is_test: 'INT', spatial: 'INT', ...LEGACY },
  Flatten: AXIS,
  Reshape: { allowzero: 'INT', shape: 'INTS', ...LEGACY },
  Squeeze: { axes: 'INTS' },
  Unsqueeze: { axes: 'INTS' },
  Transpose: { perm: 'INTS' },
  Concat: AXIS,
  Slice: { starts: 'INTS', ends: 'INTS', axes: 'INTS' },
  Gather: AXIS,
  LayerNormalization: { axis: 'INT', epsilon: 'FLOAT', stash_type: 'INT' },
  Trilu: { upper: 'INT' },
  GatherElements: AXIS,
  Cast: { to: 'INT', saturate: 'INT', round_mode: 'STRING' },
  CastLike: { saturate: 'INT', round_mode: 'STRING' },
  NegativeLogLikelihoodLoss: LOSS,
  SoftmaxCrossEntropyLoss: LOSS,
  RNN: RECURRENT,
  LSTM: { ...RECURRENT, input_forget: 'INT' },
  GRU: { ...RECURRENT, linear_before_reset: 'INT' },
  ReduceSum: REDUCE,
  ReduceMean: REDUCE,
  ReduceMax: REDUCE,
  ReduceMin: REDUCE,
  Clip: { min: 'FLOAT', max: 'FLOAT', ...LEGACY },
  Dropout: { ratio: 'FLOAT', seed: 'INT', is_test: 'INT', ...LEGACY },
  Constant: { value: 'TENSOR', value_float: 'FLOAT', value_floats: 'FLOATS', value_int: 'INT', value_ints: 'INTS', value_string: 'STRING', value_strings: 'STRINGS', sparse_value: 'SPARSE_TENSOR' },
  Shape: { start: 'INT', end: 'INT' },
  Pad: { mode: 'STRING', pads: 'INTS', paddings: 'INTS', value: 'FLOAT' },
  ConstantOfShape: { value: 'TENSOR' },
};

const TYPES = onnx.AttributeProto.AttributeType;

/** The name of an attribute type code (unknown codes by number). */
function typeName(code: number): string {
  const entry = Object.entries(TYPES).find(([, v]) => v === code);
  return entry ? entry[0] : `type ${code}`;
}

const expectedType = (opType: string, name: string): AttrType | undefined => {
  const schema = Object.hasOwn(SCHEMAS, opType) ? SCHEMAS[opType] : undefined;
  return schema && Object.hasOwn(schema, name) ? schema[name] : undefined;
};

/**
 * An attribute's type code. Files of the first IR versions leave `type` unset (UNDEFINED); the
 * type is then the field that holds a value, as ONNX's own helpers read such files, and for a
 * value left at its default (0) the one the op's schema expects.
 */
export function attributeType(opType: string, a: AttributeProto): number {
  if (a.type) return a.type;
  if (a.ints?.length) return TYPES.INTS;
  if (a.floats?.length) return TYPES.FLOATS;
  if (a.strings?.length) return TYPES.STRINGS;
  if (a.t) return TYPES.TENSOR;
  if (a.g) return TYPES.GRAPH;
  if (a.s?.length) return TYPES.STRING;
  if (a.i !== undefined && a.i !== null && Number(a.i) !== 0) return TYPES.INT;
  if (a.f) return TYPES.FLOAT;
  const expected = expectedType(opType, a.name ?? '');
  return expected ? TYPES[expected] : TYPES.UNDEFINED;
}

/** Throws an OnnxFormatError, naming node, attribute, expected and found type, for an attribute of the wrong type. */
export function checkAttributeTypes(opType: string, label: string, attributes: readonly AttributeProto[]): void {
  const seen = new Set<string>();
  for (const a of attributes) {
    const name = a.name ?? '';
    if (seen.has(name)) throw new OnnxFormatError(`${label}: attribute ${JSON.stringify(name)} is given twice`);
    seen.add(name);
    const expected = expectedType(opType, name);
    const found = typeName(attributeType(opType, a));
    if (expected && found !== expected) throw new OnnxFormatError(`${label}: attribute ${JSON.stringify(name)} must be ${expected}, found ${found}`);
  }
}
