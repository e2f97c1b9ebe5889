// ONNX import of LayerNormalization and Trilu: hand-built files, imported and interpreted, against
// the defining formulas in loops and against onnxruntime-node running the same file.
import { describe, expect, it } from 'vitest';
import { interpret } from '../../src/ir/interpret.ts';
import { importOnnx } from '../../src/onnx/import.ts';
import { onnx } from '../../src/onnx/proto.ts';
import { Lcg } from '../reference/lcg.ts';

const T = onnx.TensorProto.DataType;
const vi = (name: string, dims: number[]) => ({ name, type: { tensorType: { elemType: T.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
const encode = (graph: object, opset: number) => onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ version: opset }], graph })).finish();

let ort: typeof import('onnxruntime-node') | undefined;
try {
  ort = await import('onnxruntime-node');
} catch {
  ort = undefined;
}

/** Kiln's import interpreted, and onnxruntime's result where it loads. */
async function both(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<{ kiln: Float32Array; ort?: Float32Array }> {
  const g = importOnnx(bytes);
  const kiln = interpret(g, { x }, {}, 1).y as Float32Array;
  if (!ort) return { kiln };
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ x: new ort.Tensor('float32', x, dims) });
  return { kiln, ort: out.y.data as Float32Array };
}

describe('ONNX LayerNormalization', () => {
  it('axis -2 of [2, 3, 4], with Scale and B: the formula, and onnxruntime', async () => {
    const rng = new Lcg(5);
    const scale = Array.from(rng.array(12));
    const bias = Array.from(rng.array(12));
    const bytes = encode({
      input: [vi('x', [2, 3, 4])],
      output: [vi('y', [2, 3, 4])],
      initializer: [
        { name: 's', dataType: T.FLOAT, dims: [3, 4], floatData: scale },
        { name: 'b', dataType: T.FLOAT, dims: [3, 4], floatData: bias },
      ],
      node: [{ name: 'ln', opType: 'LayerNormalization', input: ['x', 's', 'b'], output: ['y'], attribute: [{ name: 'axis', i: -2, type: onnx.AttributeProto.AttributeType.INT }, { name: 'epsilon', f: 1e-3, type: onnx.AttributeProto.AttributeType.FLOAT }] }],
    }, 17);
    const x = Float32Array.from(rng.array(24, -3, 3));
    const { kiln, ort: fromOrt } = await both(bytes, x, [2, 3, 4]);
    for (let n = 0; n < 2; n++) {
      const v = Array.from(x.slice(n * 12, n * 12 + 12));
      const mean = v.reduce((a, b) => a + b, 0) / 12;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / 12;
      v.forEach((e, i) => expect(kiln[n * 12 + i]).toBeCloseTo(((e - mean) / Math.sqrt(variance + 1e-3)) * scale[i] + bias[i], 5));
    }
    if (fromOrt) fromOrt.forEach((v, i) => expect(kiln[i]).toBeCloseTo(v, 5));
  });
});

describe('ONNX Trilu', () => {
  for (const [upper, k] of [[1, 0], [0, 0], [1, 1], [0, -1]] as const) {
    it(`upper=${upper}, k=${k} on [2, 3, 4]: the triangle rule, and onnxruntime`, async () => {
      const bytes = encode({
        input: [vi('x', [2, 3, 4])],
        output: [vi('y', [2, 3, 4])],
        initializer: [{ name: 'k', dataType: T.INT64, dims: [], int64Data: [k] }],
        node: [{ name: 't', opType: 'Trilu', input: ['x', 'k'], output: ['y'], attribute: [{ name: 'upper', i: upper, type: onnx.AttributeProto.AttributeType.INT }] }],
      }, 14);
      const x = Float32Array.from(new Lcg(6).array(24));
      x[5] = Infinity; // row 1, col 1 of the first matrix: kept or zeroed like any other entry
      const { kiln, ort: fromOrt } = await both(bytes, x, [2, 3, 4]);
      x.forEach((v, idx) => {
        const [i, j] = [Math.floor(idx / 4) % 3, idx % 4];
        expect(kiln[idx]).toBe((upper ? j - i >= k : j - i <= k) ? v : 0);
      });
      if (fromOrt) expect(Array.from(kiln)).toEqual(Array.from(fromOrt));
    });
  }
});
