// Which model a weight file belongs to. Files Kiln writes (`kiln compile`, `trainer.save()`) carry
// the model's name and graph hash in their metadata; a model refuses the file of another model
// even when names and shapes happen to match.
import { WeightFileError } from './weights.ts';

/** What an emitted module knows of itself, to recognise its own weight files. */
export interface ModelIdentity {
  readonly name: string;
  readonly graphHash: string;
  /**
   * Where the parameters' values come from when no initialiser can reproduce them (an ONNX
   * file's initializers): `createModel()` without weights is then an error, not zeros.
   */
  readonly weightsFrom?: string;
}

const shortHash = (hash: string | undefined) => (hash === undefined ? 'unknown' : `sha256:${hash.slice(0, 12)}…`);

/**
 * Accepts a file of the same graph (a fine-tuned or re-saved model), or of a model of the same
 * name (the same model re-compiled after a change: names and shapes are still checked), or a file
 * that carries no identity at all (tensors encoded by hand with `encodeWeights`); refuses the
 * file of another model.
 */
export function checkWeightsIdentity(meta: Readonly<Record<string, unknown>>, model: ModelIdentity): void {
  const hash = typeof meta.graphHash === 'string' ? meta.graphHash : undefined;
  const name = typeof meta.model === 'string' ? meta.model : undefined;
  if (hash === undefined && name === undefined) return;
  if (hash === model.graphHash || name === model.name) return;
  throw new WeightFileError(
    `this weight file belongs to another model, ${JSON.stringify(name ?? '?')} (graph ${shortHash(hash)}), not to ${JSON.stringify(model.name)} (graph ${shortHash(model.graphHash)}); ` +
      `pass { allowForeignWeights: true } to load it anyway (names and shapes must still match)`,
  );
}

/** The error for `createModel()` without weights when the values came with the model's source file. */
export function weightsRequired(model: ModelIdentity & { weightsFrom: string }): WeightFileError {
  return new WeightFileError(
    `this model's weights come from ${model.weightsFrom}; pass its weight file (the .weights.bin kiln compile wrote beside this module) ` +
      `or arrays by parameter name to createModel: no initialiser reproduces them`,
  );
}
