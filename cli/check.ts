// `kiln check`: load and shape-check a model. Its own module, so that check loads no code generator (ts-morph).
import { checkGraph } from '../compiler/check/check.ts';
import { summarize } from '../compiler/inspect/summary.ts';
import { loadModel } from './load.ts';

/** What `kiln check` found (its `--json` output, less `ok` and `command`). */
export interface CheckReport {
  readonly model: string;
  readonly layers: number;
  readonly parameters: number;
  readonly outputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly (number | 'N')[] }[];
}

export async function checkModel(file: string): Promise<CheckReport> {
  const { graph } = await loadModel(file);
  checkGraph(graph);
  const s = summarize(graph);
  const outputs = graph.outputs.map((o) => ({ name: o.name, dtype: o.node.type.dtype, shape: o.node.type.shape }));
  return { model: graph.name, layers: s.layers.length, parameters: s.totals.params, outputs };
}

export function formatCheckReport(r: CheckReport): string {
  const out = r.outputs.map((o) => `${o.name} ${o.dtype}[${o.shape.join(', ')}]`).join(', ');
  return `ok: ${r.model}: ${r.layers} layers, ${r.parameters.toLocaleString('en-US')} parameters, outputs ${out}`;
}

export async function checkCommand(file: string): Promise<string> {
  return formatCheckReport(await checkModel(file));
}
