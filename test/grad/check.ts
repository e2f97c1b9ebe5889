// Gradient-check harness: builds `op(inputs)` into a scalar loss L = Σ y ⊙ r (r a random extra
// input, so L is linear in y and the check covers the whole VJP), differentiates it with
// `gradients`, compiles loss and gradients to an emitted JS module, and compares the gradients
// with central finite differences of L computed through that same module, in float64. It also
// checks JAX's inner-product identity ⟨J v, r⟩ = ⟨v, Jᵀ r⟩ along one random direction v over all
// inputs at once, and that the emitted module agrees with the reference interpreter.
//
// `gradSuite` registers a family of cases; emission dominates the cost, so it compiles the
// cases in small groups into shared modules (their graphs are disjoint). `checkGrads` checks one
// case on a module of its own. Modules are written under test/.out/grad-<family>/.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gradients } from '../../compiler/autodiff/grad.ts';
import { emitGpuJsModule } from '../../compiler/emit/gpujs/module.ts';
import { emitJsModule } from '../../compiler/emit/js/module.ts';
import type { Backend } from '../../compiler/emit/common.ts';
import type { Program } from '../../compiler/lower/plan.ts';
import { compileGraph } from '../../compiler/pipeline.ts';
import { unrollScans } from '../../compiler/passes/unroll-scans.ts';
import { makeNode } from '../../src/ir/build.ts';
import type { Graph } from '../../src/ir/graph.ts';
import { interpret } from '../../src/ir/interpret.ts';
import type { Node } from '../../src/ir/node.ts';
import { numel, type Dim } from '../../src/ir/shape.ts';
import { Lcg } from '../reference/lcg.ts';

export type { Node };

const OUT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '.out');

/** Arrays a compiled module takes and returns. */
type Feeds = Record<string, Float64Array>;

/** What `createModel()` of an emitted module returns (only what the checks use). */
export interface EmittedModel {
  run(feeds: Readonly<Record<string, Float32Array | Float64Array | Int32Array>>, batch: number): Record<string, Float32Array | Float64Array | Int32Array>;
}

/** One float64 graph input. */
export interface GradInput {
  /** IR shape; a leading 'N' is the batch. */
  shape: Dim[];
  /** Uniform range of the random values (default [-2, 2)). Ignored when `init` is given. */
  range?: [number, number];
  /**
   * The concrete values (batch included), e.g. bounded away from a kink by construction.
   * `prev` holds the values already drawn for the earlier inputs of the case.
   */
  init?: (rng: Lcg, size: number, shape: number[], prev: readonly Float64Array[]) => ArrayLike<number>;
  /** Fed but not differentiated (its gradient is neither asked for nor checked). */
  constant?: boolean;
}

export interface GradCase {
  /** Short name, used in file names (letters, digits, dashes). */
  name: string;
  inputs: GradInput[];
  /** The op under test, from the input nodes (all float64). */
  build: (xs: Node[]) => Node;
  /** Batch size fed at run time (default 2). */
  batch?: number;
  seed?: number;
  /** Largest allowed relative error of the FD comparisons (default 1e-6). */
  tol?: number;
  /** Finite-difference step (default 1e-6). */
  h?: number;
  /** Coordinates checked per input; larger tensors are sampled (default 60). */
  maxCoords?: number;
}

export interface GradReport {
  name: string;
  /** Worst relative FD error per differentiated input, in input order. */
  inputErrors: number[];
  /** Relative error of the inner-product (directional) check. */
  directionError: number;
  /** Largest of the above. */
  worst: number;
  /** Largest |emitted − interpreted| over every output, relative to max(1, |interpreted|). */
  interpreterDiff: number;
}

/** Concrete shape: the batch dim replaced by `batch`. */
export const concrete = (shape: readonly Dim[], batch: number): number[] => shape.map((d) => (d === 'N' ? batch : d));

// ------------------------------------------------------------------ value generators

/** Uniform magnitudes in [lo, hi) with random signs: bounded away from 0 (kinks of relu, abs, …). */
export const awayFromZero =
  (lo = 0.1, hi = 2) =>
  (rng: Lcg, size: number): Float64Array => {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) out[i] = (rng.next() < 0.5 ? -1 : 1) * rng.uniform(lo, hi);
    return out;
  };

/**
 * Distinct values with gaps of at least `gap` between any two (a shuffled arithmetic sequence,
 * centred on 0): a max over any subset has a unique winner that a tiny step cannot change.
 */
export const distinct =
  (gap = 0.05) =>
  (rng: Lcg, size: number): Float64Array => {
    const order = Array.from({ length: size }, (_, i) => i);
    for (let i = size - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return Float64Array.from(order, (k) => (k - (size - 1) / 2) * gap);
  };

/** Values avoiding the points `kinks` by at least `margin`, drawn uniformly from [lo, hi). */
export const avoiding =
  (kinks: number[], lo = -2, hi = 2, margin = 0.05) =>
  (rng: Lcg, size: number): Float64Array => {
    const out = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      let v: number;
      do v = rng.uniform(lo, hi);
      while (kinks.some((k) => Math.abs(v - k) < margin));
      out[i] = v;
    }
    return out;
  };

// ------------------------------------------------------------------ compiling and loading

/** Compiles `graph` with the real pipeline, emits its module, writes it under test/.out and imports it. */
export async function compileAndLoad(
  graph: Graph,
  family: string,
  name: string,
  weights?: Record<string, Float32Array>,
  backend: Backend = 'js',
  modelOptions: object = {},
): Promise<{ model: EmittedModel; program: Program }> {
  // GPU.js has no host loop: its programs are planned from the unrolled graph.
  const { program } = compileGraph(backend === 'gpujs' ? unrollScans(graph) : graph);
  const emit = backend === 'gpujs' ? emitGpuJsModule : emitJsModule;
  const { js } = emit(program, { graphHash: `grad-${family}-${name}` });
  const dir = join(OUT_ROOT, `grad-${family}${backend === 'js' ? '' : `-${backend}`}`);
  mkdirSync(dir, { recursive: true });
  const digest = createHash('sha256').update(js).digest('hex').slice(0, 12);
  // Named by content: reruns reuse the file, and a module is never half-written when imported.
  const file = join(dir, `${name.replace(/[^A-Za-z0-9_-]+/g, '_')}-${digest}.js`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, js);
    renameSync(tmp, file);
  }
  const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { createModel: (w?: Record<string, Float32Array>, o?: object) => EmittedModel };
  return { model: mod.createModel(weights, modelOptions), program };
}

// ------------------------------------------------------------------ the check

/** Indices of a tensor's coordinates to check: all of them, or a seeded sample with both ends. */
function sampleCoords(size: number, max: number, rng: Lcg): number[] {
  if (size <= max) return Array.from({ length: size }, (_, i) => i);
  const picked = new Set<number>([0, size - 1]);
  while (picked.size < max) picked.add(rng.int(0, size));
  return [...picked].sort((a, b) => a - b);
}

/** The scalar test loss Σ y ⊙ r. */
export function innerLoss(y: Node, r: Node): Node {
  return makeNode('reduceSum', [makeNode('mul', [y, r])], { axes: [], keepdims: false });
}

/** max|a − b| over `coords` relative to max(max|a|, floor). */
function relError(fd: readonly number[], g: readonly number[], floor = 1e-3): number {
  let diff = 0;
  let scale = floor;
  fd.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - g[i]));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

/** A case built into graph nodes with its random data; every name starts with `prefix`. */
export interface PreparedCase {
  readonly c: GradCase;
  readonly batch: number;
  readonly rng: Lcg;
  /** The case's own graph: its inputs (then r), outputs `<prefix>loss` and `<prefix>g<k>`. */
  readonly graph: Graph;
  /** Names of the differentiated inputs, in order; output `<prefix>g<k>` is the k-th one's gradient. */
  readonly wrt: readonly string[];
  readonly feeds: Feeds;
  readonly lossName: string;
  readonly gradNames: readonly string[];
}

/** Builds the op, the loss Σ y ⊙ r and its gradients, and draws the case's data. */
export function prepareCase(c: GradCase, prefix = ''): PreparedCase {
  const batch = c.batch ?? 2;
  const rng = new Lcg(c.seed ?? 20240611);
  const xs = c.inputs.map((s, i) => makeNode('input', [], { name: `${prefix}x${i}`, dtype: 'float64', shape: s.shape }));
  const y = c.build(xs);
  expect(y.type.dtype, `${c.name}: op output dtype`).toBe('float64');
  const r = makeNode('input', [], { name: `${prefix}r`, dtype: 'float64', shape: [...y.type.shape] });
  const loss = innerLoss(y, r);
  const wrt = xs.filter((_, i) => !c.inputs[i].constant);
  const grads = gradients(loss, wrt);
  const lossName = `${prefix}loss`;
  const gradNames = wrt.map((_, k) => `${prefix}g${k}`);
  const graph: Graph = {
    name: `grad_${c.name.replace(/[^A-Za-z0-9]/g, '_')}`,
    inputs: [...xs, r],
    outputs: [{ name: lossName, node: loss }, ...wrt.map((w, k) => ({ name: gradNames[k], node: grads.get(w)! }))],
  };
  // Random data: each input from its generator, r uniform in [-1, 1).
  const feeds: Feeds = {};
  const drawn: Float64Array[] = [];
  c.inputs.forEach((s, i) => {
    const shape = concrete(s.shape, batch);
    const size = numel(shape);
    const values = s.init ? Float64Array.from(s.init(rng, size, shape, drawn)) : rng.array(size, ...(s.range ?? [-2, 2]));
    expect(values.length, `${c.name}: values of input ${i}`).toBe(size);
    drawn.push(values);
    feeds[`${prefix}x${i}`] = values;
  });
  feeds[`${prefix}r`] = rng.array(numel(concrete(r.type.shape, batch)), -1, 1);
  return { c, batch, rng, graph, wrt: wrt.map((w) => w.attrs.name as string), feeds, lossName, gradNames };
}

/**
 * Checks a prepared case on a module that computes its outputs (alone, or among other cases
 * whose inputs are in `allFeeds`): emitted vs interpreted outputs, coordinate-wise central
 * differences of the loss, and the inner-product identity. Asserts, and returns the errors.
 */
export function verifyCase(p: PreparedCase, model: EmittedModel, allFeeds: Feeds = p.feeds): GradReport {
  const { c, batch, rng, feeds } = p;
  const h = c.h ?? 1e-6;
  const tol = c.tol ?? 1e-6;
  const out = model.run(allFeeds, batch);
  const lossAt = (f: Feeds): number => model.run(f, batch)[p.lossName][0];

  // The emitted module and the reference interpreter agree on every output of the case.
  const ref = interpret(p.graph, feeds, {}, batch);
  let interpreterDiff = 0;
  for (const o of p.graph.outputs) {
    expect(out[o.name], `${c.name}: emitted '${o.name}' vs interpreter`).toBeAllclose(ref[o.name], { rtol: 1e-12, atol: 1e-12 });
    out[o.name].forEach((v, i) => (interpreterDiff = Math.max(interpreterDiff, Math.abs(v - ref[o.name][i]) / Math.max(1, Math.abs(ref[o.name][i])))));
  }
  expect(Number.isFinite(out[p.lossName][0]), `${c.name}: loss is finite`).toBe(true);

  // Coordinate-wise central differences (inputs perturbed in place, then restored).
  const inputErrors: number[] = [];
  p.wrt.forEach((name, k) => {
    const x = feeds[name];
    const g = out[p.gradNames[k]];
    expect(g.length, `${c.name}: gradient of ${name}: length`).toBe(x.length);
    const coords = sampleCoords(x.length, c.maxCoords ?? 60, rng);
    const fd: number[] = [];
    for (const j of coords) {
      const x0 = x[j];
      x[j] = x0 + h;
      const up = lossAt(allFeeds);
      x[j] = x0 - h;
      const down = lossAt(allFeeds);
      x[j] = x0;
      fd.push((up - down) / (2 * h));
    }
    const err = relError(fd, coords.map((j) => g[j]));
    inputErrors.push(err);
    if (!(err < tol)) {
      const worst = coords.reduce((b, j, i) => (Math.abs(fd[i] - g[j]) > Math.abs(fd[b] - g[coords[b]]) ? i : b), 0);
      expect.fail(`${c.name}: gradient of input ${name} is off by ${err.toExponential(2)} (relative); e.g. at flat index ${coords[worst]}: emitted ${g[coords[worst]]}, finite difference ${fd[worst]}`);
    }
  });

  // Inner-product identity along a random direction v over all inputs: (L(x+hv) − L(x−hv)) / 2h = Σ⟨gᵢ, vᵢ⟩.
  const dirs = p.wrt.map((name) => rng.array(feeds[name].length, -1, 1));
  const shifted = (sign: number): Feeds => {
    const f: Feeds = { ...allFeeds };
    p.wrt.forEach((name, k) => (f[name] = feeds[name].map((v, i) => v + sign * h * dirs[k][i])));
    return f;
  };
  const fdDir = (lossAt(shifted(1)) - lossAt(shifted(-1))) / (2 * h);
  let dot = 0;
  let mag = 1e-3;
  p.gradNames.forEach((gName, k) =>
    out[gName].forEach((gv, i) => {
      dot += gv * dirs[k][i];
      mag += Math.abs(gv * dirs[k][i]);
    }),
  );
  const directionError = Math.abs(fdDir - dot) / Math.max(mag, Math.abs(fdDir));
  expect(directionError, `${c.name}: inner-product identity (fd ${fdDir}, ⟨g, v⟩ ${dot})`).toBeLessThan(tol);

  const worst = Math.max(directionError, ...inputErrors);
  return { name: c.name, inputErrors, directionError, worst, interpreterDiff };
}

/**
 * Checks the gradients of `Σ build(inputs) ⊙ r` w.r.t. every non-constant input against
 * central finite differences evaluated through the case's own emitted module.
 */
export async function checkGrads(c: GradCase, family: string): Promise<GradReport> {
  const p = prepareCase(c);
  const { model } = await compileAndLoad(p.graph, family, c.name);
  return verifyCase(p, model);
}

/** Several prepared cases (of one batch size) compiled into one module: one emission for all. */
export async function compileTogether(cases: readonly PreparedCase[], family: string, name: string): Promise<{ model: EmittedModel; feeds: Feeds }> {
  const graph: Graph = {
    name: `grad_${family.replace(/[^A-Za-z0-9]/g, '_')}`,
    inputs: cases.flatMap((p) => p.graph.inputs),
    outputs: cases.flatMap((p) => p.graph.outputs),
  };
  const { model } = await compileAndLoad(graph, family, name);
  return { model, feeds: Object.assign({}, ...cases.map((p) => p.feeds)) as Feeds };
}

// ------------------------------------------------------------------ per-family summaries

/** Collects each case's worst error; `write` saves them as JSON under test/.out for reports. */
export function summary(family: string) {
  const rows: { name: string; worst: number; interpreterDiff: number }[] = [];
  return {
    add(r: GradReport): GradReport {
      rows.push({ name: r.name, worst: r.worst, interpreterDiff: r.interpreterDiff });
      return r;
    },
    write(): void {
      if (!rows.length) return;
      mkdirSync(OUT_ROOT, { recursive: true });
      const worst = rows.reduce((a, b) => (b.worst > a.worst ? b : a));
      writeFileSync(join(OUT_ROOT, `grad-summary-${family}.json`), JSON.stringify({ family, worst, rows }, null, 2));
    },
  };
}

/**
 * Cases per shared module: emission costs a fixed part per module plus a part per kernel, and
 * every finite-difference run of a shared module runs all of its cases, so groups stay small.
 */
const GROUP_SIZE = 8;

/**
 * Registers one test per case under `describe(title)`. Emission dominates the cost of a check,
 * so cases are compiled in groups of one batch size into shared modules (their graphs are
 * disjoint, so each case gets the kernels it would get alone). Should a group fail to compile,
 * a first test reports it, and that group's cases fall back to modules of their own, so the
 * failure is pinned on the cases that cause it.
 */
export function gradSuite(family: string, title: string, cases: readonly GradCase[]): void {
  const s = summary(family);
  type Shared = { prepared: Map<GradCase, PreparedCase>; model: EmittedModel; feeds: Feeds };
  const groups: GradCase[][] = [];
  for (const batch of new Set(cases.map((c) => c.batch ?? 2))) {
    const same = cases.filter((c) => (c.batch ?? 2) === batch);
    for (let i = 0; i < same.length; i += GROUP_SIZE) groups.push(same.slice(i, i + GROUP_SIZE));
  }
  const jobs = new Map<GradCase[], Promise<Shared | Error>>();
  const compileGroup = (group: GradCase[]): Promise<Shared | Error> => {
    let job = jobs.get(group);
    if (!job) {
      job = (async () => {
        try {
          const prepared = new Map(group.map((c, k) => [c, prepareCase(c, `c${k}_`)] as const));
          const { model, feeds } = await compileTogether([...prepared.values()], family, `group${groups.indexOf(group)}`);
          return { prepared, model, feeds };
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      })();
      jobs.set(group, job);
    }
    return job;
  };
  describe(title, () => {
    it('every group of cases compiles into one module', async () => {
      for (const group of groups) {
        const job = await compileGroup(group);
        if (job instanceof Error) throw new Error(`group [${group.map((c) => c.name).join(', ')}]: ${job.message}`, { cause: job });
      }
    });
    for (const group of groups) {
      for (const c of group) {
        it(c.name, async () => {
          const job = await compileGroup(group);
          s.add(job instanceof Error ? await checkGrads(c, family) : verifyCase(job.prepared.get(c)!, job.model, job.feeds));
        });
      }
    }
  });
  afterAll(() => s.write());
}
