// `kiln train --curves`: learning curves as a PNG, one panel per figure (loss, then each metric),
// training and validation per epoch, with axes, tick labels and a legend, drawn on a raw raster.
import path from 'node:path';
import { PNG } from 'pngjs';
import { ensureFolderSync, writeFileAtomicSync } from '../runtime/atomic-write.ts';
import type { EpochLog, History } from '../runtime/train-loop.ts';

type Rgb = readonly [number, number, number];

export const TRAIN_COLOR: Rgb = [31, 119, 180];
export const VAL_COLOR: Rgb = [255, 127, 14];
const INK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];

/** Each panel's size and its plot area inside it (pixels). */
export const PANEL = { width: 420, height: 280, left: 64, right: 404, top: 30, bottom: 240 } as const;
const COLUMNS = 2;
const SCALE = 2;

/** Glyphs 3 wide and 5 high, '#' for ink: digits, capitals and what numbers need. */
const FONT: Readonly<Record<string, string>> = {
  '0': '####.##.##.####', '1': '.#.##..#..#.###', '2': '###..#####..###', '3': '###..#.##..####', '4': '#.##.####..#..#',
  '5': '####..###..####', '6': '####..####.####', '7': '###..#.#..#..#.', '8': '####.#####.####', '9': '####.####..####',
  '.': '............#..', '-': '......###......', '+': '....#.###.#....', ' ': '...............', '/': '..#..#.#.#..#..',
  A: '.#.#.#####.##.#', B: '##.#.###.#.###.', C: '####..#..#..###', D: '##.#.##.##.###.', E: '####..##.#..###', F: '####..##.#..#..',
  G: '####..#.##.####', H: '#.##.#####.##.#', I: '###.#..#..#.###', J: '..#..#..##.####', K: '#.##.###.#.##.#', L: '#..#..#..#..###',
  M: '#.#####.##.##.#', N: '##.#.##.##.##.#', O: '####.##.##.####', P: '####.#####..#..', Q: '####.##.####..#', R: '##.#.###.#.##.#',
  S: '####..###..####', T: '###.#..#..#..#.', U: '#.##.##.##.####', V: '#.##.##.##.#.#.', W: '#.##.##.#####.#', X: '#.##.#.#.#.##.#',
  Y: '#.##.#.#..#..#.', Z: '###..#.#.#..###',
};

/** A white RGBA raster with the few drawing operations the curves need. */
class Raster {
  readonly data: Uint8Array;
  constructor(readonly width: number, readonly height: number) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }
  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const i = (Math.round(y) * this.width + Math.round(x)) * 4;
    [this.data[i], this.data[i + 1], this.data[i + 2]] = c;
  }
  /** A line two pixels thick (Bresenham, each point a 2×2 block). */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 2): void {
    [x0, y0, x1, y1] = [x0, y0, x1, y1].map(Math.round);
    const [dx, dy] = [Math.abs(x1 - x0), -Math.abs(y1 - y0)];
    const [sx, sy] = [x0 < x1 ? 1 : -1, y0 < y1 ? 1 : -1];
    let err = dx + dy;
    for (;;) {
      for (let a = 0; a < thick; a++) for (let b = 0; b < thick; b++) this.set(x0 + a, y0 + b, c);
      if (x0 === x1 && y0 === y1) return;
      const e2 = 2 * err;
      if (e2 >= dy) [err, x0] = [err + dy, x0 + sx];
      if (e2 <= dx) [err, y0] = [err + dx, y0 + sy];
    }
  }
  /** Text in capitals at (x, y), its top-left corner; unknown characters draw as blanks. */
  text(s: string, x: number, y: number, c: Rgb = INK): void {
    [...s.toUpperCase()].forEach((ch, k) => {
      const glyph = FONT[ch] ?? FONT[' '];
      for (let i = 0; i < 15; i++) if (glyph[i] === '#') for (let a = 0; a < SCALE; a++) for (let b = 0; b < SCALE; b++) this.set(x + (k * 4 + (i % 3)) * SCALE + a, y + Math.floor(i / 3) * SCALE + b, c);
    });
  }
}

const textWidth = (s: string) => s.length * 4 * SCALE;

/** A tick label: three significant digits, exponent form for very small or large values. */
export function tickLabel(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(1).replace('e', 'E');
  return String(Number(v.toPrecision(3)));
}

/** The figures drawn: loss, then every metric that any epoch has (training or validation). */
export function panelNames(epochs: readonly EpochLog[]): string[] {
  const names = new Set<string>();
  for (const e of epochs) for (const m of [...Object.keys(e.metrics ?? {}), ...Object.keys(e.valMetrics ?? {})]) names.add(m);
  return ['loss', ...names];
}

const series = (epochs: readonly EpochLog[], name: string, val: boolean) =>
  epochs.map((e) => (name === 'loss' ? (val ? e.valLoss : e.loss) : (val ? e.valMetrics : e.metrics)?.[name]));

/** The value range of a panel, widened when flat so a constant curve sits mid-panel. */
function range(values: readonly (number | undefined)[]): [number, number] {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
  const pad = hi > lo ? 0 : Math.abs(lo) * 0.1 || 0.5;
  return [lo - pad, hi + pad];
}

function drawPanel(r: Raster, ox: number, oy: number, name: string, epochs: readonly EpochLog[]): void {
  const { left, right, top, bottom } = PANEL;
  const train = series(epochs, name, false);
  const val = series(epochs, name, true);
  const [lo, hi] = range([...train, ...val]);
  const n = epochs.length;
  const px = (i: number) => ox + (n === 1 ? (left + right) / 2 : left + ((right - left) * i) / (n - 1));
  const py = (v: number) => oy + bottom - ((bottom - top) * (v - lo)) / (hi - lo);
  for (let k = 0; k <= 4; k++) r.line(ox + left, oy + top + ((bottom - top) * k) / 4, ox + right, oy + top + ((bottom - top) * k) / 4, GRID, 1);
  r.text(name, ox + left, oy + 8);
  for (const v of [lo, (lo + hi) / 2, hi]) r.text(tickLabel(v), ox + left - 6 - textWidth(tickLabel(v)), py(v) - 5);
  const [first, last] = [String(epochs[0].epoch + 1), String(epochs[n - 1].epoch + 1)];
  r.text(first, px(0) - textWidth(first) / 2, oy + bottom + 6);
  if (n > 1) r.text(last, px(n - 1) - textWidth(last) / 2, oy + bottom + 6);
  r.text('EPOCH', ox + (left + right) / 2 - textWidth('EPOCH') / 2, oy + bottom + 22);
  for (const [values, color] of [[train, TRAIN_COLOR], [val, VAL_COLOR]] as const) {
    let prev: [number, number] | undefined;
    values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) return void (prev = undefined);
      const p: [number, number] = [px(i), py(v)];
      if (prev) r.line(prev[0], prev[1], p[0], p[1], color);
      else r.line(p[0] - 2, p[1], p[0] + 2, p[1], color, 3);
      prev = p;
    });
  }
  // Axes over the curves, as plotting libraries draw their spines.
  r.line(ox + left, oy + top, ox + left, oy + bottom, INK, 1);
  r.line(ox + left, oy + bottom, ox + right, oy + bottom, INK, 1);
  // The legend, top right inside the plot: a stroke of each colour and its name.
  const entries = [['TRAIN', TRAIN_COLOR], ...(val.some((v) => v !== undefined) ? [['VAL', VAL_COLOR]] : [])] as const;
  entries.forEach(([label, color], k) => {
    const y = oy + top + 8 + k * 16;
    const x = ox + right - 12 - textWidth('TRAIN') - 24;
    r.line(x, y + 4, x + 18, y + 4, color as Rgb, 3);
    r.text(label as string, x + 24, y);
  });
}

/** The learning curves of a history as PNG bytes (panels of PANEL's size, two per row). */
export function curvesPng(history: History): Uint8Array {
  const epochs = history.epochs;
  if (epochs.length === 0) throw new Error('no finished epoch to draw');
  const names = panelNames(epochs);
  const rows = Math.ceil(names.length / COLUMNS);
  const width = PANEL.width * Math.min(COLUMNS, names.length);
  const r = new Raster(width, PANEL.height * rows);
  names.forEach((name, i) => drawPanel(r, (i % COLUMNS) * PANEL.width, Math.floor(i / COLUMNS) * PANEL.height, name, epochs));
  const png = new PNG({ width, height: r.height });
  png.data.set(r.data);
  return PNG.sync.write(png);
}

/** Writes the learning curves to `file` atomically. */
export function writeCurvesPng(file: string, history: History): void {
  ensureFolderSync(path.dirname(file));
  writeFileAtomicSync(file, curvesPng(history));
}
