// ONNX inputs with a symbolic leading dimension import with Kiln's batch dimension: a Kiln model
// exported to ONNX, loaded back through the CLI's loader, compiles and predicts like the original.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileCommand } from '../../src/cli/commands.ts';
import { exportCommand } from '../../src/cli/export.ts';
import { loadModel } from '../../src/cli/load.ts';
import { BATCH } from '../../src/ir/shape.ts';
import { Lcg } from '../reference/lcg.ts';

const out = path.resolve('test/.out/onnx-batch');

async function moduleAt(dir: string, stem: string) {
  return import(pathToFileURL(path.join(dir, `${stem}.js`)).href);
}

describe('symbolic batch in ONNX inputs', () => {
  for (const name of ['mlp', 'cnn']) {
    it(`${name}: Kiln → ONNX → Kiln keeps the batch symbolic and predicts the same at batch 1 and 5`, async () => {
      const onnxFile = path.join(out, `${name}.onnx`);
      await exportCommand(`examples/${name}.ts`, { onnx: onnxFile, seed: 4, opset: 17 });
      const { graph } = await loadModel(onnxFile);
      expect(graph.inputs[0].type.shape[0]).toBe(BATCH);
      expect(graph.outputs[0].node.type.shape[0]).toBe(BATCH);
      await compileCommand(`examples/${name}.ts`, { backend: 'js', out: path.join(out, 'original'), seed: 4 });
      await compileCommand(onnxFile, { backend: 'js', out: path.join(out, 'imported'), seed: 0 });
      const original = (await moduleAt(path.join(out, 'original'), name)).createModel(readFileSync(path.join(out, 'original', `${name}.weights.bin`)));
      // The imported initializers are parameters; the compiled weight file holds their values.
      const imported = (await moduleAt(path.join(out, 'imported'), name)).createModel(readFileSync(path.join(out, 'imported', `${name}.weights.bin`)));
      const rng = new Lcg(5);
      for (const batch of [1, 5]) {
        const x = Float32Array.from({ length: 784 * batch }, () => rng.next());
        expect(Array.from(imported.predict(x, batch))).toBeAllclose(Array.from(original.predict(x, batch)), { rtol: 1e-5, atol: 1e-6 });
      }
    });
  }
});
