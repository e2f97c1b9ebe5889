// The one node type of the graph IR: an op applied to input nodes, with its inferred type.
import type { DType } from './dtype.ts';
import type { OpName } from './ops/index.ts';
import type { Shape } from './shape.ts';
import type { SourceLoc } from './source-loc.ts';

export type { SourceLoc } from './source-loc.ts';

/** The static type of a value: element type and shape (the leading dim may be the batch). */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: Shape;
}

/** What the user wrote: the layer a node belongs to, for errors, summaries and names. */
export interface NodeMeta {
  /** Unique layer name, e.g. `dense_1`. */
  readonly layer?: string;
  /** The layer's kind as the user spelled it, e.g. `Dense`, `Conv2D`. */
  readonly layerKind?: string;
  readonly source?: SourceLoc;
}

/**
 * A node: immutable, created only through `makeNode` (which infers `type` from the op's rule).
 * Identity is object identity; `id` orders nodes by creation and names them in printouts.
 */
export interface Node {
  readonly id: number;
  readonly op: OpName;
  readonly inputs: readonly Node[];
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly type: TensorType;
  readonly meta: NodeMeta;
}
