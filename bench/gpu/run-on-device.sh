#!/usr/bin/env bash
# The GPU benchmark, on a GPU host that has python3 with PyTorch (CUDA) but no Node, no npm and
# no registry: everything else comes from the folder bench/gpu/prepare.sh filled
# (bench/gpu/carry: Node, the bundled CLI with dawn.node, the Vulkan loader packages, MNIST, the
# PyTorch peer). Run from a copy of the repository that holds that folder:
#
#   bash bench/gpu/run-on-device.sh            # 200 steps at global batch 128 and 1024, peer on cuda
#
# It prints the adapter it got, trains `train --workers 1 --backend webgpu` at each batch, runs
# the PyTorch peer on the same GPU right after each, and writes results.json, results.md and
# log.txt under $BENCH_OUT (default: $OUT when set, else bench/gpu/out).
#
# Knobs (environment), for a dry run on a software adapter:
#   BENCH_STEPS=200  BENCH_BATCHES="128 1024"  BENCH_PEER_DEVICE=cuda
#   BENCH_DEADLINE_S=390             the whole script's budget; each run gets at most what is left
#   BENCH_OURS_TIMEOUT_S=120  BENCH_PEER_TIMEOUT_S=60   the most one run may take
#   BENCH_ALLOW_SOFTWARE_ADAPTER=1   pass --allow-software-adapter (lavapipe); never on a GPU run
#   BENCH_PYTHON=python3             the python with torch
#   BENCH_BACKEND=webgpu             our backend (wasm: the same run on the CPU, to check the script)
#   BENCH_LOADER_INTO_SYSTEM=1       root on a throwaway host: the carried Vulkan loader goes over /
#   VK_DRIVER_FILES=…                the Vulkan driver's ICD file; searched for when unset
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
CARRY=${BENCH_CARRY:-$HERE/carry}
OUT_DIR=${BENCH_OUT:-${OUT:-$HERE/out}}
STEPS=${BENCH_STEPS:-200}
BATCHES=${BENCH_BATCHES:-128 1024}
PEER_DEVICE=${BENCH_PEER_DEVICE:-cuda}
DEADLINE_S=${BENCH_DEADLINE_S:-390}
OURS_TIMEOUT_S=${BENCH_OURS_TIMEOUT_S:-120}
PEER_TIMEOUT_S=${BENCH_PEER_TIMEOUT_S:-60}
# Kept back from the deadline for writing the results.
RESULTS_RESERVE_S=10
PYTHON=${BENCH_PYTHON:-python3}
BACKEND=${BENCH_BACKEND:-webgpu}
# The places NVIDIA's Vulkan ICD file is installed or mounted (host packages, container toolkit).
NVIDIA_ICD_CANDIDATES="/usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json
  /usr/local/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json"

mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/log.txt
: >"$LOG"
say() { echo "bench-gpu: $*" | tee -a "$LOG" >&2; }
die() { say "error: $*"; exit 1; }

[ -d "$CARRY" ] || die "$CARRY is missing: run bench/gpu/prepare.sh on a machine with the repository installed, then copy the folder"
for f in node.xz app.tar.xz mnist peer/torch_ddp_reference.py; do
  [ -e "$CARRY/$f" ] || die "$CARRY/$f is missing: run bench/gpu/prepare.sh again"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dsdc-gpu-bench.XXXXXX")
START_S=$(date +%s)

# xz may be absent there; python's lzma is always there where PyTorch is.
unxz_to() {
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else "$PYTHON" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"; fi
}
untar_xz() {
  if command -v xz >/dev/null 2>&1; then tar -xJf "$1" -C "$2"
  else "$PYTHON" -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$1" "$2"; fi
}

NODE=$WORK/node
unxz_to "$CARRY/node.xz" "$NODE" && chmod +x "$NODE" || die "could not unpack $CARRY/node.xz"
untar_xz "$CARRY/app.tar.xz" "$WORK" || die "could not unpack $CARRY/app.tar.xz"
APP=$WORK/app
say "node $("$NODE" --version), bundle unpacked in $(( $(date +%s) - START_S )) s into $APP"

# The Vulkan loader (and the GL dispatch libraries NVIDIA's Vulkan driver links against), when
# the host has none: into a private prefix (LD_LIBRARY_PATH), or with BENCH_LOADER_INTO_SYSTEM=1
# (root, on a throwaway host) unpacked over / and registered with ldconfig, the way the driver's
# own libraries are found.
# (grep reads all of ldconfig's output: with -q, ldconfig's SIGPIPE fails the pipeline under pipefail)
if ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1 ' >/dev/null; then
  say "Vulkan loader: the system's ($(ldconfig -p | grep -m1 'libvulkan\.so\.1 ' | awk '{print $NF}'))"
elif ls "$CARRY"/debs/*.deb >/dev/null 2>&1; then
  command -v dpkg-deb >/dev/null 2>&1 || die "no Vulkan loader here and no dpkg-deb to unpack $CARRY/debs"
  if [ "${BENCH_LOADER_INTO_SYSTEM:-0}" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "BENCH_LOADER_INTO_SYSTEM=1 needs root"
    for deb in "$CARRY"/debs/*.deb; do dpkg-deb -x "$deb" / || die "could not unpack $deb"; done
    ldconfig
    where="into the system"
  else
    for deb in "$CARRY"/debs/*.deb; do dpkg-deb -x "$deb" "$WORK/vk" || die "could not unpack $deb"; done
    export LD_LIBRARY_PATH=$WORK/vk/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    where="into $WORK/vk"
  fi
  say "Vulkan loader: carried, unpacked $where ($(ls "$CARRY"/debs | tr '\n' ' '))"
else
  die "no Vulkan loader (libvulkan.so.1) here and none carried in $CARRY/debs"
fi
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -z "${VK_ICD_FILENAMES:-}" ]; then
  for icd in $NVIDIA_ICD_CANDIDATES; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd; break; fi
  done
fi
say "VK_DRIVER_FILES=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-unset, the default search of the loader}}"
GPU_INFO=$WORK/gpu.txt
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$GPU_INFO" 2>&1
  say "nvidia-smi: $(head -n 4 "$GPU_INFO" | tr '\n' ';')"
else
  echo "no nvidia-smi" >"$GPU_INFO"
fi

ADAPTER_JSON=$WORK/adapter.json
"$NODE" "$HERE/adapter.mjs" "$APP/node_modules/webgpu/index.js" >"$ADAPTER_JSON" 2>>"$LOG" ||
  die "Dawn found no WebGPU adapter (see $LOG); check VK_DRIVER_FILES and that the driver's Vulkan libraries are present"
say "adapter: $(cat "$ADAPTER_JSON")"

SOFTWARE_FLAG=()
[ "${BENCH_ALLOW_SOFTWARE_ADAPTER:-0}" = 1 ] && SOFTWARE_FLAG=(--allow-software-adapter)
export DSDC_CACHE_DIR=$WORK/cache

# The seconds a run may take: its own cap, or what is left of the deadline; 0 when nothing is left.
run_budget() {
  local left=$(( DEADLINE_S - RESULTS_RESERVE_S - ($(date +%s) - START_S) ))
  [ "$left" -gt 0 ] || left=0
  [ "$1" -lt "$left" ] && echo "$1" || echo "$left"
}

for batch in $BATCHES; do
  budget=$(run_budget "$OURS_TIMEOUT_S")
  [ "$budget" -gt 0 ] || { say "ours at batch $batch: skipped, the ${DEADLINE_S} s deadline has passed"; continue; }
  say "ours: train --workers 1 --backend $BACKEND ${SOFTWARE_FLAG[*]} --max-steps $STEPS --batch-size $batch (at most $budget s)"
  # -k: train stops its workers on SIGTERM; a hung one is killed 10 s later.
  timeout -k 10 "$budget" "$NODE" "$APP/bin/dsdc-dist.js" train --workers 1 --backend "$BACKEND" "${SOFTWARE_FLAG[@]}" \
    --max-steps "$STEPS" --batch-size "$batch" --no-eval --checkpoint-every "$STEPS" \
    --data-dir "$CARRY/mnist" --run-dir "$WORK/run-$batch" --json \
    >"$WORK/ours-$batch.out" 2> >(tee -a "$LOG" "$WORK/ours-$batch.err" >&2)
  rc=$?
  tail -n 1 "$WORK/ours-$batch.out" | tee -a "$LOG"
  [ $rc = 0 ] || say "ours at batch $batch exited with $rc"
  [ -f "$WORK/run-$batch/metrics.jsonl" ] && cp "$WORK/run-$batch/metrics.jsonl" "$WORK/metrics-$batch.jsonl"

  budget=$(run_budget "$PEER_TIMEOUT_S")
  [ "$budget" -gt 0 ] || { say "peer at batch $batch: skipped, the ${DEADLINE_S} s deadline has passed"; continue; }
  say "peer: torch_ddp_reference.py --workers 1 --steps $STEPS --batch-size $batch --device $PEER_DEVICE (at most $budget s)"
  PYTHONUNBUFFERED=1 timeout -k 5 "$budget" "$PYTHON" "$CARRY/peer/torch_ddp_reference.py" --data-dir "$CARRY/mnist" \
    --workers 1 --steps "$STEPS" --batch-size "$batch" --device "$PEER_DEVICE" \
    >"$WORK/peer-$batch.out" 2> >(tee -a "$LOG" >&2)
  rc=$?
  tail -n 1 "$WORK/peer-$batch.out" | tee -a "$LOG"
  [ $rc = 0 ] || say "peer at batch $batch exited with $rc"
done

"$NODE" "$HERE/results.mjs" --work "$WORK" --out "$OUT_DIR" --steps "$STEPS" --batches "$BATCHES" \
  --peer-device "$PEER_DEVICE" --adapter "$ADAPTER_JSON" --gpu-info "$GPU_INFO" 2>&1 | tee -a "$LOG"
rc=${PIPESTATUS[0]}
say "done in $(( $(date +%s) - START_S )) s; results in $OUT_DIR"
rm -rf "$WORK"
exit "$rc"
