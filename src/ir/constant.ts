// The data of a `const` node, expanded to its full shape.
import { allocate, type TypedArray } from './dtype.ts';
import type { Node } from './node.ts';
import { numel } from './shape.ts';

export function constantData(node: Node): TypedArray {
  const values = node.attrs.values as number[];
  const out = allocate(node.type.dtype, numel(node.type.shape));
  if (values.length === 1) out.fill(values[0]);
  else out.set(values);
  return out;
}
