// Loading a user's model: a TypeScript or JavaScript file (through cli/model-loader.ts's hooks), an ONNX file, or a saved graph JSON.
import { readFileSync } from 'node:fs';
import { checkModelFile, fakeModelProblem, importFailure } from './load-checks.ts';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { resetLayerNames } from '../src/dsl/context.ts';
import { defaultInit } from '../src/dsl/init.ts';
import { isModel, type Model } from '../src/dsl/model.ts';
import { KilnError } from '../src/ir/errors.ts';
import { graphFromJson } from '../src/ir/json.ts';
import { getOnnxInputShapes } from './input-shapes.ts';
import { registerModelHooks } from './model-loader.ts';

export { parseInputShapes, setOnnxInputShapes } from './input-shapes.ts';

/** Imports `file` and returns its default-exported model (or imports an `.onnx` file, or parses a `.json` graph). */
export async function loadModel(file: string): Promise<Model> {
  const abs = path.resolve(file);
  if (abs.endsWith('.onnx')) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(abs);
    } catch (e) {
      throw new KilnError(`cannot read ONNX file ${file}: ${(e as Error).message}`);
    }
    // Initializers become trainable parameters with the file's values: fine-tuning works.
    const weights: Record<string, Float32Array> = {};
    // Imported here: the ONNX importer (its op table and codec) is not needed for a .ts model.
    const { importOnnxBatched } = await import('../src/onnx/batch.ts');
    return { kind: 'kiln.model', graph: importOnnxBatched(bytes, { weightsOut: weights, inputShapes: getOnnxInputShapes() }), weights };
  }
  if (abs.endsWith('.json')) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(abs, 'utf8'));
    } catch (e) {
      throw new KilnError(`cannot read graph JSON ${file}: ${(e as Error).message}`);
    }
    return { kind: 'kiln.model', graph: graphFromJson(json) };
  }
  checkModelFile(file, abs);
  let mod: { default?: unknown };
  resetLayerNames();
  defaultInit('keras');
  registerModelHooks();
  try {
    mod = await import(pathToFileURL(abs).href);
  } catch (e) {
    throw importFailure(file, abs, e);
  }
  if (!isModel(mod.default)) {
    throw new KilnError(`${file} must \`export default\` a model made with model() or sequential() (its default export is ${describe(mod.default)})`);
  }
  const fake = fakeModelProblem(mod.default);
  if (fake) throw new KilnError(`${file}: the default export is not a model made with model() or sequential(): ${fake}`);
  return mod.default;
}

const describe = (v: unknown) => (v === undefined ? 'missing' : v === null ? 'null' : typeof v === 'object' ? 'an object that is not a model' : `a ${typeof v}`);
