// The names of the files an emitted module is written as: the ES module, its declarations and
// its weight file; with a trainer, the inference-only module and its declarations too.

/**
 * A module's files, by the stem of its name. `.mjs`: Node reads it as an ES module whatever the
 * `type` of the package.json above it (a CommonJS project's included), and a bundler likewise;
 * `.d.mts`: where TypeScript (node16/nodenext or bundler resolution) looks for an `.mjs`'s types.
 */
export function moduleFiles(stem: string): { readonly js: string; readonly dts: string; readonly weights: string } {
  return { js: `${stem}.mjs`, dts: `${stem}.d.mts`, weights: `${stem}.weights.bin` };
}

/**
 * The inference-only module of a module with a trainer, and its declarations: `createModel` and
 * the descriptions without `createTrainer`, for an application that only predicts (it starts
 * faster: the training step is most of the full module).
 */
export function inferenceFiles(stem: string): { readonly js: string; readonly dts: string } {
  return { js: `${stem}.inference.mjs`, dts: `${stem}.inference.d.mts` };
}
