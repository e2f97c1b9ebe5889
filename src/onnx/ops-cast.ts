// ONNX Cast and CastLike, including the rounding of casts to narrow float and integer types.
import type { Node } from '../ir/node.ts';
import { dtypeName, isWidenedType, kilnDType } from './tensor.ts';
import { int, str, type OnnxContext, type OnnxOp } from './context.ts';

/**
 * ONNX element types whose every value FLOAT16 and BFLOAT16 hold exactly (so a Cast to those needs
 * no rounding): BOOL, the 8-bit and narrower integers, FLOAT8E4M3FN(UZ), FLOAT8E5M2(FNUZ), FLOAT4E2M1.
 */
export const EXACT_IN_HALF = new Set([9, 2, 3, 21, 22, 25, 26, 17, 18, 19, 20, 23]);

export type Special = 'inf' | 'nan' | 'max';
/**
 * The narrow float formats a Cast can round to (kept in float32): mantissa bits, smallest normal
 * exponent, largest value, and what overflow and ±∞ become with and without `saturate` (ONNX's
 * Cast table; FLOAT16 and BFLOAT16 are IEEE-like and ignore saturate).
 */
export const NARROW_FLOATS: Record<number, { mantissa: number; minExp: number; max: number; nanToZero?: boolean; least?: number; saturate: { overflow: Special; inf: Special }; plain: { overflow: Special; inf: Special } }> = {
  10: { mantissa: 10, minExp: -14, max: 65504, saturate: { overflow: 'inf', inf: 'inf' }, plain: { overflow: 'inf', inf: 'inf' } },
  16: { mantissa: 7, minExp: -126, max: 3.3895313892515355e38, saturate: { overflow: 'inf', inf: 'inf' }, plain: { overflow: 'inf', inf: 'inf' } },
  17: { mantissa: 3, minExp: -6, max: 448, saturate: { overflow: 'max', inf: 'max' }, plain: { overflow: 'nan', inf: 'nan' } },
  18: { mantissa: 3, minExp: -7, max: 240, saturate: { overflow: 'max', inf: 'max' }, plain: { overflow: 'nan', inf: 'nan' } },
  19: { mantissa: 2, minExp: -14, max: 57344, saturate: { overflow: 'max', inf: 'max' }, plain: { overflow: 'inf', inf: 'inf' } },
  20: { mantissa: 2, minExp: -15, max: 57344, saturate: { overflow: 'max', inf: 'max' }, plain: { overflow: 'nan', inf: 'nan' } },
  // FLOAT4E2M1 has neither ∞ nor NaN: it always saturates, and NaN becomes 0.
  23: { mantissa: 1, minExp: 0, max: 6, saturate: { overflow: 'max', inf: 'max' }, plain: { overflow: 'max', inf: 'max' }, nanToZero: true },
  // FLOAT8E8M0: powers of two 2^-127 … 2^127 only (no zero, no sign), rounded as round_mode says.
  24: { mantissa: 0, minExp: -127, max: 2 ** 127, least: 2 ** -127, saturate: { overflow: 'max', inf: 'max' }, plain: { overflow: 'nan', inf: 'nan' } },
};

/** The sub-byte integers a Cast from a float rounds (ties to even) and wraps to. */
export const NARROW_INTS: Record<number, [number, number]> = { 21: [0, 15], 22: [-8, 7], 25: [0, 3], 26: [-2, 1] };

/**
 * x cast to ONNX element type `to` (x's own ONNX type `from` where known). The narrow types Kiln
 * carries widened are reached by rounding in place (roundFloat, roundInt) from a float, or need
 * nothing when every value of `from` is exact in them; other casts to them are unsupported.
 */
export function castTo(c: OnnxContext, x: Node, to: number, from: number | undefined, saturate: boolean, what: string): Node {
  const dtype = kilnDType(to);
  const exact = (to === 10 || to === 16) && from !== undefined && EXACT_IN_HALF.has(from);
  const isFloat = x.type.dtype === 'float32' || x.type.dtype === 'float64';
  const format = NARROW_FLOATS[to];
  if (format && !exact && isFloat) {
    const { overflow, inf } = saturate ? format.saturate : format.plain;
    const attrs: Record<string, unknown> = { mantissa: format.mantissa, minExp: format.minExp, max: format.max, overflow, inf, nanToZero: format.nanToZero ?? false };
    if (to === 24) {
      // round_mode: 'up' (the default) or 'down'; 'nearest' has its own tie rule, not implemented.
      const mode = str(c, 'round_mode', 'up');
      if (mode !== 'up' && mode !== 'down') c.unsupported(`round_mode ${JSON.stringify(mode)} is not supported`);
      if (x.type.dtype !== 'float32' && x.type.dtype !== 'float64') c.unsupported(`cast to FLOAT8E8M0 needs a float input`);
      Object.assign(attrs, { mode, least: format.least });
    }
    return c.emit('roundFloat', [x], attrs);
  }
  const range = NARROW_INTS[to];
  if (range && isFloat) return c.emit('roundInt', [x], { min: range[0], max: range[1] });
  if (!dtype || to === 9 || (isWidenedType(to) && !(to >= 2 && to <= 5) && !exact)) c.unsupported(`${what} to ${dtypeName(to)} is not supported`);
  return dtype === x.type.dtype ? c.emit('identity', [x]) : c.emit('cast', [x], { to: dtype });
}

export const cast: OnnxOp = (c) => castTo(c, c.input(0), int(c, 'to', 0), c.elemType(0), int(c, 'saturate', 1) !== 0, 'cast');

/** CastLike: Cast to the element type of input 1 (its ONNX type where known, else its Kiln dtype). */
export const castLike: OnnxOp = (c) => {
  const x = c.input(0);
  const target = c.elemType(1);
  if (target !== undefined) return castTo(c, x, target, c.elemType(0), int(c, 'saturate', 1) !== 0, 'CastLike');
  const to = c.input(1).type.dtype;
  return to === x.type.dtype ? c.emit('identity', [x]) : c.emit('cast', [x], { to });
};
