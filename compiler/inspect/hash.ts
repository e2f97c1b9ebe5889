// Content hashes of graphs (Node-only: uses node:crypto, so it lives outside the browser-safe src/).
import { createHash } from 'node:crypto';
import type { Graph } from '../../src/ir/graph.ts';
import { canonicalJson, graphToJson } from '../../src/ir/json.ts';

/**
 * The sha256 (hex) of a graph's canonical JSON form. Equal graphs hash equally whatever their
 * node ids; any change to an op, attribute, type or name changes it. Source locations are left
 * out: moving a layer within its file, or compiling from another folder, computes the same thing.
 */
export function graphHash(g: Graph): string {
  const json = graphToJson(g);
  const nodes = json.nodes.map(({ source: _source, ...rest }) => rest);
  return createHash('sha256').update(canonicalJson({ ...json, nodes })).digest('hex');
}
