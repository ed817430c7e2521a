#!/usr/bin/env bash
# The GPU benchmark's dry run on this machine: the same run-on-device.sh, from a fresh copy of
# what would travel to a GPU host (the files git tracks or does not ignore, plus bench/gpu/carry),
# with the carried Node and dawn.node, on lavapipe (software Vulkan), a few steps at a small batch,
# the peer on the CPU. It shows that the bundle runs and the script goes end to end; its figures
# are no speed measurement. Run bench/gpu/prepare.sh first.
#
#   bash bench/gpu/dry-run.sh            # results in bench/gpu/out-dry-run
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAVAPIPE_ICD=/usr/share/vulkan/icd.d/lvp_icd.json
[ -d "$HERE/carry" ] || { echo "dry-run: run bench/gpu/prepare.sh first" >&2; exit 1; }
[ -f "$LAVAPIPE_ICD" ] || { echo "dry-run: lavapipe ($LAVAPIPE_ICD) is missing; .ci/run installs it" >&2; exit 1; }

# The first python that has torch (Debian's python3-torch is in /usr/bin/python3, which a
# version manager's python3 may shadow).
PYTHON=${BENCH_PYTHON:-}
for candidate in python3 /usr/bin/python3; do
  [ -n "$PYTHON" ] || ! "$candidate" -c 'import torch' 2>/dev/null || PYTHON=$candidate
done
[ -n "$PYTHON" ] || { echo "dry-run: no python3 with torch (apt-get install python3-torch); the peer rows will fail" >&2; PYTHON=python3; }

COPY=$(mktemp -d "${TMPDIR:-/tmp}/dsdc-gpu-dry-run.XXXXXX")
trap 'rm -rf "$COPY"' EXIT
(cd "$REPO" && { git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r cp --parents -t "$COPY" 2>/dev/null || true)
cp -r "$HERE/carry" "$COPY/bench/gpu/carry"
echo "dry-run: fresh copy in $COPY ($(du -sm "$COPY" | cut -f1) MiB), no node_modules" >&2

# run-on-device.sh runs the carried Node by its path; train's workers are started with the same.
env VK_DRIVER_FILES="$LAVAPIPE_ICD" LP_NUM_THREADS="${LP_NUM_THREADS:-2}" \
  BENCH_ALLOW_SOFTWARE_ADAPTER="${BENCH_ALLOW_SOFTWARE_ADAPTER:-1}" BENCH_STEPS="${BENCH_STEPS:-5}" BENCH_BATCHES="${BENCH_BATCHES:-16}" \
  BENCH_PEER_DEVICE=cpu BENCH_PYTHON="$PYTHON" BENCH_OUT="${BENCH_OUT:-$HERE/out-dry-run}" BENCH_BACKEND="${BENCH_BACKEND:-webgpu}" \
  bash "$COPY/bench/gpu/run-on-device.sh"
