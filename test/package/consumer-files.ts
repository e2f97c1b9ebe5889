// What a user writes in their own project for the packing test: a model file, a script that
// imports the emitted module, predicts and trains a step, a strict tsconfig; and the test's
// independent reference for that model (dense → ReLU → dense → softmax in plain loops).

/** The model, as its author writes it in TypeScript or in an ES module `.js`: 4 → 8 ReLU → 3 softmax. */
export const MODEL_SOURCE = [
  `import { layers, sequential } from 'kiln';`,
  ``,
  `export default sequential({ name: 'tiny', input: [4] }, [`,
  `  layers.dense(8, { activation: 'relu' }),`,
  `  layers.dense(3, { activation: 'softmax' }),`,
  `]);`,
  ``,
].join('\n');

/** Two samples of four features, and their labels for the training step. */
export const BATCH = 2;
export const INPUT = [-0.875, -0.625, -0.375, -0.125, 0.125, 0.375, 0.625, 0.875];
export const LABELS = [0, 2];

/**
 * The body of the script that uses the emitted module `m` (the weights file's path in `weightsPath`):
 * predicts with the file's weights, then takes one training step from the same weights, and
 * prints what the test compares as one JSON line. Valid as JavaScript and as strict TypeScript.
 */
const USE_BODY = [
  `const weights = readFileSync(weightsPath);`,
  `const model = m.createModel(weights);`,
  `const x = Float32Array.from(${JSON.stringify(INPUT)});`,
  `const y = model.predict(x, ${BATCH});`,
  `const trainer = m.createTrainer({ weights, seed: 1 });`,
  `const loss = trainer.step(x, Int32Array.from(${JSON.stringify(LABELS)}), ${BATCH});`,
  `const tensors = (list: readonly { name: string; shape: readonly number[]; data: ArrayLike<number> }[]) => list.map((t) => ({ name: t.name, shape: [...t.shape], data: Array.from(t.data) }));`,
  `console.log(JSON.stringify({ y: Array.from(y), weights: tensors(model.getWeights()), loss, after: tensors(trainer.getWeights()) }));`,
];

/** Removes the one TypeScript annotation of USE_BODY, for the `.mjs`/`.js` scripts. */
const untyped = (line: string) => line.replace(/\(list: [^)]*\[\]\)/, '(list)');

/** An ES module script (`.mjs`, or `.js`/`.ts` in a `"type": "module"` project) importing `specifier`. */
export function esmUseScript(specifier: string, weightsFile: string, typed = false): string {
  return [
    `import { readFileSync } from 'node:fs';`,
    `import * as m from ${JSON.stringify(specifier)};`,
    `const weightsPath = new URL(${JSON.stringify(weightsFile)}, import.meta.url);`,
    ...(typed ? USE_BODY : USE_BODY.map(untyped)),
    ``,
  ].join('\n');
}

/** A CommonJS script (what `npm init -y` projects run) that loads the ES module `specifier` with `import()`. */
export function cjsUseScript(specifier: string, weightsFile: string): string {
  return [
    `const { readFileSync } = require('node:fs');`,
    `const path = require('node:path');`,
    `(async () => {`,
    `  const m = await import(${JSON.stringify(specifier)});`,
    `  const weightsPath = path.join(__dirname, ${JSON.stringify(weightsFile)});`,
    ...USE_BODY.map((l) => `  ${untyped(l)}`),
    `})().catch((e) => { console.error(e); process.exit(1); });`,
    ``,
  ].join('\n');
}

/** A consumer's tsconfig as strict as users set it: strict, noUncheckedIndexedAccess, NodeNext. */
export const STRICT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: false,
    skipLibCheck: false,
    noEmit: true,
    types: ['node'],
  },
  include: ['*.ts', 'build/**/*.ts'],
};

export interface Tensor {
  name: string;
  shape: number[];
  data: number[];
}

/** softmax(relu(x·W1 + b1)·W2 + b2) for `batch` rows, in plain loops (Keras layout: kernels are [in, out]). */
export function referencePredict(weights: readonly Tensor[], x: readonly number[], batch: number): number[] {
  const byName = new Map(weights.map((t) => [t.name, t]));
  const get = (name: string) => {
    const t = byName.get(name);
    if (!t) throw new Error(`no weight ${name} among ${[...byName.keys()].join(', ')}`);
    return t;
  };
  const dense = (input: number[], width: number, kernel: Tensor, bias: Tensor) => {
    const [inDim, outDim] = kernel.shape as [number, number];
    if (inDim !== width || bias.shape[0] !== outDim) throw new Error(`unexpected shapes ${kernel.shape} / ${bias.shape}`);
    const out: number[] = [];
    for (let r = 0; r < batch; r++) {
      for (let o = 0; o < outDim; o++) {
        let s = bias.data[o]!;
        for (let i = 0; i < inDim; i++) s += input[r * inDim + i]! * kernel.data[i * outDim + o]!;
        out.push(s);
      }
    }
    return { out, width: outDim };
  };
  const h = dense([...x], 4, get('dense_1/kernel'), get('dense_1/bias'));
  const z = dense(h.out.map((v) => Math.max(0, v)), h.width, get('dense_2/kernel'), get('dense_2/bias'));
  const probs: number[] = [];
  for (let r = 0; r < batch; r++) {
    const row = z.out.slice(r * z.width, (r + 1) * z.width);
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    probs.push(...e.map((v) => v / sum));
  }
  return probs;
}

/** Mean cross-entropy of `probs` (rows of `classes`) against integer `labels`. */
export function crossEntropy(probs: readonly number[], labels: readonly number[], classes: number): number {
  let s = 0;
  labels.forEach((label, r) => (s -= Math.log(probs[r * classes + label]!)));
  return s / labels.length;
}
