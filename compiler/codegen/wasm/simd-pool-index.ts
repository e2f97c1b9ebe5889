// Index arithmetic of the pooling SIMD kernels (simd-pool.ts) as scalar i32 code over the loop
// variables that stay scalar (the rows, the tap loops): floor division and modulo by constants,
// tests as 1/0, and the clamp that keeps a masked-out read's address inside its dimension.
import type { Expr } from '../../../src/ir/expr.ts';
import { I32 } from './binary.ts';
import { isCompare, isLogic, type PoolPlan } from './simd-pool-plan.ts';
import { NotExpressible, type SimdWriter } from './simd-writer.ts';

/** Floor division and modulo by a constant s as unsigned ops on `a + s·BIAS` (a ≥ −s·BIAS). */
const BIAS = 1 << 20;
const MAX_DIVISOR = 1024;
const INT_CMP = { lt: 'i32.lt_s', le: 'i32.le_s', gt: 'i32.gt_s', ge: 'i32.ge_s', eq: 'i32.eq', ne: 'i32.ne' } as const;

/** Pushes pure `e` as an i32 over the plan's scalar loop variables (floor division and modulo, tests as 1/0). */
export function pushInt(w: SimdWriter, plan: PoolPlan, e: Expr): void {
  const f = w.f;
  switch (e.k) {
    case 'const':
      if (!Number.isInteger(e.value)) throw new NotExpressible();
      f.i32(e.value);
      return;
    case 'var':
      if (!plan.scalar.has(e.name)) throw new NotExpressible();
      f.get(w.varLocal(e.name));
      return;
    case 'binary': {
      if (e.op === 'idiv' || e.op === 'mod') {
        const d = e.b.k === 'const' ? e.b.value : NaN;
        if (!Number.isInteger(d) || d < 1 || d > MAX_DIVISOR) throw new NotExpressible();
        pushInt(w, plan, e.a);
        f.i32(d * BIAS).op('i32.add').i32(d).op(e.op === 'idiv' ? 'i32.div_u' : 'i32.rem_u');
        if (e.op === 'idiv') f.i32(BIAS).op('i32.sub');
        return;
      }
      if ((e.op === 'and' || e.op === 'or') && ![e.a, e.b].every((x) => isCompare(x) || isLogic(x))) throw new NotExpressible();
      pushInt(w, plan, e.a);
      pushInt(w, plan, e.b);
      if (e.op === 'add' || e.op === 'sub' || e.op === 'mul') f.op(`i32.${e.op}`);
      else if (e.op === 'and' || e.op === 'or') f.op(`i32.${e.op}`);
      else if (e.op in INT_CMP) f.op(INT_CMP[e.op as keyof typeof INT_CMP]);
      else throw new NotExpressible();
      return;
    }
    default:
      throw new NotExpressible();
  }
}

/** Pushes index `e` of a dimension of extent `extent`, clamped into it unless it is a loop variable that stays inside. */
export function pushClampedIndex(w: SimdWriter, plan: PoolPlan, e: Expr, extent: number): void {
  const f = w.f;
  const loop = e.k === 'var' ? [...plan.out.slice(0, -1), ...plan.runtime].find((v) => v.name === e.name) : undefined;
  pushInt(w, plan, e);
  if (loop && typeof loop.extent === 'number' && loop.extent <= extent) return;
  // A masked-out read (a window past the edge) may index outside; its value is never used.
  const t = f.local(I32);
  f.tee(t).i32(0).get(t).i32(0).op('i32.ge_s').select().tee(t);
  f.i32(extent - 1).get(t).i32(extent).op('i32.lt_s').select();
}
