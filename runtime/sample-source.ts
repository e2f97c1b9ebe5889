// Samples read on demand: the interface fit and evaluate read batches through, and an adapter
// for the in-memory Dataset (file-backed sources implement the same interface).

/** Samples side by side in memory: `x` holds `count` inputs (Int32Array for an int32 input such as token ids), `y` their labels (class ids or targets). */
export interface Dataset {
  readonly x: Float32Array | Int32Array;
  readonly y: Float32Array | Int32Array;
  readonly count: number;
}

/** Samples read on demand, a batch at a time; `count` samples of fixed width. */
export interface SampleSource {
  readonly count: number;
  /**
   * Writes sample `indices[j]` into row `j` of `x` and `y` (rows of the model's input and label
   * widths); `x` and `y` hold at least `indices.length` rows. `x` is an Int32Array when the
   * model's input is int32 (token ids), a Float32Array otherwise.
   */
  read(indices: Int32Array, x: Float32Array | Int32Array, y: Float32Array | Int32Array): void;
  /** Element type of the labels: class ids (`int32`) or targets (`float32`). */
  readonly labels: 'int32' | 'float32';
}

/** Whether `data` is a SampleSource rather than an in-memory Dataset. */
export function isSampleSource(data: Dataset | SampleSource): data is SampleSource {
  return typeof (data as SampleSource).read === 'function';
}

/** A Dataset as a SampleSource: rows copied out of its arrays, allocating nothing. */
export function datasetSource(d: Dataset): SampleSource {
  const inputWidth = d.count > 0 ? d.x.length / d.count : 0;
  const labelWidth = d.count > 0 ? d.y.length / d.count : 0;
  return {
    count: d.count,
    labels: d.y instanceof Int32Array ? 'int32' : 'float32',
    read(indices, x, y) {
      for (let j = 0; j < indices.length; j++) {
        copyRow(d.x, indices[j], x, j, inputWidth);
        copyRow(d.y, indices[j], y, j, labelWidth);
      }
    },
  };
}

/** Copies row `from` of `src` into row `to` of `dst` (rows of `width` values). */
function copyRow(src: Float32Array | Int32Array, from: number, dst: Float32Array | Int32Array, to: number, width: number): void {
  const [a, b] = [from * width, to * width];
  for (let i = 0; i < width; i++) dst[b + i] = src[a + i];
}
