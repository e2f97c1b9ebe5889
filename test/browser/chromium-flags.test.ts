// Chromium's flags: extra ones (KILN_CHROMIUM_FLAGS, the GPU machine's) replace defaults of the
// same switch name and keep the rest in order. Pure: no browser needed.
import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, withFlags } from '../../cli/browser/chromium.ts';

describe('withFlags', () => {
  it('replaces a default switch of the same name and appends the extras', () => {
    const got = withFlags(['--no-sandbox', '--use-angle=gl-egl', '--ignore-gpu-blocklist'], ['--use-angle=vulkan', '--enable-features=Vulkan']);
    expect(got).toEqual(['--no-sandbox', '--ignore-gpu-blocklist', '--use-angle=vulkan', '--enable-features=Vulkan']);
  });

  it('keeps the defaults untouched when nothing is added', () => {
    expect(withFlags(CHROMIUM_ARGS, [])).toEqual(CHROMIUM_ARGS);
  });

  it('leaves one value per switch even when the default is a bare switch', () => {
    const got = withFlags(['--headless', '--use-gl=egl'], ['--headless=new']);
    expect(got).toEqual(['--use-gl=egl', '--headless=new']);
  });
});
