// The names of the files an emitted module is written as: the ES module, its declarations and
// its weight file.

/**
 * A module's files, by the stem of its name. `.mjs`: Node reads it as an ES module whatever the
 * `type` of the package.json above it (a CommonJS project's included), and a bundler likewise;
 * `.d.mts`: where TypeScript (node16/nodenext or bundler resolution) looks for an `.mjs`'s types.
 */
export function moduleFiles(stem: string): { readonly js: string; readonly dts: string; readonly weights: string } {
  return { js: `${stem}.mjs`, dts: `${stem}.d.mts`, weights: `${stem}.weights.bin` };
}
