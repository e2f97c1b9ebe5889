// Element types of Kiln tensors and the typed arrays that hold them.

/** float32 for models, float64 for numerical checks, int32 for labels and indices. */
export type DType = 'float32' | 'float64' | 'int32';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

/** The typed-array constructor name used for a dtype (also what generated code spells). */
export const ARRAY_NAME: Record<DType, 'Float32Array' | 'Float64Array' | 'Int32Array'> = {
  float32: 'Float32Array',
  float64: 'Float64Array',
  int32: 'Int32Array',
};

/** Bytes of one element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4 };

export type TypedArray = Float32Array | Float64Array | Int32Array;

export function allocate(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int32':
      return new Int32Array(length);
    default:
      return dtype satisfies never;
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}
