// Input normalisation flags (--scale, --normalize mean,std per channel) and the CHW→HWC transpose, as in-place row transforms.
import type { RowTransform } from '../../runtime/data/rows.ts';
import { KilnError } from '../../src/ir/errors.ts';

/** Means and standard deviations: one each, or one per channel. */
export interface MeanStd {
  readonly mean: number[];
  readonly std: number[];
}

const numberList = (text: string, flag: string): number[] =>
  text.split(',').map((t) => {
    const v = Number(t.trim());
    if (t.trim() === '' || !Number.isFinite(v)) throw new KilnError(`${flag}: ${JSON.stringify(t.trim())} is not a number`);
    return v;
  });

/**
 * `--normalize`: `mean,std` (one pair for every value), or per channel `m1,m2,m3/s1,s2,s3`
 * (as torchvision's Normalize((m1, m2, m3), (s1, s2, s3))).
 */
export function parseNormalize(text: string): MeanStd {
  const groups = text.split('/');
  let ms: MeanStd;
  if (groups.length === 1) {
    const v = numberList(text, '--normalize');
    if (v.length !== 2) throw new KilnError(`--normalize takes mean,std or per channel m1,m2,…/s1,s2,…; got ${JSON.stringify(text)}`);
    ms = { mean: [v[0]], std: [v[1]] };
  } else if (groups.length === 2) {
    ms = { mean: numberList(groups[0], '--normalize'), std: numberList(groups[1], '--normalize') };
    if (ms.mean.length !== ms.std.length) throw new KilnError(`--normalize has ${ms.mean.length} means but ${ms.std.length} standard deviations`);
  } else throw new KilnError(`--normalize takes mean,std or m1,m2,…/s1,s2,…; got ${JSON.stringify(text)}`);
  if (ms.std.some((s) => !(s > 0))) throw new KilnError(`--normalize: standard deviations must be positive, got ${ms.std.join(', ')}`);
  return ms;
}

/**
 * The layout of per-channel values in a sample of `dims` (the model's): channels first when the
 * first dimension has `channels` entries (PyTorch's [C, H, W]), else last ([H, W, C], or the
 * features of a [F] row). Returns the stride between a channel's runs and the run length.
 */
function channelLayout(dims: readonly number[], channels: number): { first: boolean; inner: number } {
  const size = dims.reduce((a, b) => a * b, 1);
  if (channels === 1) return { first: true, inner: size };
  if (dims.length >= 2 && dims[0] === channels) return { first: true, inner: size / channels };
  if (dims[dims.length - 1] === channels) return { first: false, inner: 1 };
  throw new KilnError(`--normalize gives ${channels} channels, but the model's sample [${dims.join(', ')}] has ${channels} neither first nor last`);
}

/** The transpose of a [C, H, W] row to [H, W, C] (scratch kept between rows). */
export function chwToHwc(c: number, h: number, w: number): RowTransform {
  const scratch = new Float32Array(c * h * w);
  return (row) => {
    scratch.set(row);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) row[p * c + ch] = scratch[ch * h * w + p];
  };
}

/** x → (x·scale − mean[c]) / std[c] over a sample of the model's `dims`; undefined when nothing changes. */
export function scaleNormalize(dims: readonly number[], scale: number, ms?: MeanStd): RowTransform | undefined {
  if (!Number.isFinite(scale) || scale === 0) throw new KilnError(`--scale must be a finite non-zero number, got ${scale}`);
  if (!ms && scale === 1) return undefined;
  const channels = ms?.mean.length ?? 1;
  const { first, inner } = channelLayout(dims, channels);
  const mean = Float32Array.from(ms?.mean ?? [0]);
  const inv = Float32Array.from(ms?.std ?? [1], (s) => 1 / s);
  // 1/255 as a division by 255: the same float32 values as MNIST's loader (bit-identical runs).
  const divisor = Math.round(1 / scale);
  if (!ms && Math.abs(1 / scale - divisor) < 1e-9) {
    return (row) => {
      for (let i = 0; i < row.length; i++) row[i] = row[i] / divisor;
    };
  }
  return (row) => {
    for (let i = 0; i < row.length; i++) {
      const c = first ? Math.floor(i / inner) % channels : i % channels;
      row[i] = (row[i] * scale - mean[c]) * inv[c];
    }
  };
}

/** Transforms applied one after the other. */
export function chain(...ts: (RowTransform | undefined)[]): RowTransform | undefined {
  const list = ts.filter((t): t is RowTransform => t !== undefined);
  if (list.length === 0) return undefined;
  return (row) => {
    for (const t of list) t(row);
  };
}

/** Parses --scale: a number or a fraction such as 1/255. */
export function parseScale(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*([-+\d.eE]+)\s*\/\s*([-+\d.eE]+)\s*$/.exec(text);
  const v = m ? Number(m[1]) / Number(m[2]) : Number(text);
  if (!Number.isFinite(v) || v === 0) throw new KilnError(`--scale takes a non-zero number or a fraction such as 1/255, got ${JSON.stringify(text)}`);
  return v;
}
