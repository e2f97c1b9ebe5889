// The browser demo: built by the same function as `npm run demo:browser` (with fewer MNIST
// images), served on 127.0.0.1, opened in headless Chromium; it must train on WebGL2, report a
// test accuracy well above chance, and classify a digit drawn with the mouse.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBrowserDemo } from '../../cli/demo-browser.ts';
import { CHROMIUM_ARGS, findChromium } from '../../cli/browser/chromium.ts';
import { serveFolder, type StaticServer } from '../../cli/browser/serve.ts';
import { freshOutDir } from '../e2e/helpers.ts';

const CHROMIUM = findChromium();

interface DemoState {
  backend: string;
  losses: number[];
  accuracy: number;
  done: boolean;
  error: string;
  prediction: null | { digit: number; probabilities: number[] };
}

describe.skipIf(!CHROMIUM)('browser demo (npm run demo:browser)', () => {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('trains the MNIST CNN on WebGL2, reports test accuracy and classifies a drawn digit', async () => {
    const site = await buildBrowserDemo({ out: freshOutDir('demo-browser'), trainImages: 1024, testImages: 500 });
    server = await serveFolder(site);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(`${server.url}?steps=16&batch=32`);
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.done || !!(globalThis as unknown as { demo: DemoState }).demo.error, null, { timeout: 240_000 });
    const state = await page.evaluate(() => (globalThis as unknown as { demo: DemoState }).demo);
    console.log(`[demo] ${state.backend}: loss ${state.losses[0].toFixed(3)} → ${state.losses[15].toFixed(3)}, test accuracy ${state.accuracy}`);
    expect(state.error).toBe('');
    expect(state.backend).toBe('webgl2');
    expect(state.losses).toHaveLength(16);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(state.losses.slice(-4))).toBeLessThan(state.losses[0] * 0.8);
    // Ten classes: chance is 10 %.
    expect(state.accuracy).toBeGreaterThan(0.3);
    expect(await page.textContent('#status')).toMatch(/test accuracy/);

    // A vertical stroke, drawn with the mouse on the pad.
    const pad = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(pad.x + 140, pad.y + 50);
    await page.mouse.down();
    for (let y = 60; y <= 230; y += 10) await page.mouse.move(pad.x + 142, pad.y + y);
    await page.mouse.up();
    await page.waitForFunction(() => (globalThis as unknown as { demo: DemoState }).demo.prediction !== null);
    const { prediction } = await page.evaluate(() => (globalThis as unknown as { demo: DemoState }).demo);
    expect(prediction!.probabilities).toHaveLength(10);
    expect(prediction!.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(await page.textContent('#prediction')).toMatch(new RegExp(`^${prediction!.digit}`));
  }, 300_000);
});
