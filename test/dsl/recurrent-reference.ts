// Naive reference loops for RNN, LSTM and GRU, written from the formulas of PyTorch's documentation
// (torch.nn.RNN / LSTM / GRU), in float64, with PyTorch's weight layout: W_ih [G·H, F] and
// W_hh [G·H, H] with gate blocks i,f,g,o (LSTM) and r,z,n (GRU), biases b_ih and b_hh [G·H].
export type Kind = 'rnn' | 'lstm' | 'gru';

export interface TorchWeights {
  wIh: Float64Array;
  wHh: Float64Array;
  bIh: Float64Array;
  bHh: Float64Array;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Row `r` of a [rows, cols] matrix times vector v. */
function rowDot(m: Float64Array, cols: number, r: number, v: ArrayLike<number>, offset = 0): number {
  let s = 0;
  for (let k = 0; k < cols; k++) s += m[r * cols + k] * v[offset + k];
  return s;
}

export interface RefResult {
  /** [N, T, H] states at every time index. */
  seq: Float64Array;
  /** [N, H] final states (after the last step run). */
  h: Float64Array;
  c: Float64Array;
}

/**
 * One direction over x [N, T, F]; `reverse` runs t = T−1 … 0. `linearBeforeReset` false is the
 * GRU of Cho et al. (n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)); true is PyTorch's.
 */
export function reference(kind: Kind, x: Float64Array, N: number, T: number, F: number, H: number, w: TorchWeights, opts: { reverse?: boolean; linearBeforeReset?: boolean; h0?: Float64Array; c0?: Float64Array } = {}): RefResult {
  const seq = new Float64Array(N * T * H);
  const hOut = new Float64Array(N * H);
  const cOut = new Float64Array(N * H);
  for (let n = 0; n < N; n++) {
    let h = opts.h0 ? Array.from(opts.h0.subarray(n * H, (n + 1) * H)) : new Array<number>(H).fill(0);
    let c = opts.c0 ? Array.from(opts.c0.subarray(n * H, (n + 1) * H)) : new Array<number>(H).fill(0);
    for (let k = 0; k < T; k++) {
      const t = opts.reverse ? T - 1 - k : k;
      const xo = (n * T + t) * F;
      // Gate block g, unit j: W_ih x + b_ih and W_hh h + b_hh separately.
      const xi = (g: number, j: number) => rowDot(w.wIh, F, g * H + j, x, xo) + w.bIh[g * H + j];
      const hi = (g: number, j: number) => rowDot(w.wHh, H, g * H + j, h) + w.bHh[g * H + j];
      const nh = new Array<number>(H);
      const nc = new Array<number>(H);
      for (let j = 0; j < H; j++) {
        if (kind === 'rnn') nh[j] = Math.tanh(xi(0, j) + hi(0, j));
        else if (kind === 'lstm') {
          const i = sigmoid(xi(0, j) + hi(0, j));
          const f = sigmoid(xi(1, j) + hi(1, j));
          const g = Math.tanh(xi(2, j) + hi(2, j));
          const o = sigmoid(xi(3, j) + hi(3, j));
          nc[j] = f * c[j] + i * g;
          nh[j] = o * Math.tanh(nc[j]);
        } else {
          const r = sigmoid(xi(0, j) + hi(0, j));
          const z = sigmoid(xi(1, j) + hi(1, j));
          let nn: number;
          if (opts.linearBeforeReset !== false) nn = Math.tanh(xi(2, j) + r * hi(2, j));
          else {
            // W_hn (r ⊙ h): every unit's reset gate applies to h before the product.
            let s = w.bHh[2 * H + j];
            for (let m = 0; m < H; m++) s += w.wHh[(2 * H + j) * H + m] * sigmoid(xi(0, m) + hi(0, m)) * h[m];
            nn = Math.tanh(xi(2, j) + s);
          }
          nh[j] = (1 - z) * nn + z * h[j];
        }
      }
      h = nh;
      if (kind === 'lstm') c = nc;
      for (let j = 0; j < H; j++) seq[(n * T + t) * H + j] = h[j];
    }
    for (let j = 0; j < H; j++) {
      hOut[n * H + j] = h[j];
      cOut[n * H + j] = c[j];
    }
  }
  return { seq, h: hOut, c: cOut };
}

/** PyTorch's gate blocks of each order, as the PyTorch block index that sits at each position. */
const FROM_TORCH: Record<Kind, Record<'pytorch' | 'keras' | 'onnx', number[]>> = {
  rnn: { pytorch: [0], keras: [0], onnx: [0] },
  // PyTorch i,f,g,o; Keras i,f,c,o; ONNX i,o,f,c.
  lstm: { pytorch: [0, 1, 2, 3], keras: [0, 1, 2, 3], onnx: [0, 3, 1, 2] },
  // PyTorch r,z,n; Keras and ONNX z,r,h.
  gru: { pytorch: [0, 1, 2], keras: [1, 0, 2], onnx: [1, 0, 2] },
};

/** A [G·H, cols] PyTorch matrix as Kiln's [cols, G·H] kernel with the gate blocks in `order`. */
export function toKernel(kind: Kind, m: Float64Array, H: number, cols: number, order: 'pytorch' | 'keras' | 'onnx'): Float32Array {
  const blocks = FROM_TORCH[kind][order];
  const G = blocks.length;
  const out = new Float32Array(cols * G * H);
  blocks.forEach((src, pos) => {
    for (let j = 0; j < H; j++) for (let k = 0; k < cols; k++) out[k * G * H + pos * H + j] = m[(src * H + j) * cols + k];
  });
  return out;
}

/** A [G·H] PyTorch bias with its blocks in `order`. */
export function toBias(kind: Kind, b: Float64Array, H: number, order: 'pytorch' | 'keras' | 'onnx'): Float32Array {
  const blocks = FROM_TORCH[kind][order];
  const out = new Float32Array(b.length);
  blocks.forEach((src, pos) => out.set(b.subarray(src * H, (src + 1) * H), pos * H));
  return out;
}
