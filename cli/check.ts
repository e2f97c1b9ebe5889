// `kiln check`: load and shape-check a model. Its own module, so that check loads no code generator (the emitters).
import { checkGraph } from '../compiler/check/check.ts';
import { summarize } from '../compiler/inspect/summary.ts';
import { loadModel } from './load.ts';
import { describeBatchAxes } from '../src/ir/print.ts';

/** What `kiln check` found (its `--json` output, less `ok` and `command`). */
export interface CheckReport {
  readonly model: string;
  readonly layers: number;
  readonly parameters: number;
  readonly outputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | 'N')[] }[];
  /** An ONNX model whose batch is not first: where it lies (it is then compiled per sample). */
  readonly batchAxes?: string;
}

export async function checkModel(file: string): Promise<CheckReport> {
  const { graph } = await loadModel(file);
  checkGraph(graph);
  const s = summarize(graph);
  // A per-sample graph's outputs are shown as fed back: 'N' on their batch axis.
  const outputs = graph.outputs.map((o, k) => ({ name: o.name, dtype: o.node.type.dtype, shape: o.node.type.shape.map((d, i) => (i === graph.batchAxes?.outputs[k] ? 'N' : d)) }));
  const batchAxes = describeBatchAxes(graph);
  return { model: graph.name, layers: s.layers.length, parameters: s.totals.params, outputs, ...(batchAxes ? { batchAxes } : {}) };
}

export function formatCheckReport(r: CheckReport): string {
  const out = r.outputs.map((o) => `${o.name} ${o.dtype}[${o.shape.join(', ')}]`).join(', ');
  return `ok: ${r.model}: ${r.layers} layers, ${r.parameters.toLocaleString('en-US')} parameters, outputs ${out}${r.batchAxes ? `\n${r.batchAxes}` : ''}`;
}

export async function checkCommand(file: string): Promise<string> {
  return formatCheckReport(await checkModel(file));
}
