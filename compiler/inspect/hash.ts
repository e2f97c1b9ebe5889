// Content hashes of graphs (Node-only: uses node:crypto, so it lives outside the browser-safe src/).
import { createHash } from 'node:crypto';
import type { Graph } from '../../src/ir/graph.ts';
import { canonicalJson, graphToJson } from '../../src/ir/json.ts';

/**
 * The sha256 (hex) of a graph's canonical JSON form. Equal graphs hash equally whatever their
 * node ids; any change to an op, attribute, type, name or recorded source location changes it.
 */
export function graphHash(g: Graph): string {
  return createHash('sha256').update(canonicalJson(graphToJson(g))).digest('hex');
}
