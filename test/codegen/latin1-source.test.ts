// Emitted modules keep to Latin-1 (no character above U+00FF): V8 keeps a source file with even
// one such character as two-byte text, twice the memory and a slower scanner, which every
// application importing the module pays (cnn2's inference module, whose kernel comments carried
// `→`: 0.3 ms more to import, 18 more page faults). Comments get `->` (names.ts's commentSafe),
// string literals `\uXXXX` escapes (stringLiteral), so the manifest's values are unchanged.
import { describe, expect, it } from 'vitest';
import { resolveLoss, resolveOptimizer } from '../../cli/training-spec.ts';
import { compileModel } from '../../compiler/compile.ts';
import { dense, input, model } from '../../src/index.ts';
import { loadExampleGraph } from '../e2e/helpers.ts';

/** The first character above U+00FF in `text` with its line, or null. */
function firstWide(text: string): string | null {
  const at = text.search(/[\u0100-\uffff]/);
  if (at < 0) return null;
  const line = text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at));
  return `U+${text.charCodeAt(at).toString(16).padStart(4, '0')} in: ${line.trim().slice(0, 160)}`;
}

describe('emitted modules keep to Latin-1', () => {
  it.each(['mlp', 'cnn', 'cnn2', 'lenet', 'lstm-adding', 'transformer-sort', 'conv1d-signal'])('%s: the module with its trainer, JavaScript and TypeScript, js and gpujs backends', async (example) => {
    const graph = await loadExampleGraph(example);
    const training = { loss: resolveLoss(graph, 'auto'), optimizer: resolveOptimizer('adam', 1e-3) };
    for (const backend of ['js', 'gpujs'] as const) {
      const { js, ts } = compileModel(graph, { seed: 1, training, backend });
      expect(firstWide(js), `${example} (${backend}) .js`).toBeNull();
      expect(firstWide(ts), `${example} (${backend}) .ts`).toBeNull();
    }
  });

  it("a model's names in any script reach the module escaped, and its manifest reads them back unchanged", () => {
    const x = input([3], { name: 'entrée→x' });
    const graph = model({ name: 'modèle 模型', inputs: x, outputs: dense(x, 2, { name: 'dense→出力' }) }).graph;
    const { js } = compileModel(graph, { seed: 1 });
    expect(firstWide(js)).toBeNull();
    // The manifest's object literal, evaluated as the module would.
    const source = /export const manifest = (\{.*\});$/m.exec(js)![1];
    const manifest = new Function(`return (${source});`)() as { model: string; inputs: { name: string }[]; kernels: { ops: string; layers: string[] }[] };
    expect(manifest.model).toBe('modèle 模型');
    expect(manifest.inputs[0].name).toBe('entrée→x');
    expect(manifest.kernels.flatMap((k) => k.layers)).toContain('dense→出力');
    expect(manifest.kernels.map((k) => k.ops).join(' ')).toContain('→');
  });
});
