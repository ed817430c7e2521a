#!/usr/bin/env bash
# Builds kernels/dsdc_kernels.wasm from kernels/dsdc_kernels.c with Debian's clang/lld
# (apt-get install -y clang lld) and writes the sidecar dsdc_kernels.wasm.json with the sha256
# of the source, which test/ops/kernelArtefact.test.ts compares with the current source.
# Checks the two rules the C file states: no data segments, no use of the stack pointer.
set -euo pipefail
cd "$(dirname "$0")"
CLANG="${CLANG:-clang}"
SRC=dsdc_kernels.c
OUT=dsdc_kernels.wasm
"$CLANG" --target=wasm32 -O3 -msimd128 -ffreestanding -fno-builtin -nostdlib \
  -Wall -Wextra -Werror \
  -Wl,--no-entry,--import-memory,--strip-all \
  -o "$OUT" "$SRC"
DUMP="$(llvm-objdump -d -h "$OUT" 2>/dev/null || llvm-objdump-14 -d -h "$OUT")"
if grep -qE '^\s+[0-9]+\s+DATA\b' <<<"$DUMP"; then echo "build.sh: $OUT has a data segment" >&2; exit 1; fi
if grep -qE 'global\.(get|set)' <<<"$DUMP"; then echo "build.sh: $OUT uses a global (shadow stack)" >&2; exit 1; fi
SHA="$(sha256sum "$SRC" | cut -d' ' -f1)"
WASM_SHA="$(sha256sum "$OUT" | cut -d' ' -f1)"
printf '{\n  "source": "%s",\n  "sourceSha256": "%s",\n  "wasmSha256": "%s",\n  "compiler": "%s"\n}\n' \
  "$SRC" "$SHA" "$WASM_SHA" "$("$CLANG" --version | head -1)" > "$OUT.json"
echo "built $OUT ($(stat -c %s "$OUT") bytes)"
