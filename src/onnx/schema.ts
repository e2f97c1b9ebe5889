// The ONNX protobuf schema (onnx.proto as of ONNX 1.10.2, IR version 8: the version npm
// `onnx-proto` 8.0.1 generated its code from), as data: one table per message, read by the
// generic reader and writer of wire.ts. Names are camelCase as protobufjs spelled them, which is
// what the rest of Kiln reads. Field numbers, types and labels are onnx.proto's.

/** Scalar field types, as protobuf names them; enums are written as int32. */
export type ScalarType = 'string' | 'bytes' | 'int32' | 'int64' | 'uint64' | 'float' | 'double';

/** Message type names, with the nested ones spelled Outer.Inner as in onnx.proto. */
export type MessageName = keyof typeof SCHEMA;
export type EnumName = keyof typeof ENUMS;

/**
 * `one`: an optional singular field; `many`: repeated, one record per element; `packed`:
 * repeated numbers in one length-delimited record (protobufjs wrote every repeated number field
 * of onnx.proto packed, and readers must take both forms anyway); `oneof`: a member of a oneof
 * (its default is null, not the type's zero, so a reader can tell which member is set).
 */
export type Label = 'one' | 'many' | 'packed' | 'oneof';

/** [field number, name, type (a ScalarType, an enum of ENUMS or a message of SCHEMA: checked when codec.ts builds the types), label]. */
export type FieldRow = readonly [number, string, string, Label];

// Each table lists its fields by field number, the order the writer emits them in (as protobufjs did).
export const SCHEMA = {
  AttributeProto: [
    [1, 'name', 'string', 'one'],
    [2, 'f', 'float', 'one'],
    [3, 'i', 'int64', 'one'],
    [4, 's', 'bytes', 'one'],
    [5, 't', 'TensorProto', 'one'],
    [6, 'g', 'GraphProto', 'one'],
    [7, 'floats', 'float', 'packed'],
    [8, 'ints', 'int64', 'packed'],
    [9, 'strings', 'bytes', 'many'],
    [10, 'tensors', 'TensorProto', 'many'],
    [11, 'graphs', 'GraphProto', 'many'],
    [13, 'docString', 'string', 'one'],
    [14, 'tp', 'TypeProto', 'one'],
    [15, 'typeProtos', 'TypeProto', 'many'],
    [20, 'type', 'AttributeProto.AttributeType', 'one'],
    [21, 'refAttrName', 'string', 'one'],
    [22, 'sparseTensor', 'SparseTensorProto', 'one'],
    [23, 'sparseTensors', 'SparseTensorProto', 'many'],
  ],
  ValueInfoProto: [
    [1, 'name', 'string', 'one'],
    [2, 'type', 'TypeProto', 'one'],
    [3, 'docString', 'string', 'one'],
  ],
  NodeProto: [
    [1, 'input', 'string', 'many'],
    [2, 'output', 'string', 'many'],
    [3, 'name', 'string', 'one'],
    [4, 'opType', 'string', 'one'],
    [5, 'attribute', 'AttributeProto', 'many'],
    [6, 'docString', 'string', 'one'],
    [7, 'domain', 'string', 'one'],
  ],
  TrainingInfoProto: [
    [1, 'initialization', 'GraphProto', 'one'],
    [2, 'algorithm', 'GraphProto', 'one'],
    [3, 'initializationBinding', 'StringStringEntryProto', 'many'],
    [4, 'updateBinding', 'StringStringEntryProto', 'many'],
  ],
  ModelProto: [
    [1, 'irVersion', 'int64', 'one'],
    [2, 'producerName', 'string', 'one'],
    [3, 'producerVersion', 'string', 'one'],
    [4, 'domain', 'string', 'one'],
    [5, 'modelVersion', 'int64', 'one'],
    [6, 'docString', 'string', 'one'],
    [7, 'graph', 'GraphProto', 'one'],
    [8, 'opsetImport', 'OperatorSetIdProto', 'many'],
    [14, 'metadataProps', 'StringStringEntryProto', 'many'],
    [20, 'trainingInfo', 'TrainingInfoProto', 'many'],
    [25, 'functions', 'FunctionProto', 'many'],
  ],
  StringStringEntryProto: [
    [1, 'key', 'string', 'one'],
    [2, 'value', 'string', 'one'],
  ],
  TensorAnnotation: [
    [1, 'tensorName', 'string', 'one'],
    [2, 'quantParameterTensorNames', 'StringStringEntryProto', 'many'],
  ],
  GraphProto: [
    [1, 'node', 'NodeProto', 'many'],
    [2, 'name', 'string', 'one'],
    [5, 'initializer', 'TensorProto', 'many'],
    [10, 'docString', 'string', 'one'],
    [11, 'input', 'ValueInfoProto', 'many'],
    [12, 'output', 'ValueInfoProto', 'many'],
    [13, 'valueInfo', 'ValueInfoProto', 'many'],
    [14, 'quantizationAnnotation', 'TensorAnnotation', 'many'],
    [15, 'sparseInitializer', 'SparseTensorProto', 'many'],
  ],
  TensorProto: [
    [1, 'dims', 'int64', 'packed'],
    [2, 'dataType', 'int32', 'one'],
    [3, 'segment', 'TensorProto.Segment', 'one'],
    [4, 'floatData', 'float', 'packed'],
    [5, 'int32Data', 'int32', 'packed'],
    [6, 'stringData', 'bytes', 'many'],
    [7, 'int64Data', 'int64', 'packed'],
    [8, 'name', 'string', 'one'],
    [9, 'rawData', 'bytes', 'one'],
    [10, 'doubleData', 'double', 'packed'],
    [11, 'uint64Data', 'uint64', 'packed'],
    [12, 'docString', 'string', 'one'],
    [13, 'externalData', 'StringStringEntryProto', 'many'],
    [14, 'dataLocation', 'TensorProto.DataLocation', 'one'],
  ],
  'TensorProto.Segment': [
    [1, 'begin', 'int64', 'one'],
    [2, 'end', 'int64', 'one'],
  ],
  SparseTensorProto: [
    [1, 'values', 'TensorProto', 'one'],
    [2, 'indices', 'TensorProto', 'one'],
    [3, 'dims', 'int64', 'packed'],
  ],
  TensorShapeProto: [[1, 'dim', 'TensorShapeProto.Dimension', 'many']],
  'TensorShapeProto.Dimension': [
    [1, 'dimValue', 'int64', 'oneof'],
    [2, 'dimParam', 'string', 'oneof'],
    [3, 'denotation', 'string', 'one'],
  ],
  TypeProto: [
    [1, 'tensorType', 'TypeProto.Tensor', 'oneof'],
    [4, 'sequenceType', 'TypeProto.Sequence', 'oneof'],
    [5, 'mapType', 'TypeProto.Map', 'oneof'],
    [6, 'denotation', 'string', 'one'],
    [8, 'sparseTensorType', 'TypeProto.SparseTensor', 'oneof'],
    [9, 'optionalType', 'TypeProto.Optional', 'oneof'],
  ],
  'TypeProto.Tensor': [
    [1, 'elemType', 'int32', 'one'],
    [2, 'shape', 'TensorShapeProto', 'one'],
  ],
  'TypeProto.Sequence': [[1, 'elemType', 'TypeProto', 'one']],
  'TypeProto.Map': [
    [1, 'keyType', 'int32', 'one'],
    [2, 'valueType', 'TypeProto', 'one'],
  ],
  'TypeProto.Optional': [[1, 'elemType', 'TypeProto', 'one']],
  'TypeProto.SparseTensor': [
    [1, 'elemType', 'int32', 'one'],
    [2, 'shape', 'TensorShapeProto', 'one'],
  ],
  OperatorSetIdProto: [
    [1, 'domain', 'string', 'one'],
    [2, 'version', 'int64', 'one'],
  ],
  FunctionProto: [
    [1, 'name', 'string', 'one'],
    [4, 'input', 'string', 'many'],
    [5, 'output', 'string', 'many'],
    [6, 'attribute', 'string', 'many'],
    [7, 'node', 'NodeProto', 'many'],
    [8, 'docString', 'string', 'one'],
    [9, 'opsetImport', 'OperatorSetIdProto', 'many'],
    [10, 'domain', 'string', 'one'],
  ],
} as const satisfies Record<string, readonly FieldRow[]>;

/** onnx.proto's enums, name → number. */
export const ENUMS = {
  Version: {
    _START_VERSION: 0, IR_VERSION_2017_10_10: 1, IR_VERSION_2017_10_30: 2, IR_VERSION_2017_11_3: 3, IR_VERSION_2019_1_22: 4,
    IR_VERSION_2019_3_18: 5, IR_VERSION_2019_9_19: 6, IR_VERSION_2020_5_8: 7, IR_VERSION: 8,
  },
  'AttributeProto.AttributeType': {
    UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, SPARSE_TENSOR: 11, TYPE_PROTO: 13,
    FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSORS: 12, TYPE_PROTOS: 14,
  },
  'TensorProto.DataType': {
    UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
    FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  },
  'TensorProto.DataLocation': { DEFAULT: 0, EXTERNAL: 1 },
  OperatorStatus: { EXPERIMENTAL: 0, STABLE: 1 },
} as const;
