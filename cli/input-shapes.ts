// `--input-shape` for ONNX models: parsed here (light: main.ts reads it before any command loads),
// kept for every `.onnx` load of the run.
import { KilnError } from '../src/ir/errors.ts';
import type { InputShape } from '../src/onnx/batch.ts';

/** Sizes for ONNX inputs' symbolic dimensions (`--input-shape`), used by every `.onnx` load. */
let onnxInputShapes: Readonly<Record<string, InputShape>> = {};

export function setOnnxInputShapes(shapes: Readonly<Record<string, InputShape>>): void {
  onnxInputShapes = shapes;
}

export const getOnnxInputShapes = (): Readonly<Record<string, InputShape>> => onnxInputShapes;

/**
 * `['tokens=N,32', 'x=5,N,3']` → shapes by input name; N is the batch: first, or elsewhere (a
 * per-sample model whose module loops over it, src/onnx/per-sample.ts); one N at most.
 */
export function parseInputShapes(specs: readonly string[] = []): Record<string, InputShape> {
  const out: Record<string, InputShape> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=((?:N|\d+)(?:,(?:N|\d+))*)$/.exec(spec.trim());
    if (!m || m[2].split(',').filter((d) => d === 'N').length > 1) throw new KilnError(`--input-shape wants name=dims with dims like N,3,224,224, 5,N,3 or 1,16 (one N at most: the batch), got '${spec}'`);
    out[m[1]] = m[2].split(',').map((d) => (d === 'N' ? 'N' : Number(d)));
  }
  return out;
}
