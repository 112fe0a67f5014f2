#!/bin/sh
# Every GPU figure of docs/performance.md in one call of the `device` tool (its machine starts in
# minutes and a session has 15 minutes of it in all, so everything runs in one prepared command):
#
#   1. our epoch on WebGPU over the CPU bench's graphs, with the adapter it ran on;
#   2. the authors' released model over the same graphs, PyTorch + PyG on CUDA;
#   3. the full leave-one-section-out run (6 HER2+ folds × $FOLD_EPOCHS epochs) on WebGPU,
#      stopped at $FOLD_LIMIT seconds so that 1 and 2 always come back.
#
# Each step writes its JSON line (or its error) under $OUT; a failed step does not stop the next.
# On the lent machine, from the repository root, with the pack built beforehand here
# (SPAHGC_RELEASED=<clone> deno task gpu-pack) and the Vulkan loaders of the device README in
# .gl/ (named in `carry` with .gpu_pack):
#
#   sh bench/gpu/device.sh                        # carry: [".gpu_pack", ".gl"]
#
# Settings (environment): PACK (.gpu_pack), OUT ($OUT, else ./device_out), BACKEND (webgpu),
# TORCH_DEVICE (cuda), EPOCHS (10 timed epochs for 1 and 2), FOLD_EPOCHS (200), FOLD_LIMIT (300),
# FOLDS (every slice; a comma list restricts step 3).
# BACKEND=cpu TORCH_DEVICE=cpu runs the same steps on any machine (tests/gpu_pack_test.ts does).
set -u
PACK=${PACK:-.gpu_pack}
OUT=${OUT:-./device_out}
BACKEND=${BACKEND:-webgpu}
TORCH_DEVICE=${TORCH_DEVICE:-cuda}
EPOCHS=${EPOCHS:-10}
FOLD_EPOCHS=${FOLD_EPOCHS:-200}
FOLD_LIMIT=${FOLD_LIMIT:-300}
FOLDS=${FOLDS:-}
mkdir -p "$OUT"

# The Vulkan loader for WebGPU, unpacked from Debian packages carried in .gl/ (device README).
if [ -d .gl ] && ls .gl/*.deb > /dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
fi
command -v nvidia-smi > /dev/null 2>&1 &&
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$OUT/gpu.csv" 2>&1

step() { # name, command…: its last stdout line to $OUT/name.json, its stderr to $OUT/name.log
  name=$1
  shift
  start=$(date +%s)
  if "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.log"; then
    tail -n 1 "$OUT/$name.stdout" > "$OUT/$name.json"
    echo "$name: ok in $(($(date +%s) - start)) s: $(cut -c1-300 "$OUT/$name.json")"
  else
    echo "$name: failed (exit $?) after $(($(date +%s) - start)) s; last lines:"
    tail -n 5 "$OUT/$name.log"
  fi
  rm -f "$OUT/$name.stdout"
}

step ours_epoch sh "$PACK/run.sh" --mode epoch --backend "$BACKEND" --epochs "$EPOCHS"
step authors_epoch sh "$PACK/run.sh" authors --epochs "$EPOCHS" --device "$TORCH_DEVICE"
step folds timeout "$FOLD_LIMIT" sh "$PACK/run.sh" --backend "$BACKEND" --epochs "$FOLD_EPOCHS" \
  ${FOLDS:+--folds "$FOLDS"}
exit 0
