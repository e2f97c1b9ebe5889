// The graph nodes behind a lowered kernel, for tools that count its work (inspection documents,
// profiles): a kernel keeps what it reads and writes, not its fused group.
import type { Node } from '../../src/ir/node.ts';
import type { Kernel } from '../lower/kernel.ts';

/**
 * The nodes a kernel computes in its loop: walking back from what it writes through inputs that
 * are not what it reads (those come from buffers). Recomputed producers are among them: that is
 * work the kernel does. Iterative, as every graph walk.
 */
export function memberNodes(k: Pick<Kernel, 'reads' | 'writes'>): Node[] {
  const reads = new Set(k.reads);
  const seen = new Set<Node>();
  const stack: Node[] = [k.writes];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n) || reads.has(n)) continue;
    seen.add(n);
    stack.push(...n.inputs);
  }
  return [...seen];
}
