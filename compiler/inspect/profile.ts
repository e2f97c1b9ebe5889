// `kiln profile`'s arithmetic: measured kernel times joined with each kernel's fused ops, layers and
// FLOPs, summed per layer, as shares of the whole and GFLOP/s. Kernels are matched by name, loop
// bodies' included (a body kernel runs once per step), and each loop's own time (copies) is a row
// of its own. Pure: the timing happens elsewhere.
import { loopTimeNames } from '../emit/js/profile.ts';
import type { Kernel } from '../lower/kernel.ts';
import type { Step } from '../lower/loop.ts';
import type { Program } from '../lower/plan.ts';
import { memberNodes } from './kernel-nodes.ts';
import { nodeFlops } from './summary.ts';
import { formatCount, renderTable } from './table.ts';

/** One kernel's time, or one loop's own (its copies), per call of the entry point. */
export interface KernelTime {
  /** The kernel's name, or a loop's (`kloop0`: the loop's time less its body's kernels and inner loops). */
  readonly name: string;
  /** `model` (predict), `step` (the training step) or `evaluate` (the trainer's evaluation). */
  readonly entry: string;
  /** The ops fused into the kernel; a loop's row: `scan`. */
  readonly ops: readonly string[];
  readonly layers: readonly string[];
  /** Milliseconds per call of the entry point (a loop body's kernel: summed over its steps). */
  readonly ms: number;
  /** Calls measured: one per profiled run, times the steps of each loop it is in. */
  readonly calls: number;
  /** Share of the sum of all kernels' times (0 to 1). */
  readonly share: number;
  /** Floating-point operations per call of the entry point at the profiled batch (a loop body's kernel: over all its steps). */
  readonly flops: number;
  readonly gflops: number;
  /** The loop whose body the kernel is in (the innermost), by its row's name. */
  readonly loop?: string;
  /** A loop's row: its steps and the rows of its body (kernels and inner loops). */
  readonly steps?: number;
  readonly body?: readonly string[];
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
  /** Sum of the kernels' (and loops' own) mean times per call. */
  readonly kernelMs: number;
  /** Kernels in execution order, each loop's row before its body's. */
  readonly kernels: readonly KernelTime[];
  readonly layers: readonly LayerTime[];
}

/** One compiled entry point: its program's kernels and host schedule (loops and their bodies). */
export interface ProfiledEntry {
  readonly entry: string;
  readonly program: Pick<Program, 'kernels' | 'schedule'>;
}

/** Unlabelled nodes (an imported graph's glue, optimizer updates) are counted under this name. */
export const NO_LAYER = '(no layer)';

/** FLOPs per layer of one call of a kernel (the nodes it computes, recomputed producers included) at `batch`. */
function kernelFlops(k: Kernel, batch: number): Map<string, number> {
  const byLayer = new Map<string, number>();
  for (const n of memberNodes(k)) {
    const layer = n.meta.layer ?? NO_LAYER;
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + nodeFlops(n, batch));
  }
  return byLayer;
}

const gflops = (flops: number, ms: number) => (ms > 0 ? flops / ms / 1e6 : 0);

type Times = Readonly<Record<string, { ms: number; calls: number }>>;

/** A row before shares: per-layer FLOPs per entry call, and time per entry call. */
interface Row {
  readonly name: string;
  readonly entry: string;
  readonly ops: readonly string[];
  readonly perLayer: Map<string, number>;
  readonly flops: number;
  readonly calls: number;
  readonly ms: number;
  readonly loop?: string;
  readonly steps?: number;
  readonly body?: readonly string[];
}

/**
 * One entry's rows in execution order: a kernel's time is its table entry's; a loop's own time is
 * its entry less its body's kernels and inner loops (measured inside it), so the copies between
 * steps show, and nothing counts twice. Iterative over nested loops: a stack of schedules.
 */
function entryRows(e: ProfiledEntry, times: Times, runs: number, batch: number): Row[] {
  const loopNames = loopTimeNames(e.program);
  const total = (name: string) => (Object.hasOwn(times, name) ? times[name] : { ms: 0, calls: 0 });
  const rows: Row[] = [];
  // Each frame: steps still to visit (reversed, popped from the end), the enclosing loop's name, and steps per run.
  const stack: { todo: Step[]; loop?: string; repeat: number }[] = [{ todo: [...e.program.schedule].reverse(), repeat: 1 }];
  while (stack.length) {
    const frame = stack[stack.length - 1];
    const st = frame.todo.pop();
    if (!st) {
      stack.pop();
      continue;
    }
    if (st.kind === 'kernel') {
      const t = total(st.kernel.name);
      const perLayer = new Map([...kernelFlops(st.kernel, batch)].map(([l, f]) => [l, f * frame.repeat]));
      const flops = [...perLayer.values()].reduce((s, f) => s + f, 0);
      rows.push({ name: st.kernel.name, entry: e.entry, ops: st.kernel.ops, perLayer, flops, calls: t.calls, ms: t.ms / runs, ...(frame.loop ? { loop: frame.loop } : {}) });
      continue;
    }
    const l = st.loop;
    const name = loopNames.get(l)!;
    const inner = l.body.map((b) => (b.kind === 'kernel' ? b.kernel.name : loopNames.get(b.loop)!));
    const own = total(name).ms - inner.reduce((s, n) => s + total(n).ms, 0);
    const layer = l.node.meta.layer ?? NO_LAYER;
    rows.push({ name, entry: e.entry, ops: ['scan'], perLayer: new Map([[layer, 0]]), flops: 0, calls: total(name).calls, ms: Math.max(0, own) / runs, steps: l.steps, body: inner, ...(frame.loop ? { loop: frame.loop } : {}) });
    stack.push({ todo: [...l.body].reverse(), loop: name, repeat: frame.repeat * l.steps });
  }
  return rows;
}

/**
 * The report from measured times (`times[name]`: ms and calls summed over `head.runs` calls of
 * each entry): kernels in execution order, layers by time. A kernel's time goes to its layers in
 * proportion to their FLOPs in it (evenly when it has none), so a fused dense+relu kernel stays
 * with its layer; a loop's own time goes to the scan's layer.
 */
export function profileReport(head: Omit<ProfileReport, 'kernelMs' | 'kernels' | 'layers'>, entries: readonly ProfiledEntry[], times: Times): ProfileReport {
  const runs = Math.max(1, head.runs);
  const rows = entries.flatMap((e) => entryRows(e, times, runs, head.batch));
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
    kernels: rows.map(({ perLayer, ...r }) => ({ ...r, ops: [...r.ops], layers: [...perLayer.keys()], share: share(r.ms), gflops: gflops(r.flops, r.ms) })),
    layers: [...layers].map(([layer, l]) => ({ layer, ms: l.ms, share: share(l.ms), flops: l.flops, gflops: gflops(l.flops, l.ms), kernels: l.kernels })).sort((a, b) => b.ms - a.ms),
  };
}

const ms = (v: number) => (v >= 1 ? v.toFixed(2) : v.toFixed(3));
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

/** A row's Ops cell: a kernel's fused ops, or what a loop's own row is. */
const opsCell = (k: KernelTime) => (k.steps !== undefined ? `scan, ${k.steps} steps: copies between steps (body ${(k.body ?? []).join(', ')})` : k.ops.join(' → '));

/** The report as text: the totals, then kernels and layers, slowest first. */
export function formatProfile(r: ProfileReport): string {
  const kernels = [...r.kernels].sort((a, b) => b.ms - a.ms);
  const kernelTable = renderTable(
    [
      { header: 'Kernel', align: 'left' },
      { header: 'Entry', align: 'left' },
      { header: 'Ops', align: 'left' },
      { header: 'Layers', align: 'left' },
      { header: 'Calls', align: 'right' },
      { header: 'ms/call', align: 'right' },
      { header: 'Share', align: 'right' },
      { header: 'FLOPs', align: 'right' },
      { header: 'GFLOP/s', align: 'right' },
    ],
    kernels.map((k) => [k.name, k.loop ? `${k.entry} (${k.loop})` : k.entry, opsCell(k), k.layers.join(', '), formatCount(r.runs > 0 ? Math.round(k.calls / r.runs) : 0), ms(k.ms), pct(k.share), formatCount(k.flops), k.gflops.toFixed(2)]),
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
