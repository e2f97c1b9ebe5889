// Node construction: the only place a node's type is inferred, from its op's own rule.
import { RuleError, ShapeError } from './errors.ts';
import type { Node, NodeMeta, TensorType } from './node.ts';
import { checkArity, opDef } from './ops/index.ts';
import { formatShape } from './shape.ts';

let nextId = 1;

/**
 * Makes a node, inferring its output type. A rule violation becomes a ShapeError naming the
 * layer, the op, the input shapes and the source line recorded in `meta`.
 */
export function makeNode(op: string, inputs: readonly Node[], attrs: Record<string, unknown> = {}, meta: NodeMeta = {}): Node {
  const type = inferType(op, inputs.map((i) => i.type), attrs, meta);
  return Object.freeze({ id: nextId++, op, inputs: Object.freeze([...inputs]), attrs: Object.freeze({ ...attrs }), type, meta });
}

/** Runs an op's shape rule, turning rule violations into located ShapeErrors. */
export function inferType(op: string, inputs: readonly TensorType[], attrs: Record<string, unknown>, meta: NodeMeta = {}): TensorType {
  const site = { op, layer: meta.layer, source: meta.source };
  try {
    checkArity(op, inputs.length);
    return opDef(op).infer(inputs, attrs);
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    const shapes = inputs.length ? ` (inputs ${inputs.map((t) => formatShape(t.shape)).join(', ')})` : '';
    throw new ShapeError(site, `${e.message}${shapes}`);
  }
}

/** A copy of `node` with new inputs (type re-inferred), keeping op, attributes and metadata. */
export function withInputs(node: Node, inputs: readonly Node[]): Node {
  if (inputs.length === node.inputs.length && inputs.every((x, i) => x === node.inputs[i])) return node;
  return makeNode(node.op, inputs, node.attrs as Record<string, unknown>, node.meta);
}
