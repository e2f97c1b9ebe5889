// `kiln profile`'s arithmetic: measured kernel times joined with each kernel's fused ops, layers and
// FLOPs, summed per layer, as shares of the whole and GFLOP/s. Pure: the timing happens elsewhere.
import type { FusedGraph, FusedGroup } from '../fuse/fuse.ts';
import type { Node } from '../../src/ir/node.ts';
import { isBatched } from '../../src/ir/shape.ts';
import { nodeFlops } from './summary.ts';
import { formatCount, renderTable } from './table.ts';

/** One kernel's time: per call, averaged over the measured calls. */
export interface KernelTime {
  readonly name: string;
  /** `model` (predict), `step` (the training step) or `evaluate` (the trainer's evaluation). */
  readonly entry: string;
  readonly ops: readonly string[];
  readonly layers: readonly string[];
  readonly ms: number;
  /** Calls measured (one per profiled run). */
  readonly calls: number;
  /** Share of the sum of all kernels' times (0 to 1). */
  readonly share: number;
  /** Floating-point operations of one call at the profiled batch. */
  readonly flops: number;
  readonly gflops: number;
}

export interface LayerTime {
  readonly layer: string;
  readonly ms: number;
  readonly share: number;
  readonly flops: number;
  readonly gflops: number;
  readonly kernels: readonly string[];
}

export interface ProfileReport {
  readonly model: string;
  readonly backend: string;
  readonly batch: number;
  readonly runs: number;
  readonly train: boolean;
  /** Mean wall time of one whole call (predict, or a training step) measured around it. */
  readonly callMs: number;
  /** Sum of the kernels' mean times per call. */
  readonly kernelMs: number;
  readonly kernels: readonly KernelTime[];
  readonly layers: readonly LayerTime[];
}

/** One compiled entry point: its fused groups (in kernel order) and kernel names. */
export interface ProfiledEntry {
  readonly entry: string;
  readonly fused: FusedGraph;
  readonly kernelNames: readonly string[];
}

/** Unlabelled nodes (an imported graph's glue, optimizer updates) are counted under this name. */
export const NO_LAYER = '(no layer)';

/** FLOPs of one node at `batch`: the op's rule counts one sample; batched values scale with the batch. */
function flopsAt(n: Node, batch: number): number {
  const batched = isBatched(n.type.shape) || n.inputs.some((i) => isBatched(i.type.shape));
  return nodeFlops(n) * (batched ? batch : 1);
}

/** FLOPs per layer of one fused group (its members and recomputed producers) at `batch`. */
function groupFlops(g: FusedGroup, batch: number): Map<string, number> {
  const byLayer = new Map<string, number>();
  for (const n of [...g.members, ...(g.recomputed ?? [])]) {
    const layer = n.meta.layer ?? NO_LAYER;
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + flopsAt(n, batch));
  }
  return byLayer;
}

const gflops = (flops: number, ms: number) => (ms > 0 ? flops / ms / 1e6 : 0);

/**
 * The report from measured times (`times[name].ms` summed over `calls` calls of each kernel):
 * kernels in execution order, layers by time. A kernel's time goes to its layers in proportion to
 * their FLOPs in it (evenly when it has none), so a fused dense+relu kernel stays with its layer.
 */
export function profileReport(
  head: Omit<ProfileReport, 'kernelMs' | 'kernels' | 'layers'>,
  entries: readonly ProfiledEntry[],
  times: Readonly<Record<string, { ms: number; calls: number }>>,
): ProfileReport {
  const rows = entries.flatMap((e) =>
    e.fused.groups.map((g, i) => {
      const name = e.kernelNames[i];
      const t = Object.hasOwn(times, name) ? times[name] : { ms: 0, calls: 0 };
      const perLayer = groupFlops(g, head.batch);
      const flops = [...perLayer.values()].reduce((s, f) => s + f, 0);
      return { name, entry: e.entry, ops: g.members.map((m) => m.op), perLayer, flops, calls: t.calls, ms: t.calls > 0 ? t.ms / t.calls : 0 };
    }),
  );
  const kernelMs = rows.reduce((s, r) => s + r.ms, 0);
  const share = (ms: number) => (kernelMs > 0 ? ms / kernelMs : 0);
  const layers = new Map<string, { ms: number; flops: number; kernels: string[] }>();
  for (const r of rows) {
    for (const [layer, f] of r.perLayer) {
      const part = r.flops > 0 ? f / r.flops : 1 / r.perLayer.size;
      const l = layers.get(layer) ?? { ms: 0, flops: 0, kernels: [] };
      l.ms += r.ms * part;
      l.flops += f;
      if (!l.kernels.includes(r.name)) l.kernels.push(r.name);
      layers.set(layer, l);
    }
  }
  return {
    ...head,
    kernelMs,
    kernels: rows.map((r) => ({ name: r.name, entry: r.entry, ops: r.ops, layers: [...r.perLayer.keys()], ms: r.ms, calls: r.calls, share: share(r.ms), flops: r.flops, gflops: gflops(r.flops, r.ms) })),
    layers: [...layers].map(([layer, l]) => ({ layer, ms: l.ms, share: share(l.ms), flops: l.flops, gflops: gflops(l.flops, l.ms), kernels: l.kernels })).sort((a, b) => b.ms - a.ms),
  };
}

const ms = (v: number) => (v >= 1 ? v.toFixed(2) : v.toFixed(3));
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** The report as text: the totals, then kernels and layers, slowest first. */
export function formatProfile(r: ProfileReport): string {
  const kernels = [...r.kernels].sort((a, b) => b.ms - a.ms);
  const kernelTable = renderTable(
    [
      { header: 'Kernel', align: 'left' },
      { header: 'Entry', align: 'left' },
      { header: 'Ops', align: 'left' },
      { header: 'Layers', align: 'left' },
      { header: 'ms/call', align: 'right' },
      { header: 'Share', align: 'right' },
      { header: 'FLOPs', align: 'right' },
      { header: 'GFLOP/s', align: 'right' },
    ],
    kernels.map((k) => [k.name, k.entry, k.ops.join(' → '), k.layers.join(', '), ms(k.ms), pct(k.share), formatCount(k.flops), k.gflops.toFixed(2)]),
  );
  const layerTable = renderTable(
    [
      { header: 'Layer', align: 'left' },
      { header: 'Kernels', align: 'left' },
      { header: 'ms/call', align: 'right' },
      { header: 'Share', align: 'right' },
      { header: 'FLOPs', align: 'right' },
      { header: 'GFLOP/s', align: 'right' },
    ],
    r.layers.map((l) => [l.layer, l.kernels.join(', '), ms(l.ms), pct(l.share), formatCount(l.flops), l.gflops.toFixed(2)]),
  );
  const what = r.train ? 'training step' : 'predict';
  return [
    `${r.model}: ${what} at batch ${r.batch} (${r.backend}), mean of ${r.runs} warm calls: ${ms(r.callMs)} ms per call, kernels ${ms(r.kernelMs)} ms (${pct(r.callMs > 0 ? r.kernelMs / r.callMs : 0)} of it)`,
    '',
    'Kernels (slowest first):',
    kernelTable,
    '',
    'Layers (slowest first):',
    layerTable,
  ].join('\n');
}
