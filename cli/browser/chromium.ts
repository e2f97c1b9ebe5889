// Finding and starting a headless Chromium with WebGL2 for the browser tests.
import { existsSync } from 'node:fs';

/** Where Debian's `chromium` package puts it; `KILN_CHROMIUM` overrides. */
export function findChromium(): string | undefined {
  const candidates = [process.env.KILN_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/**
 * Flags for WebGL2 in a headless Chromium without a display GPU: ANGLE over EGL reaches Mesa's
 * llvmpipe (or a real GPU's driver) instead of the blocklisted default; the background services
 * are off because this machine's network is closed.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--use-angle=gl-egl',
  '--ignore-gpu-blocklist',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * The flags above with WebGPU on: Chromium's WebGPU is behind a flag on Linux; without a GPU
 * it offers an adapter backed by SwiftShader (software Vulkan). Pages must come from 127.0.0.1
 * (a secure context) for `navigator.gpu` to exist.
 */
export const WEBGPU_CHROMIUM_ARGS = [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'];

/**
 * `base` with `extra` added, where a flag of `extra` replaces the flag of the same name in `base`
 * (`--use-angle=vulkan` replaces `--use-angle=gl-egl`): Chromium keeps one value per switch.
 */
export function withFlags(base: readonly string[], extra: readonly string[]): string[] {
  const name = (flag: string) => flag.split('=')[0];
  const replaced = new Set(extra.map(name));
  return [...base.filter((f) => !replaced.has(name(f))), ...extra];
}
