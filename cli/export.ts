// `kiln export`: a model file and its weights (a Kiln weight file, or fresh ones from a seed) → an .onnx file.
import { checkWritableFile, writeFileAtomicSync } from '../runtime/atomic-write.ts';
import { parameterInfo } from '../compiler/compile.ts';
import { compileGraph } from '../compiler/pipeline.ts';
import { initWeights } from '../runtime/model-io.ts';
import { checkWeights } from '../runtime/weights.ts';
import { readWeightsFileSync } from '../runtime/weights-file.ts';
import { KilnError } from '../src/ir/errors.ts';
import { exportOnnx } from '../src/onnx/export.ts';
import { loadModel } from './load.ts';

export interface ExportCliOptions {
  onnx: string;
  weights?: string;
  seed: number;
  opset: number;
}

export async function exportCommand(file: string, o: ExportCliOptions): Promise<string> {
  const { graph } = await loadModel(file);
  checkWritableFile(o.onnx);
  // The parameters in the order `kiln compile` draws their initial values, so a seed gives the same weights.
  const params = parameterInfo(compileGraph(graph).program.params);
  let weights: Record<string, Float32Array>;
  let from: string;
  if (o.weights) {
    let tensors;
    try {
      tensors = readWeightsFileSync(o.weights).tensors;
    } catch (e) {
      if ((e as { code?: string }).code) throw new KilnError(`cannot read weight file ${o.weights}: ${(e as Error).message}`);
      throw e;
    }
    // A file saved by `kiln train --save` also holds optimizer state: only the parameters are read.
    const names = new Set(params.map((p) => p.name));
    tensors = tensors.filter((t) => names.has(t.name));
    checkWeights(params.map(({ name, dtype, shape }) => ({ name, dtype, shape: shape as number[] })), tensors);
    weights = Object.fromEntries(tensors.map((t) => [t.name, Float32Array.from(t.data as ArrayLike<number>)]));
    from = `weights from ${o.weights}`;
  } else {
    const arrays = initWeights(params, o.seed);
    weights = Object.fromEntries(params.map((p, i) => [p.name, arrays[i]]));
    from = `fresh weights (seed ${o.seed})`;
  }
  const bytes = exportOnnx(graph, weights, { opset: o.opset });
  writeFileAtomicSync(o.onnx, bytes);
  return `exported ${graph.name} to ${o.onnx} (ONNX opset ${o.opset}, ${bytes.length.toLocaleString('en-US')} bytes, ${params.length} parameters, ${from})`;
}
