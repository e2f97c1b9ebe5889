// The sequence examples (examples/lstm-adding.ts, examples/gru-copy.ts) exported to ONNX run in
// onnxruntime-node to what Kiln's compiled module predicts (1e-5), through one ONNX LSTM or GRU
// node (the bidirectional GRU's two directions in one); `kiln export` writes the same file.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../../cli/export.ts';
import { compileModel } from '../../compiler/compile.ts';
import { exportOnnx } from '../../src/onnx/export.ts';
import { freshOutDir, importModule, loadExampleGraph, perSample, randomFloats, randomizeZeroTensors, ROOT } from '../e2e/helpers.ts';
import { loadOrt, nodeTypes, runOrt } from './scan-helpers.ts';

const ort = await loadOrt();
if (!ort) console.warn('onnxruntime-node cannot load here: the onnxruntime checks are skipped');

const BATCH = 3;
const EXAMPLES: [string, string, number][] = [
  ['lstm-adding', 'LSTM', 1],
  ['gru-copy', 'GRU', 1],
];

describe('sequence examples exported to ONNX', () => {
  for (const [name, op, count] of EXAMPLES) {
    it(`${name}: ${count} ${op} node(s), onnxruntime predicts what the compiled module does`, async () => {
      const out = freshOutDir(`onnx-scan-export/${name}`);
      const graph = await loadExampleGraph(name);
      const compiled = compileModel(graph, { seed: 3 });
      const weights = randomizeZeroTensors(compiled.weights, 41);
      const file = path.join(out, `${name}.js`);
      writeFileSync(file, compiled.js);
      const model = (await importModule(file)).createModel(weights.bytes);
      const x = graph.inputs[0];
      const input = randomFloats(BATCH * perSample(x.type.shape), 17, 0, 1);
      const expected = model.predict(input, BATCH);
      const bytes = exportOnnx(graph, weights.byName);
      const types = nodeTypes(bytes);
      expect(types.filter((t) => t === op), types.join(' ')).toHaveLength(count);
      expect(types).not.toContain('Scan');
      if (ort) {
        const got = await runOrt(ort, bytes, { [String(x.attrs.name)]: { data: input, dims: x.type.shape.map((d) => (d === 'N' ? BATCH : (d as number))) } });
        expect(got[graph.outputs[0].name]).toBeAllclose(expected, { rtol: 1e-5, atol: 1e-5 });
      }
      // The CLI's export of the model file, with the same weights, is the same file.
      const weightFile = path.join(out, `${name}.weights.bin`);
      writeFileSync(weightFile, weights.bytes);
      const onnxFile = path.join(out, `${name}.onnx`);
      await exportCommand(path.join(ROOT, 'examples', `${name}.ts`), { onnx: onnxFile, weights: weightFile, seed: 0, opset: 17 });
      expect(Buffer.compare(readFileSync(onnxFile), bytes)).toBe(0);
    }, 120_000);
  }
});
