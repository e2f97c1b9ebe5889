// Hand-written JavaScript: what a careful engineer writes without a compiler. Plain loops over
// Float32Array buffers allocated once per workload (nothing is allocated in run()), every matrix
// product a 4×4 register tile (16 scalar accumulators, k innermost), the forward right-hand
// operand packed into 4-column panels, k blocked for the caches; conv + bias + ReLU + max-pool fused
// into one pass; backward passes and Adam written out by hand. No WebAssembly, no workers.
import { load, main, sample } from './common.mjs';

const KC = 256; // k block of the packed product: a 4-row strip of A and a piece of a B panel stay in L1

/** B [K, N] row-major → 4-column panels: panel p holds B[k, 4p..4p+3] at p·4K + 4k (zero padded). */
function pack(B, K, N, Bp) {
  for (let p = 0, j = 0; j < N; p++, j += 4) {
    const w = Math.min(4, N - j);
    let o = p * 4 * K;
    for (let k = 0; k < K; k++, o += 4) {
      const r = k * N + j;
      for (let c = 0; c < 4; c++) Bp[o + c] = c < w ? B[r + c] : 0;
    }
  }
}

/** The tile epilogue for one element: adds the bias (first k block) or the partial sum, then ReLU. */
function put(C, o, s, first, last, bias, bj, relu) {
  s += first ? (bias === null ? 0 : bias[bj]) : C[o];
  C[o] = relu && last && s < 0 ? 0 : s;
}

/** The first w ≤ 4 elements of a tile row. */
function put4(C, o, w, c0, c1, c2, c3, first, last, bias, j, relu) {
  put(C, o, c0, first, last, bias, j, relu);
  if (w > 1) put(C, o + 1, c1, first, last, bias, j + 1, relu);
  if (w > 2) put(C, o + 2, c2, first, last, bias, j + 2, relu);
  if (w > 3) put(C, o + 3, c3, first, last, bias, j + 3, relu);
}

/**
 * C [M, N] (row stride ldc) = A [M, K] (row stride lda) · B (+ bias per column) (then ReLU), with B
 * packed by pack(). 4×4 tiles; a last strip of 1-row tiles when M is not a multiple of 4.
 */
function gemmPacked(M, N, K, A, lda, Bp, C, ldc, bias, relu) {
  const P = (N + 3) >> 2, M4 = M & ~3;
  const a1 = lda, a2 = 2 * lda, a3 = 3 * lda;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const k1 = Math.min(K, k0 + KC), first = k0 === 0, last = k1 === K;
    for (let p = 0; p < P; p++) {
      const j = p << 2, w = Math.min(4, N - j), pb = p * 4 * K + 4 * k0;
      for (let i = 0; i < M4; i += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let pa = i * lda + k0, q = pb;
        for (let k = k0; k < k1; k++, pa++, q += 4) {
          const b0 = Bp[q], b1 = Bp[q + 1], b2 = Bp[q + 2], b3 = Bp[q + 3];
          const x0 = A[pa], x1 = A[pa + a1], x2 = A[pa + a2], x3 = A[pa + a3];
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        }
        const o = i * ldc + j;
        put4(C, o, w, c00, c01, c02, c03, first, last, bias, j, relu);
        put4(C, o + ldc, w, c10, c11, c12, c13, first, last, bias, j, relu);
        put4(C, o + 2 * ldc, w, c20, c21, c22, c23, first, last, bias, j, relu);
        put4(C, o + 3 * ldc, w, c30, c31, c32, c33, first, last, bias, j, relu);
      }
      for (let i = M4; i < M; i++) {
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        let pa = i * lda + k0, q = pb;
        for (let k = k0; k < k1; k++, pa++, q += 4) {
          const x0 = A[pa];
          c0 += x0 * Bp[q]; c1 += x0 * Bp[q + 1]; c2 += x0 * Bp[q + 2]; c3 += x0 * Bp[q + 3];
        }
        put4(C, i * ldc + j, w, c0, c1, c2, c3, first, last, bias, j, relu);
      }
    }
  }
}

/**
 * C = A·B for operands given by strides: A(i, k) = A[i·ars + k·aks], B(k, j) = B[k·bks + j·bjs],
 * C(i, j) = C[i·crs + j·ccs] (overwritten). Covers Aᵀ·B and A·Bᵀ in the backward passes without
 * transposing anything. 4×4 tiles, row tiles outermost; the edges as plain dot products.
 */
function gemmStrided(M, N, K, A, ars, aks, B, bks, bjs, C, crs, ccs) {
  const M4 = M & ~3, N4 = N & ~3;
  const a1 = ars, a2 = 2 * ars, a3 = 3 * ars, b1s = bjs, b2s = 2 * bjs, b3s = 3 * bjs;
  for (let i = 0; i < M4; i += 4) {
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = i * ars, pb = j * bjs;
      for (let k = 0; k < K; k++, pa += aks, pb += bks) {
        const b0 = B[pb], b1 = B[pb + b1s], b2 = B[pb + b2s], b3 = B[pb + b3s];
        const x0 = A[pa], x1 = A[pa + a1], x2 = A[pa + a2], x3 = A[pa + a3];
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      const o0 = i * crs + j * ccs, o1 = o0 + crs, o2 = o1 + crs, o3 = o2 + crs;
      C[o0] = c00; C[o0 + ccs] = c01; C[o0 + 2 * ccs] = c02; C[o0 + 3 * ccs] = c03;
      C[o1] = c10; C[o1 + ccs] = c11; C[o1 + 2 * ccs] = c12; C[o1 + 3 * ccs] = c13;
      C[o2] = c20; C[o2 + ccs] = c21; C[o2 + 2 * ccs] = c22; C[o2 + 3 * ccs] = c23;
      C[o3] = c30; C[o3 + ccs] = c31; C[o3 + 2 * ccs] = c32; C[o3 + 3 * ccs] = c33;
    }
  }
  // Edges: the columns right of N4 for every row, then the rows below M4 for the other columns.
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      let s = 0;
      for (let k = 0, pa = i * ars, pb = j * bjs; k < K; k++, pa += aks, pb += bks) s += A[pa] * B[pb];
      C[i * crs + j * ccs] = s;
    }
  }
}

/** Row-wise softmax of Z [rows, n] into P. */
function softmax(Z, P, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (Z[o + j] > m) m = Z[o + j];
    let s = 0;
    for (let j = 0; j < n; j++) s += (P[o + j] = Math.exp(Z[o + j] - m));
    const inv = 1 / s;
    for (let j = 0; j < n; j++) P[o + j] *= inv;
  }
}

/**
 * Mean sparse categorical cross-entropy of softmax(Z) against labels; writes its gradient with
 * respect to the logits, (softmax − one-hot) / rows, into dZ. Returns the loss.
 */
function crossEntropy(Z, labels, dZ, rows, n) {
  let loss = 0;
  const inv = 1 / rows;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) if (Z[o + j] > m) m = Z[o + j];
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(Z[o + j] - m);
    const label = labels[r];
    loss += m + Math.log(s) - Z[o + label];
    const is = inv / s;
    for (let j = 0; j < n; j++) dZ[o + j] = Math.exp(Z[o + j] - m) * is - (j === label ? inv : 0);
  }
  return loss * inv;
}

/** Column sums of G [rows, n] into out (the bias gradient). */
function columnSums(G, rows, n, out) {
  out.fill(0);
  for (let r = 0, o = 0; r < rows; r++, o += n) for (let j = 0; j < n; j++) out[j] += G[o + j];
}

/** dH ⊙ (H > 0), in place: the ReLU backward with the post-activation as the mask. */
function reluBackward(dH, H, size) {
  for (let i = 0; i < size; i++) if (!(H[i] > 0)) dH[i] = 0;
}

/** Adam (Keras / PyTorch, bias-corrected) over parameter arrays, step t ≥ 1. */
function makeAdam(params, grads, lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) {
  const ms = params.map((p) => new Float32Array(p.length));
  const vs = params.map((p) => new Float32Array(p.length));
  let t = 0;
  return () => {
    t++;
    const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
    for (let n = 0; n < params.length; n++) {
      const p = params[n], g = grads[n], m = ms[n], v = vs[n];
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
        p[i] -= (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
      }
    }
  };
}

// ---- CNN: Conv2D 32 3×3 valid + bias + ReLU → MaxPool 2×2, fused ---------------------------------
const C_OUT = 32, POOLED = 13 * 13, FLAT = C_OUT * POOLED; // 5408, flattened c·169 + h·13 + w

/**
 * Conv + bias + ReLU + 2×2 max-pool of `batch` 28×28 images into flat [batch, 5408] (NCHW order).
 * Each pooled value needs a 4×4 input patch: the four 3×3 windows are summed, the largest kept
 * (bias and ReLU commute with the max). With `arg`, the window that won (0..3, row-major) is kept
 * for the backward pass (the first on ties).
 */
function convPool(x, batch, wc, bc, flat, arg) {
  for (let b = 0; b < batch; b++) {
    const xb = b * 784;
    for (let c = 0; c < C_OUT; c++) {
      const wo = c * 9;
      const w00 = wc[wo], w01 = wc[wo + 1], w02 = wc[wo + 2];
      const w10 = wc[wo + 3], w11 = wc[wo + 4], w12 = wc[wo + 5];
      const w20 = wc[wo + 6], w21 = wc[wo + 7], w22 = wc[wo + 8];
      const bias = bc[c];
      let o = b * FLAT + c * POOLED;
      for (let ph = 0; ph < 13; ph++) {
        for (let pw = 0; pw < 13; pw++, o++) {
          const r0 = xb + 56 * ph + 2 * pw, r1 = r0 + 28, r2 = r1 + 28, r3 = r2 + 28;
          const x00 = x[r0], x01 = x[r0 + 1], x02 = x[r0 + 2], x03 = x[r0 + 3];
          const x10 = x[r1], x11 = x[r1 + 1], x12 = x[r1 + 2], x13 = x[r1 + 3];
          const x20 = x[r2], x21 = x[r2 + 1], x22 = x[r2 + 2], x23 = x[r2 + 3];
          const x30 = x[r3], x31 = x[r3 + 1], x32 = x[r3 + 2], x33 = x[r3 + 3];
          const z0 = w00 * x00 + w01 * x01 + w02 * x02 + w10 * x10 + w11 * x11 + w12 * x12 + w20 * x20 + w21 * x21 + w22 * x22;
          const z1 = w00 * x01 + w01 * x02 + w02 * x03 + w10 * x11 + w11 * x12 + w12 * x13 + w20 * x21 + w21 * x22 + w22 * x23;
          const z2 = w00 * x10 + w01 * x11 + w02 * x12 + w10 * x20 + w11 * x21 + w12 * x22 + w20 * x30 + w21 * x31 + w22 * x32;
          const z3 = w00 * x11 + w01 * x12 + w02 * x13 + w10 * x21 + w11 * x22 + w12 * x23 + w20 * x31 + w21 * x32 + w22 * x33;
          let m = z0, a = 0;
          if (z1 > m) { m = z1; a = 1; }
          if (z2 > m) { m = z2; a = 2; }
          if (z3 > m) { m = z3; a = 3; }
          m += bias;
          flat[o] = m > 0 ? m : 0;
          if (arg !== null) arg[o] = a;
        }
      }
    }
  }
}

/**
 * Filter and bias gradients of convPool from dFlat: the gradient reaches the conv output only at
 * the window that won the max, and only where the pooled value passed the ReLU.
 */
function convPoolBackward(x, batch, flat, arg, dFlat, dwc, dbc) {
  for (let c = 0; c < C_OUT; c++) {
    let g00 = 0, g01 = 0, g02 = 0, g10 = 0, g11 = 0, g12 = 0, g20 = 0, g21 = 0, g22 = 0, gb = 0;
    for (let b = 0; b < batch; b++) {
      const xb = b * 784;
      let o = b * FLAT + c * POOLED;
      for (let ph = 0; ph < 13; ph++) {
        for (let pw = 0; pw < 13; pw++, o++) {
          if (!(flat[o] > 0)) continue;
          const g = dFlat[o], a = arg[o];
          const r0 = xb + 28 * (2 * ph + (a >> 1)) + 2 * pw + (a & 1), r1 = r0 + 28, r2 = r1 + 28;
          g00 += g * x[r0]; g01 += g * x[r0 + 1]; g02 += g * x[r0 + 2];
          g10 += g * x[r1]; g11 += g * x[r1 + 1]; g12 += g * x[r1 + 2];
          g20 += g * x[r2]; g21 += g * x[r2 + 1]; g22 += g * x[r2 + 2];
          gb += g;
        }
      }
    }
    const wo = c * 9;
    dwc[wo] = g00; dwc[wo + 1] = g01; dwc[wo + 2] = g02;
    dwc[wo + 3] = g10; dwc[wo + 4] = g11; dwc[wo + 5] = g12;
    dwc[wo + 6] = g20; dwc[wo + 7] = g21; dwc[wo + 8] = g22;
    dbc[c] = gb;
  }
}

// ---- workloads -----------------------------------------------------------------------------------
const x = load('x').data;
const y = load('y').data;
const copy = (key) => Float32Array.from(load(key).data);
const panels = (K, N) => new Float32Array(((N + 3) >> 2) * 4 * K);

function matmul(n) {
  const A = load(`mmA${n}`).data, B = load(`mmB${n}`).data;
  const Bp = panels(n, n), C = new Float32Array(n * n);
  return () => { pack(B, n, n, Bp); gemmPacked(n, n, n, A, n, Bp, C, n, null, false); return C; };
}

/** MLP 784-256-10 inference: the weights are constants, packed once. */
function mlpInfer(batch) {
  const w1 = load('mlp.w1').data, b1 = load('mlp.b1').data, w2 = load('mlp.w2').data, b2 = load('mlp.b2').data;
  const w1p = panels(784, 256), w2p = panels(256, 10);
  pack(w1, 784, 256, w1p); pack(w2, 256, 10, w2p);
  const h = new Float32Array(batch * 256), z = new Float32Array(batch * 10), out = new Float32Array(batch * 10);
  return () => {
    gemmPacked(batch, 256, 784, x, 784, w1p, h, 256, b1, true);
    gemmPacked(batch, 10, 256, h, 256, w2p, z, 10, b2, false);
    softmax(z, out, batch, 10);
    return out;
  };
}

function cnnInfer(batch) {
  const wc = load('cnn.wc').data, bc = load('cnn.bc').data;
  const w1 = load('cnn.w1').data, b1 = load('cnn.b1').data, w2 = load('cnn.w2').data, b2 = load('cnn.b2').data;
  const w1p = panels(FLAT, 128), w2p = panels(128, 10);
  pack(w1, FLAT, 128, w1p); pack(w2, 128, 10, w2p);
  const flat = new Float32Array(batch * FLAT), h = new Float32Array(batch * 128);
  const z = new Float32Array(batch * 10), out = new Float32Array(batch * 10);
  return () => {
    convPool(x, batch, wc, bc, flat, null);
    gemmPacked(batch, 128, FLAT, flat, FLAT, w1p, h, 128, b1, true);
    gemmPacked(batch, 10, 128, h, 128, w2p, z, 10, b2, false);
    softmax(z, out, batch, 10);
    return out;
  };
}

/** One Adam step of the MLP on the mean cross-entropy; returns the loss of the forward pass. */
function mlpTrainer(batch) {
  const w1 = copy('mlp.w1'), b1 = copy('mlp.b1'), w2 = copy('mlp.w2'), b2 = copy('mlp.b2');
  const dw1 = new Float32Array(w1.length), db1 = new Float32Array(256), dw2 = new Float32Array(w2.length), db2 = new Float32Array(10);
  const w1p = panels(784, 256), w2p = panels(256, 10);
  const h = new Float32Array(batch * 256), dh = new Float32Array(batch * 256);
  const z = new Float32Array(batch * 10), dz = new Float32Array(batch * 10);
  const adam = makeAdam([w1, b1, w2, b2], [dw1, db1, dw2, db2]);
  return () => {
    pack(w1, 784, 256, w1p); pack(w2, 256, 10, w2p);
    gemmPacked(batch, 256, 784, x, 784, w1p, h, 256, b1, true);
    gemmPacked(batch, 10, 256, h, 256, w2p, z, 10, b2, false);
    const loss = crossEntropy(z, y, dz, batch, 10);
    gemmStrided(256, 10, batch, h, 1, 256, dz, 10, 1, dw2, 10, 1); //  dW2 = Hᵀ·dZ
    columnSums(dz, batch, 10, db2);
    gemmStrided(batch, 256, 10, dz, 10, 1, w2, 1, 10, dh, 256, 1); // dH = dZ·W2ᵀ
    reluBackward(dh, h, batch * 256);
    gemmStrided(784, 256, batch, x, 1, 784, dh, 256, 1, dw1, 256, 1); // dW1 = Xᵀ·dH
    columnSums(dh, batch, 256, db1);
    adam();
    return loss;
  };
}

function cnnTrainer(batch) {
  const wc = copy('cnn.wc'), bc = copy('cnn.bc'), w1 = copy('cnn.w1'), b1 = copy('cnn.b1'), w2 = copy('cnn.w2'), b2 = copy('cnn.b2');
  const params = [wc, bc, w1, b1, w2, b2];
  const grads = params.map((p) => new Float32Array(p.length));
  const [dwc, dbc, dw1, db1, dw2, db2] = grads;
  const w1p = panels(FLAT, 128), w2p = panels(128, 10);
  const flat = new Float32Array(batch * FLAT), dflat = new Float32Array(batch * FLAT), arg = new Uint8Array(batch * FLAT);
  const h = new Float32Array(batch * 128), dh = new Float32Array(batch * 128);
  const z = new Float32Array(batch * 10), dz = new Float32Array(batch * 10);
  const adam = makeAdam(params, grads);
  return () => {
    pack(w1, FLAT, 128, w1p); pack(w2, 128, 10, w2p);
    convPool(x, batch, wc, bc, flat, arg);
    gemmPacked(batch, 128, FLAT, flat, FLAT, w1p, h, 128, b1, true);
    gemmPacked(batch, 10, 128, h, 128, w2p, z, 10, b2, false);
    const loss = crossEntropy(z, y, dz, batch, 10);
    gemmStrided(128, 10, batch, h, 1, 128, dz, 10, 1, dw2, 10, 1); // dW2 = Hᵀ·dZ
    columnSums(dz, batch, 10, db2);
    gemmStrided(batch, 128, 10, dz, 10, 1, w2, 1, 10, dh, 128, 1); // dH = dZ·W2ᵀ
    reluBackward(dh, h, batch * 128);
    gemmStrided(FLAT, 128, batch, flat, 1, FLAT, dh, 128, 1, dw1, 128, 1); // dW1 = Flatᵀ·dH
    columnSums(dh, batch, 128, db1);
    // dFlat = dH·W1ᵀ, computed as its transpose W1·dHᵀ so that four rows of W1 are reused across the batch.
    gemmStrided(FLAT, batch, 128, w1, 128, 1, dh, 1, 128, dflat, 1, FLAT);
    convPoolBackward(x, batch, flat, arg, dflat, dwc, dbc);
    adam();
    return loss;
  };
}

await main({ name: 'handwritten' }, async (w) => {
  if (w.kind === 'matmul') {
    const f = matmul(w.n);
    return { check: () => sample(f()), run: () => f()[0] };
  }
  if (w.model !== 'mlp' && w.model !== 'cnn') return `no hand-written ${w.model}`;
  if (w.kind === 'infer') {
    const f = w.model === 'mlp' ? mlpInfer(w.batch) : cnnInfer(w.batch);
    return { check: () => sample(f()), run: () => f()[0] };
  }
  const step = w.model === 'mlp' ? mlpTrainer(w.batch) : cnnTrainer(w.batch);
  return { check: () => [0, 1, 2].map(() => step()), run: () => step() };
});
