// ONNX STRING tensors, narrowed to interned int32 ids (Kiln has no string dtype, as it has no
// int64). One dictionary per model gives each distinct string an id: the model's string constants
// take ids 0, 1, … at import time, and the emitted module's run() interns the strings fed to it
// into a copy of that dictionary, so equal strings get equal ids across inputs and constants. The
// graph sees int32 tensors, and only ops for which an id means what its string means may read
// one; run() maps string outputs back through the dictionary.
import { UnsupportedError } from '../ir/errors.ts';
import type { Graph, StringBoundary } from '../ir/graph.ts';
import { int64, onnx, OnnxFormatError, type Int64, type TensorProto } from './proto.ts';
import type { TensorValue } from './tensor.ts';

export const STRING = onnx.TensorProto.DataType.STRING;

/** What the emitted module needs to convert string tensors at its boundary: a field of the graph. */
export type { StringBoundary } from '../ir/graph.ts';

/** Ids for strings, in order of first appearance. */
export interface StringInterner {
  readonly table: string[];
  intern(s: string): number;
}

export function stringInterner(): StringInterner {
  const ids = new Map<string, number>();
  const table: string[] = [];
  return {
    table,
    intern(s) {
      let id = ids.get(s);
      if (id === undefined) ids.set(s, (id = table.push(s) - 1));
      return id;
    },
  };
}

/** A string tensor as the ONNX test data holds it. */
export interface StringTensor {
  readonly name: string;
  readonly dims: number[];
  readonly strings: string[];
}

/** A STRING TensorProto's values, decoded as UTF-8 (ONNX strings have no raw_data form). */
export function decodeStrings(t: TensorProto, what = 'tensor'): StringTensor {
  const name = t.name ?? '';
  const dims = (t.dims ?? []).map((d) => int64(d as Int64));
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxFormatError(`${what} '${name}': invalid dims [${dims.join(', ')}]`);
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    throw new UnsupportedError(`${what} '${name}': external data is not supported`);
  }
  const count = dims.reduce((p, d) => p * d, 1);
  const data = t.stringData ?? [];
  if (data.length !== count) throw new OnnxFormatError(`${what} '${name}': holds ${data.length} strings, dims [${dims.join(', ')}] need ${count}`);
  const utf8 = new TextDecoder();
  return { name, dims, strings: data.map((b) => utf8.decode(b)) };
}

/** String constants as the graph sees them: a STRING-typed value holding their ids. */
export function internStrings(interner: StringInterner, name: string, dims: number[], strings: readonly string[]): TensorValue {
  return { name, onnxType: STRING, dims, data: Int32Array.from(strings, (s) => interner.intern(s)) };
}

/**
 * Ops that may read a string tensor, and at which input positions: on interned ids they do what
 * they do on strings, because they only move or pick elements, or compare them for equality.
 */
const STRING_INPUTS: Readonly<Record<string, readonly number[] | 'all'>> = {
  Identity: [0],
  Reshape: [0],
  Flatten: [0],
  Squeeze: [0],
  Unsqueeze: [0],
  Transpose: [0],
  Slice: [0],
  Gather: [0],
  GatherElements: [0],
  Concat: 'all',
  Where: [1, 2],
  Equal: [0, 1],
  Shape: [0],
};

/** Of those, the ones whose outputs are not strings (a bool, a shape). */
const NON_STRING_OUTPUTS = new Set(['Equal', 'Shape']);

/**
 * Checks a node that reads string tensors (`strings`: their input positions, `given`: every input
 * position that is present) and says whether its outputs are strings. Anything else (arithmetic,
 * ordering, reductions, casts) would compute on ids rather than strings: an error, not a wrong result.
 */
export function stringOutputs(opType: string, label: string, strings: readonly number[], given: readonly number[]): boolean {
  const allowed = Object.prototype.hasOwnProperty.call(STRING_INPUTS, opType) ? STRING_INPUTS[opType] : [];
  const may = (i: number) => allowed === 'all' || allowed.includes(i);
  const bad = strings.find((i) => !may(i));
  if (bad !== undefined) {
    throw new UnsupportedError(
      `${label}: ${opType} cannot take input ${bad} of element type STRING: Kiln carries strings as interned int32 ids, ` +
        `which only ops that move, pick or compare elements for equality may use (not arithmetic, ordering or casts)`,
    );
  }
  // Equal, Concat and Where's values need one element type: all strings or none.
  const mixed = given.find((i) => may(i) && !strings.includes(i));
  if (mixed !== undefined) throw new UnsupportedError(`${label}: ${opType} mixes STRING inputs with input ${mixed} of another element type`);
  return !NON_STRING_OUTPUTS.has(opType);
}

/** The graph with `boundary` recorded as its `strings`, where the emitter looks for it. */
export function withStringBoundary(g: Graph, boundary: StringBoundary): Graph {
  // Strings that never cross the boundary (constants compared inside) need no conversion.
  if (boundary.inputs.length === 0 && boundary.outputs.length === 0) return g;
  return { ...g, strings: boundary };
}
