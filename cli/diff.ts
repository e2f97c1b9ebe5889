// `kiln diff`: what differs between two models, or between one model after two passes.
import { buildGraphDoc } from '../compiler/inspect/graph-doc.ts';
import { diffDocs, formatDiff } from '../compiler/inspect/diff.ts';
import { KilnError } from '../src/ir/errors.ts';
import { loadModel } from './load.ts';

export interface DiffOptions {
  after?: string[];
  json?: boolean;
}

/** Two models (each at `--after`, default after every pass), or one model at two `--after` stages. */
export async function diffCommand(a: string, b: string | undefined, o: DiffOptions): Promise<string> {
  const after = o.after ?? [];
  let result;
  if (b === undefined) {
    if (after.length !== 2) throw new KilnError(`kiln diff needs two models, or one model and two stages (--after A --after B); got one model and ${after.length} --after`);
    const { graph } = await loadModel(a);
    result = diffDocs(buildGraphDoc(graph, { after: after[0] }), buildGraphDoc(graph, { after: after[1] }));
  } else {
    if (after.length > 1) throw new KilnError(`with two models give at most one --after (both are compared at it); got ${after.length}`);
    const [ga, gb] = [(await loadModel(a)).graph, (await loadModel(b)).graph];
    result = diffDocs(buildGraphDoc(ga, { after: after[0] }), buildGraphDoc(gb, { after: after[0] }));
  }
  return o.json ? JSON.stringify(result, null, 2) : formatDiff(result);
}
