// Node construction: the only place a node's type is inferred, from its op's own rule, after its
// attributes are checked against the op's schema.
import { RuleError, ShapeError } from './errors.ts';
import type { Node, NodeMeta, TensorType } from './node.ts';
import { checkRecord, type Field } from './ops/attr-schema.ts';
import { checkArity, opDef, type OpName } from './ops/index.ts';
import { formatShape } from './shape.ts';

let nextId = 1;

/**
 * Makes a node, inferring its output type. The node keeps the checked copy of `attrs`, never the
 * caller's object. A schema or rule violation becomes a ShapeError naming the layer, the op, the
 * input shapes and the source line recorded in `meta`.
 */
export function makeNode(op: OpName, inputs: readonly Node[], attrs: Record<string, unknown> = {}, meta: NodeMeta = {}): Node {
  const { type, clean } = checked(op, inputs.map((i) => i.type), attrs, meta);
  return Object.freeze({ id: nextId++, op, inputs: Object.freeze([...inputs]), attrs: Object.freeze(clean), type, meta });
}

/** Checks an op's attributes against its schema, then runs its shape rule, with located errors. */
export function inferType(op: OpName, inputs: readonly TensorType[], attrs: Record<string, unknown>, meta: NodeMeta = {}): TensorType {
  return checked(op, inputs, attrs, meta).type;
}

function checked(op: OpName, inputs: readonly TensorType[], attrs: unknown, meta: NodeMeta): { type: TensorType; clean: Record<string, unknown> } {
  const site = { op, layer: meta.layer, source: meta.source };
  try {
    checkArity(op, inputs.length);
    const def = opDef(op);
    // Before the rule: a rule (and later a renderer) only ever sees values the schema accepted.
    const clean = checkRecord(def.attrs as Readonly<Record<string, Field<unknown>>>, attrs);
    return { type: def.infer(inputs, clean), clean };
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
