#!/bin/bash
# Packs the browser benchmark for a Linux x86-64 machine that has a GPU but no Node, Chromium,
# peers or network (a lent GPU server): the prepared site, the driver bundled into one file,
# playwright-core, Debian's headless Chromium with the libraries it links (glibc aside), this
# machine's Node and the GL/Vulkan loader packages. Run as root on Debian 12 from the repository
# root, after `npm ci` and `npm run bench:setup`:
#
#   bash bench/browser/gpu/pack.sh build/gpu-pack      # → build/gpu-pack/{bundle.tar.xz, run.mjs, on-gpu.sh}
#
# Then on the GPU machine: `bash on-gpu.sh` in a folder holding those three files (docs/speed.md,
# "On a real GPU"). bundle.tar.xz is about 135 MB; where transfers are capped, split it
# (`split -b 46M bundle.tar.xz bundle.tar.xz.part-`): on-gpu.sh joins the parts.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: pack.sh OUTDIR}")
WORK=$OUT/work
rm -rf "$OUT" && mkdir -p "$WORK/chrome" "$WORK/lib" "$WORK/gl" "$WORK/node_modules"

# The site and the driver (tsx is not needed there: one esbuild bundle; playwright-core beside it).
npm run build --silent
npx tsx bench/browser/run.ts --prepare "$WORK/site"
npx esbuild bench/browser/run.ts --bundle --platform=node --format=esm --external:playwright-core \
  --banner:js="import { createRequire as kilnCreateRequire } from 'node:module'; const require = kilnCreateRequire(import.meta.url);" \
  --log-level=warning --outfile="$OUT/run.mjs"
cp -r node_modules/playwright-core "$WORK/node_modules/"

# Debian's headless shell (same version as the installed chromium-common) and the files it reads.
VERSION=$(dpkg-query -W -f '${Version}' chromium-common)
(cd "$WORK" && apt-get download "chromium-headless-shell=$VERSION" >/dev/null && dpkg -x chromium-headless-shell_*.deb hs && rm chromium-headless-shell_*.deb)
cp "$WORK"/hs/usr/lib/chromium/* "$WORK/chrome/" && rm -rf "$WORK/hs"
for f in icudtl.dat libEGL.so libGLESv2.so libvulkan.so.1 libvk_swiftshader.so vk_swiftshader_icd.json snapshot_blob.bin v8_context_snapshot.bin; do
  cp /usr/lib/chromium/$f "$WORK/chrome/"
done
# Every library it links but the C runtime (the target's glibc is assumed as new or newer).
ldd "$WORK/chrome/chromium-headless-shell" | awk '/=>/ { print $3 }' \
  | grep -v -E '/(libc|libm|libpthread|libdl|librt|libgcc_s|libstdc\+\+)\.so' | xargs -I{} cp -L {} "$WORK/lib/"
(cd "$WORK/gl" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
cp "$(command -v node)" "$WORK/node"
cp bench/browser/gpu/on-gpu.sh "$OUT/"
tar -C "$WORK" -cf - chrome lib gl node node_modules site | xz -T0 -6 > "$OUT/bundle.tar.xz"
rm -rf "$WORK"
ls -la "$OUT"
