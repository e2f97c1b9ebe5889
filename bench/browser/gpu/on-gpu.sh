#!/bin/bash
# Runs the browser benchmark packed by pack.sh on a machine with an NVIDIA GPU (as root: it
# unpacks the GL/Vulkan loader packages into /). Finds Chromium flags that reach the GPU through
# the probe page, then times every engine. Results: $OUT (default ./out)/results-browser.md.
#
#   ROUNDS=3 ENGINES=kiln-webgpu,kiln-webgl2,tfjs-webgpu,… bash on-gpu.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/out}; mkdir -p "$OUT"
D=${KILN_GPU_DIR:-/tmp/kiln-gpu-bench}
rm -rf "$D" && mkdir -p "$D"
if [ -f "$HERE/bundle.tar.xz" ]; then PARTS=("$HERE/bundle.tar.xz"); else PARTS=("$HERE"/bundle.tar.xz.part-*); fi
cat "${PARTS[@]}" | tar -C "$D" -xJ || exit 1
cp "$HERE/run.mjs" "$D/"
for f in "$D"/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export PATH=$D:$PATH KILN_CHROMIUM=$D/chrome/chromium-headless-shell
export LD_LIBRARY_PATH=$D/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib
ICD=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json 2>/dev/null | head -1)
[ -n "$ICD" ] && export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
EGL=$(ls /usr/local/nvidia/share/glvnd/egl_vendor.d/*nvidia*.json /usr/share/glvnd/egl_vendor.d/*nvidia*.json 2>/dev/null | head -1)
[ -n "$EGL" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$EGL
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
# ANGLE on Vulkan for WebGL2 and Dawn on Vulkan for WebGPU reached an H200 headless (2026-12-04);
# the others are fallbacks. The first set that gives an NVIDIA adapter and renderer wins.
FLAGS=(
  "--use-angle=vulkan --enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan --disable-vulkan-surface --ignore-gpu-blocklist"
  "--use-angle=gl-egl --enable-features=Vulkan --disable-vulkan-surface --ignore-gpu-blocklist"
)
CHOSEN=""
for i in "${!FLAGS[@]}"; do
  KILN_CHROMIUM_FLAGS="${FLAGS[$i]}" DEBUG=pw:browser timeout 90 node "$D/run.mjs" --prepared "$D/site" --probe 2>"$OUT/probe-$i.log"
  line=$(grep -a "WebGPU adapter" "$OUT/probe-$i.log" | tail -1); echo "flags $i: $line"
  if echo "$line" | grep -qi "adapter: nvidia.*WebGL: .*nvidia"; then CHOSEN=${FLAGS[$i]}; break; fi
done
[ -n "$CHOSEN" ] || { echo "no flags reached the GPU (see $OUT/probe-*.log)"; exit 2; }
set -o pipefail
KILN_CHROMIUM_FLAGS="$CHOSEN" node "$D/run.mjs" --prepared "$D/site" --rounds "${ROUNDS:-3}" \
  --engines "${ENGINES:-kiln-webgpu,kiln-webgl2,tfjs-webgpu,tfjs-webgl,tfjs-wasm,ort-webgpu,ort-wasm,jax-webgpu,jax-wasm}" \
  --out "$OUT/results-browser.md" 2>&1 | tee "$OUT/bench.log"
