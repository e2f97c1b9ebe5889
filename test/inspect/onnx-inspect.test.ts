// kiln inspect on an ONNX file: the residual block exported by `kiln export`, inspected without its
// model file, gives the same kernels' work and parameter total as the model it came from.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCommand } from '../../cli/export.ts';
import { inspectDoc, renderers } from '../../cli/inspect.ts';
import { freshOutDir } from '../e2e/helpers.ts';

describe('kiln inspect on .onnx', () => {
  it('describes an exported residual block: 484 parameters, its add reading two branches, kernels clustered in DOT', async () => {
    const dir = freshOutDir('inspect-onnx');
    const onnx = path.join(dir, 'residual.onnx');
    await exportCommand('test/inspect/fixtures/residual.ts', { onnx, seed: 0, opset: 17 });
    const doc = await inspectDoc(onnx, {});
    // Hand count: stem 8·16+16, body 16·16+16, head 16·4+4.
    expect(doc.totals.params).toBe(144 + 272 + 68);
    const fromModel = await inspectDoc('test/inspect/fixtures/residual.ts', {});
    expect(doc.kernels.map((k) => k.flops)).toEqual(fromModel.kernels.map((k) => k.flops));
    const op = (id: number) => doc.nodes[id].op;
    expect(doc.nodes.some((n) => n.op === 'add' && n.inputs.length === 2 && n.inputs.every((i) => op(i) === 'relu'))).toBe(true);
    expect(renderers.dot(doc)).toContain('subgraph "cluster_k0"');
  });
});
