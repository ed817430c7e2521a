#!/usr/bin/env bash
# Builds the two variants of kernels/dsdc_kernels.c with Debian's clang/lld 16
# (apt-get install -y clang-16 lld-16; 16 is the first to emit relaxed SIMD's final opcodes):
#   dsdc_kernels.wasm      plain wasm SIMD (simd128), which every Node 20 runs
#   dsdc_kernels_fma.wasm  simd128 + relaxed-simd (every multiply-add one f32x4.relaxed_madd)
# and writes a sidecar <name>.wasm.json for each with the sha256 of the source, which
# test/ops/kernelArtefact.test.ts compares with the current source. Checks the two rules the C
# file states on each binary: no data segments, no use of the stack pointer.
set -euo pipefail
cd "$(dirname "$0")"
CLANG="${CLANG:-clang-16}"
OBJDUMP="${OBJDUMP:-llvm-objdump-16}"
SRC=dsdc_kernels.c
SHA="$(sha256sum "$SRC" | cut -d' ' -f1)"

build() {
  local out="$1"
  shift
  "$CLANG" --target=wasm32 -O3 -msimd128 "$@" -ffreestanding -fno-builtin -nostdlib \
    -Wall -Wextra -Werror \
    -Wl,--no-entry,--import-memory,--strip-all \
    -o "$out" "$SRC"
  local dump
  dump="$("$OBJDUMP" -d -h "$out")"
  if grep -qE '^\s+[0-9]+\s+DATA\b' <<<"$dump"; then echo "build.sh: $out has a data segment" >&2; exit 1; fi
  if grep -qE 'global\.(get|set)' <<<"$dump"; then echo "build.sh: $out uses a global (shadow stack)" >&2; exit 1; fi
  local wasm_sha
  wasm_sha="$(sha256sum "$out" | cut -d' ' -f1)"
  printf '{\n  "source": "%s",\n  "sourceSha256": "%s",\n  "wasmSha256": "%s",\n  "flags": "%s",\n  "compiler": "%s"\n}\n' \
    "$SRC" "$SHA" "$wasm_sha" "$(echo -msimd128 "$@")" "$("$CLANG" --version | head -1)" > "$out.json"
  echo "built $out ($(stat -c %s "$out") bytes)"
}

build dsdc_kernels.wasm
build dsdc_kernels_fma.wasm -mrelaxed-simd -DDSDC_RELAXED_SIMD
# The relaxed build must really use relaxed_madd (opcode 0xfd 0x105): a compiler that lowers it
# to a multiply and an add would make the variant pointless.
if ! grep -qE 'fd 85 02' <<<"$("$OBJDUMP" -d dsdc_kernels_fma.wasm)"; then
  echo "build.sh: dsdc_kernels_fma.wasm has no f32x4.relaxed_madd" >&2
  exit 1
fi
