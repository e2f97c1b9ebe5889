// Naive references for matmul, NCHW convolution, pooling and batch norm: direct loops over textbook definitions.
import { at, broadcastFrom, broadcastShape, maxOf, ravel, sizeOf, sumOf, tensor, unravel, type Tensor } from './tensor.ts';

// ---------------------------------------------------------------- matmul

/** [..., M, K] · [..., K, N] with optional transposed operands and broadcast leading dims. */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, ka] = transA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (ka !== kb) throw new Error(`matmul: inner dims ${ka} vs ${kb}`);
  const aLead = a.shape.slice(0, -2);
  const bLead = b.shape.slice(0, -2);
  const lead = broadcastShape(aLead, bLead);
  const out = tensor([...lead, m, n]);
  const leadCount = sizeOf(lead);
  for (let l = 0; l < leadCount; l++) {
    const li = unravel(l, lead);
    const al = broadcastFrom(li, aLead);
    const bl = broadcastFrom(li, bLead);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < ka; k++) {
          const av = at(a, [...al, ...(transA ? [k, i] : [i, k])]);
          const bv = at(b, [...bl, ...(transB ? [j, k] : [k, j])]);
          s += av * bv;
        }
        out.data[(l * m + i) * n + j] = s;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- convolution and pooling (NCHW)

export interface Window {
  strides?: [number, number];
  /** [top, left, bottom, right]. */
  pads?: [number, number, number, number];
  dilations?: [number, number];
}

const extent = (size: number, k: number, s: number, d: number, before: number, after: number) =>
  Math.floor((size + before + after - d * (k - 1) - 1) / s) + 1;

/** Direct 2-D convolution: 7 nested loops over n, f, oh, ow, c, kh, kw. */
export function conv2d(x: Tensor, w: Tensor, win: Window & { group?: number } = {}): Tensor {
  const [sh, sw] = win.strides ?? [1, 1];
  const [pt, pl, pb, pr] = win.pads ?? [0, 0, 0, 0];
  const [dh, dw] = win.dilations ?? [1, 1];
  const group = win.group ?? 1;
  const [N, C, H, W] = x.shape;
  const [F, CG, KH, KW] = w.shape;
  if (CG * group !== C) throw new Error('conv2d: channel mismatch');
  const OH = extent(H, KH, sh, dh, pt, pb);
  const OW = extent(W, KW, sw, dw, pl, pr);
  const out = tensor([N, F, OH, OW]);
  const fPerGroup = F / group;
  for (let n = 0; n < N; n++)
    for (let f = 0; f < F; f++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          const g = Math.floor(f / fPerGroup);
          for (let c = 0; c < CG; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * sh - pt + kh * dh;
                const iw = ow * sw - pl + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue; // zero padding
                s += at(x, [n, g * CG + c, ih, iw]) * at(w, [f, c, kh, kw]);
              }
          out.data[ravel([n, f, oh, ow], out.shape)] = s;
        }
  return out;
}

/** Visits the in-bounds taps of every pooling window; `reduce` gets the tap values and the window size. */
function pool(x: Tensor, kernel: [number, number], win: Window, reduce: (taps: number[], windowSize: number) => number): Tensor {
  const [sh, sw] = win.strides ?? kernel;
  const [pt, pl, pb, pr] = win.pads ?? [0, 0, 0, 0];
  const [dh, dw] = win.dilations ?? [1, 1];
  const [N, C, H, W] = x.shape;
  const OH = extent(H, kernel[0], sh, dh, pt, pb);
  const OW = extent(W, kernel[1], sw, dw, pl, pr);
  const out = tensor([N, C, OH, OW]);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const taps: number[] = [];
          for (let kh = 0; kh < kernel[0]; kh++)
            for (let kw = 0; kw < kernel[1]; kw++) {
              const ih = oh * sh - pt + kh * dh;
              const iw = ow * sw - pl + kw * dw;
              if (ih >= 0 && ih < H && iw >= 0 && iw < W) taps.push(at(x, [n, c, ih, iw]));
            }
          out.data[ravel([n, c, oh, ow], out.shape)] = reduce(taps, kernel[0] * kernel[1]);
        }
  return out;
}


export const maxPool2d = (x: Tensor, kernel: [number, number], win: Window = {}) => pool(x, kernel, win, maxOf);

/** Average pool; without countIncludePad the divisor is the number of in-bounds taps (ONNX/PyTorch). */
export const avgPool2d = (x: Tensor, kernel: [number, number], win: Window & { countIncludePad?: boolean } = {}) =>
  pool(x, kernel, win, (taps, k) => sumOf(taps) / (win.countIncludePad ? k : taps.length));

/** Mean over every axis after the first two: [N, C, ...] → [N, C, 1, ...]. */
export function globalAvgPool(x: Tensor): Tensor {
  const [N, C] = x.shape;
  const inner = sizeOf(x.shape.slice(2));
  const out = tensor([N, C, ...x.shape.slice(2).map(() => 1)]);
  for (let nc = 0; nc < N * C; nc++) {
    let s = 0;
    for (let i = 0; i < inner; i++) s += x.data[nc * inner + i];
    out.data[nc] = s / inner;
  }
  return out;
}

// ---------------------------------------------------------------- normalisation

/** Inference batch norm over channel axis 1: (x − mean)/√(var + ε)·scale + bias. */
export function batchNorm(x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, eps: number): Tensor {
  const out = tensor(x.shape);
  for (let i = 0; i < x.data.length; i++) {
    const c = unravel(i, x.shape)[1];
    out.data[i] = ((x.data[i] - mean.data[c]) / Math.sqrt(variance.data[c] + eps)) * scale.data[c] + bias.data[c];
  }
  return out;
}
