// The learning-curves PNG and the history JSON: the PNG read back with node:zlib (chunks,
// filters, RGBA rows), the curves' colours where a falling training loss and a rising accuracy
// put them, a legend, axes; the history file's JSON.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { curvesPng, PANEL, TRAIN_COLOR, VAL_COLOR, writeCurvesPng } from '../../cli/curves.ts';
import { historyJson, writeHistory } from '../../cli/history.ts';
import type { EpochLog, History } from '../../runtime/train-loop.ts';
import { freshOutDir } from '../e2e/helpers.ts';

/** Decodes an 8-bit RGBA, non-interlaced PNG (the PNG specification's chunks and five row filters). */
function decodePng(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  expect([...bytes.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  let [width, height] = [0, 0];
  const idat: Uint8Array[] = [];
  for (let at = 8; at < bytes.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      [width, height] = [view.getUint32(at + 8), view.getUint32(at + 12)];
      expect([body[8], body[9], body[12]]).toEqual([8, 6, 0]); // 8 bits, RGBA, no interlace
    }
    if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i];
      const a = i >= 4 ? out[y * stride + i - 4] : 0;
      const b = y > 0 ? out[(y - 1) * stride + i] : 0;
      const c = i >= 4 && y > 0 ? out[(y - 1) * stride + i - 4] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      out[y * stride + i] = (x + [0, a, b, (a + b) >> 1, paeth][filter]) & 255;
    }
  }
  const is = (x: number, y: number, rgb: readonly number[]) => rgb.every((v, k) => out[(y * width + x) * 4 + k] === v);
  return { width, height, is };
}

/** Rows (y) in column x of panel (px, py) that hold colour rgb. */
const rowsOf = (png: ReturnType<typeof decodePng>, x: number, rgb: readonly number[], y0: number, y1: number) => {
  const ys: number[] = [];
  for (let y = y0; y <= y1; y++) if (png.is(x, y, rgb)) ys.push(y);
  return ys;
};

const epochLog = (epoch: number, loss: number, acc: number, valLoss: number, valAcc: number): EpochLog => ({
  epoch, loss, metrics: { accuracy: acc }, accuracy: acc, valLoss, valMetrics: { accuracy: valAcc }, valAccuracy: valAcc, lr: 0.01, seconds: 1, samplesPerSecond: 100,
});

describe('learning curves', () => {
  const history: History = { epochs: [epochLog(0, 2, 0.3, 2.2, 0.25), epochLog(1, 1.2, 0.6, 1.5, 0.5), epochLog(2, 0.8, 0.8, 1.3, 0.6), epochLog(3, 0.5, 0.9, 1.25, 0.65)] };

  it('draws a loss panel and an accuracy panel: training falls from top-left to bottom-right, accuracy rises; validation and legend in their colours; axes in black', () => {
    const png = decodePng(curvesPng(history));
    expect([png.width, png.height]).toEqual([2 * PANEL.width, PANEL.height]);
    const { left, right, top, bottom } = PANEL;
    // Loss panel (x from 0): validation's 2.2 is the top of the range, so training's first value 2
    // sits just below the top, and its last value 0.5, the minimum, at the bottom.
    const [lossFirst, lossLast] = [rowsOf(png, left + 1, TRAIN_COLOR, top - 4, bottom + 4), rowsOf(png, right - 1, TRAIN_COLOR, top - 4, bottom + 4)];
    expect(lossFirst.length, 'training colour at the first epoch').toBeGreaterThan(0);
    const yOf = (v: number) => bottom - ((bottom - top) * (v - 0.5)) / (2.2 - 0.5);
    expect(Math.abs(lossFirst[0] - yOf(2))).toBeLessThanOrEqual(3);
    expect(Math.abs(lossLast[lossLast.length - 1] - bottom)).toBeLessThanOrEqual(3);
    expect(rowsOf(png, left + 1, VAL_COLOR, top - 4, top + 4).length, 'validation loss 2.2 at the top').toBeGreaterThan(0);
    // Accuracy panel (x from PANEL.width): 0.25 (val, epoch 1) at the bottom, 0.9 (train, epoch 4) at the top.
    const ox = PANEL.width;
    expect(rowsOf(png, ox + left + 1, VAL_COLOR, bottom - 4, bottom + 4).length).toBeGreaterThan(0);
    expect(rowsOf(png, ox + right - 1, TRAIN_COLOR, top - 4, top + 4).length).toBeGreaterThan(0);
    // Axes: the left axis and the bottom axis are black lines through the plot's height and width.
    for (let y = top; y <= bottom; y += 10) expect(png.is(left, y, [0, 0, 0])).toBe(true);
    for (let x = left; x <= right; x += 10) expect(png.is(x, bottom, [0, 0, 0])).toBe(true);
    // The legend: a stroke of each colour in the top-right corner, above the curves' area there.
    const legend = (rgb: readonly number[]) => {
      let n = 0;
      for (let y = top; y < top + 40; y++) for (let x = right - 100; x < right; x++) if (png.is(x, y, rgb)) n++;
      return n;
    };
    expect(legend(TRAIN_COLOR)).toBeGreaterThan(20);
    expect(legend(VAL_COLOR)).toBeGreaterThan(20);
  });

  it('one epoch without validation draws a point and the training legend only; an empty history is refused', () => {
    const png = decodePng(curvesPng({ epochs: [{ epoch: 0, loss: 1, metrics: {}, lr: 0.1, seconds: 1, samplesPerSecond: 1 }] }));
    expect(png.width).toBe(PANEL.width);
    const mid = Math.round((PANEL.left + PANEL.right) / 2);
    expect(rowsOf(png, mid, TRAIN_COLOR, PANEL.top, PANEL.bottom).length).toBeGreaterThan(0);
    let val = 0;
    for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) if (png.is(x, y, VAL_COLOR)) val++;
    expect(val).toBe(0);
    expect(() => curvesPng({ epochs: [] })).toThrow(/no finished epoch/);
  });

  it('writeCurvesPng and writeHistory write their files (the history as JSON, a stop with its reason)', () => {
    const dir = freshOutDir('fit-curves');
    const stopped: History = { ...history, stopped: { epoch: 3, reason: 'early stopping: valLoss did not improve for 1 epoch', error: new Error('x') } };
    writeCurvesPng(path.join(dir, 'sub', 'c.png'), history);
    writeHistory(path.join(dir, 'h.json'), stopped);
    expect(decodePng(readFileSync(path.join(dir, 'sub', 'c.png'))).width).toBe(2 * PANEL.width);
    const back = JSON.parse(readFileSync(path.join(dir, 'h.json'), 'utf8'));
    expect(back).toEqual(JSON.parse(historyJson(stopped)));
    expect(back.stopped).toEqual({ epoch: 3, reason: 'early stopping: valLoss did not improve for 1 epoch' });
    expect(back.epochs[3]).toMatchObject({ epoch: 3, loss: 0.5, metrics: { accuracy: 0.9 }, valLoss: 1.25, valMetrics: { accuracy: 0.65 } });
  });
});
